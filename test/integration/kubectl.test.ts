// Real kubectl v1.32 against a real apiserver process on a real etcd: the commands of the API
// foundation issue, with upstream's output and error messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl, kubectlStream } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

const podYaml = (name: string, labels: Record<string, string>, ns = 'default') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
${Object.entries(labels)
  .map(([a, b]) => `    ${a}: "${b}"`)
  .join('\n')}
spec:
  containers:
  - name: web
    image: nginx:1.25
    ports:
    - containerPort: 80
`;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('discovery and metadata', () => {
  it('kubectl version reports the server', async () => {
    const r = await k(['version', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.serverVersion.major).toBe('1');
    expect(v.serverVersion.minor).toBe('32');
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.32\./);
  });

  it('kubectl api-resources lists every group with short names and scope', async () => {
    const r = await k(['api-resources']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(r.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(r.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(r.stdout).toMatch(/^nodes\s+no\s+v1\s+false\s+Node$/m);
    expect(r.stdout).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    expect(r.stdout).toMatch(/^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m);
  });

  it('kubectl api-versions lists the group versions', async () => {
    const r = await k(['api-versions']);
    expect(r.code, r.stderr).toBe(0);
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'coordination.k8s.io/v1', 'discovery.k8s.io/v1', 'events.k8s.io/v1']) {
      expect(r.stdout.split('\n')).toContain(gv);
    }
  });

  it('kubectl get ns shows the bootstrapped namespaces', async () => {
    const r = await k(['get', 'ns']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+AGE$/m);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(r.stdout).toMatch(new RegExp(`^${ns}\\s+Active\\s+\\d+s$`, 'm'));
  });

  it('kubectl get componentstatuses probes etcd and the control plane, with the deprecation warning', async () => {
    const r = await k(['get', 'componentstatuses']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('Warning: v1 ComponentStatus is deprecated in v1.19+');
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+MESSAGE\s+ERROR$/m);
    expect(r.stdout).toMatch(/^etcd-0\s+Healthy\s+ok\s*$/m);
    // No scheduler or controller-manager runs in this test: they are probed and reported either way.
    expect(r.stdout).toMatch(/^scheduler\s+(Healthy|Unhealthy)\s/m);
    expect(r.stdout).toMatch(/^controller-manager\s+(Healthy|Unhealthy)\s/m);
    const one = await k(['get', 'cs', 'etcd-0', '-o', 'jsonpath={.conditions[0].status}']);
    expect(one.stdout).toBe('True');
    expect((await k(['get', 'cs', 'nope'])).stderr).toContain('Error from server (NotFound): componentstatuses "nope" not found');
  });

  it('the kubernetes service has 10.96.0.1 and endpoints', async () => {
    const r = await k(['get', 'svc', 'kubernetes', '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\d+s\s+<none>$/m);
    const ep = await k(['get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].ports[0].port}']);
    expect(ep.stdout).toBe(String(api.port));
  });
});

describe('create, get and output formats', () => {
  it('creates pods from a manifest and prints them the upstream way', async () => {
    const manifest = [podYaml('web-1', { app: 'web', env: 'prod', tier: 'fe' }), podYaml('web-2', { app: 'web', env: 'dev', tier: 'db' }), podYaml('web-3', { app: 'web', env: 'test', tier: 'fe' })].join('---\n');
    const r = await k(['create', '--validate=false', '-f', '-'], manifest);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['pod/web-1 created', 'pod/web-2 created', 'pod/web-3 created']);

    const get = await k(['get', 'pods']);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    expect(get.stdout).toMatch(/^web-1\s+0\/1\s+Pending\s+0\s+\d+s$/m);

    const wide = await k(['get', 'pods', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    expect(wide.stdout).toMatch(/^web-1\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
  });

  it('serves -o yaml, json, jsonpath and custom-columns with defaults applied', async () => {
    const y = await k(['get', 'pod', 'web-1', '-o', 'yaml']);
    expect(y.code, y.stderr).toBe(0);
    expect(y.stdout).toContain('restartPolicy: Always');
    expect(y.stdout).toContain('dnsPolicy: ClusterFirst');
    expect(y.stdout).toContain('terminationGracePeriodSeconds: 30');
    expect(y.stdout).toContain('imagePullPolicy: IfNotPresent');
    expect(y.stdout).toMatch(/uid: [0-9a-f-]{36}/);

    const j = JSON.parse((await k(['get', 'pod', 'web-1', '-o', 'json'])).stdout);
    expect(j.kind).toBe('Pod');
    expect(j.status.phase).toBe('Pending');
    expect(j.status.qosClass).toBe('BestEffort');
    expect(Number(j.metadata.resourceVersion)).toBeGreaterThan(0);

    const jp = await k(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.labels.env}{"\\n"}{end}']);
    expect(jp.stdout.trim().split('\n')).toEqual(['web-1 prod', 'web-2 dev', 'web-3 test']);

    const cc = await k(['get', 'pods', '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image']);
    expect(cc.stdout.split('\n')[0]).toMatch(/^NAME\s+IMAGE$/);
    expect(cc.stdout).toMatch(/^web-2\s+nginx:1\.25$/m);
  });

  it('--show-labels, set-based label selectors and field selectors', async () => {
    const sl = await k(['get', 'pods', '--show-labels']);
    expect(sl.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/m);
    expect(sl.stdout).toMatch(/^web-1\s.*app=web,env=prod,tier=fe$/m);

    const sel = await k(['get', 'pods', '-l', 'env in (prod,dev),tier!=db', '-o', 'name']);
    expect(sel.code, sel.stderr).toBe(0);
    expect(sel.stdout.trim()).toBe('pod/web-1');

    const fs = await k(['get', 'pods', '--field-selector', 'metadata.name=web-3,status.phase=Pending', '-o', 'name']);
    expect(fs.stdout.trim()).toBe('pod/web-3');

    const badField = await k(['get', 'pods', '--field-selector', 'spec.nope=x']);
    expect(badField.code).not.toBe(0);
    expect(badField.stderr).toContain('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.nope=x": field label not supported: spec.nope');
  });

  it('label and annotate change objects (merge patch)', async () => {
    expect((await k(['label', 'pods', 'web-2', 'color=red'])).stdout.trim()).toBe('pod/web-2 labeled');
    expect((await k(['annotate', 'pods', 'web-2', 'owner=team-a'])).stdout.trim()).toBe('pod/web-2 annotated');
    const got = JSON.parse((await k(['get', 'pod', 'web-2', '-o', 'json'])).stdout);
    expect(got.metadata.labels.color).toBe('red');
    expect(got.metadata.annotations.owner).toBe('team-a');
    const overwrite = await k(['label', 'pods', 'web-2', 'color=blue']);
    expect(overwrite.code).not.toBe(0);
    expect(overwrite.stderr).toContain("'color' already has a value (red), and --overwrite is false");
    expect((await k(['label', 'pods', 'web-2', 'color-'])).stdout.trim()).toBe('pod/web-2 unlabeled');
  });

  it('replace with a stale resourceVersion fails with Conflict', async () => {
    const stale = (await k(['get', 'pod', 'web-3', '-o', 'yaml'])).stdout;
    expect((await k(['label', 'pods', 'web-3', 'bump=1'])).code).toBe(0);
    const r = await k(['replace', '--validate=false', '-f', '-'], stale);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on pods "web-3": the object has been modified; please apply your changes to the latest version and try again',
    );
    // With the fresh version, replace works.
    const fresh = (await k(['get', 'pod', 'web-3', '-o', 'yaml'])).stdout.replace('bump: "1"', 'bump: "2"');
    const ok = await k(['replace', '--validate=false', '-f', '-'], fresh);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('pod/web-3 replaced');
  });

  it('errors come back in upstream form', async () => {
    const nf = await k(['get', 'pod', 'nope']);
    expect(nf.code).not.toBe(0);
    expect(nf.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    const dup = await k(['create', '--validate=false', '-f', '-'], podYaml('web-1', { app: 'web' }));
    expect(dup.stderr.trim()).toBe('Error from server (AlreadyExists): error when creating "STDIN": pods "web-1" already exists');
    const noNs = await k(['create', '--validate=false', '-f', '-'], podYaml('x', { app: 'web' }, 'missing-ns'));
    expect(noNs.stderr.trim()).toBe('Error from server (NotFound): error when creating "STDIN": namespaces "missing-ns" not found');
    const bad = await k(['create', '--validate=false', '-f', '-'], podYaml('Bad_Name', { app: 'web' }));
    expect(bad.stderr).toContain('The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of');
  });

  it('get pods -w sees ADDED, MODIFIED and DELETED', async () => {
    const w = kubectlStream(api.kubeconfig, ['get', 'pods', '-w', '--output-watch-events', '-l', 'app=watched']);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect((await k(['create', '--validate=false', '-f', '-'], podYaml('watched', { app: 'watched' }))).code).toBe(0);
      await w.waitFor(/^ADDED\s+watched\s+0\/1\s+Pending/m);
      expect((await k(['label', 'pod', 'watched', 'x=y'])).code).toBe(0);
      await w.waitFor(/^MODIFIED\s+watched\s/m);
      expect((await k(['delete', 'pod', 'watched'])).stdout.trim()).toBe('pod "watched" deleted');
      await w.waitFor(/^DELETED\s+watched\s/m);
      expect(w.stdout.split('\n')[0]).toMatch(/^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    } finally {
      await w.stop();
    }
  });

  it('delete removes objects, by name and by selector', async () => {
    const r = await k(['delete', 'pod', 'web-1']);
    expect(r.stdout.trim()).toBe('pod "web-1" deleted');
    const sel = await k(['delete', 'pods', '-l', 'app=web']);
    expect(sel.code, sel.stderr).toBe(0);
    const left = await k(['get', 'pods']);
    expect(left.stderr.trim()).toBe('No resources found in default namespace.');
  });

  it('kubectl create <kind> generators (protobuf request bodies) and kubectl run', async () => {
    const cmds: [string[], string][] = [
      [['create', 'deployment', 'gen-web', '--image=nginx:1.25', '--replicas=2', '--port=80'], 'deployment.apps/gen-web created'],
      [['create', 'configmap', 'gen-cm', '--from-literal=a=1', '--from-literal=b=2'], 'configmap/gen-cm created'],
      [['create', 'secret', 'generic', 'gen-secret', '--from-literal=password=s3cret'], 'secret/gen-secret created'],
      [['create', 'service', 'nodeport', 'gen-svc', '--tcp=80:8080'], 'service/gen-svc created'],
      [['create', 'serviceaccount', 'gen-sa'], 'serviceaccount/gen-sa created'],
      [['create', 'job', 'gen-job', '--image=busybox', '--', 'echo', 'hi'], 'job.batch/gen-job created'],
      [['run', 'gen-pod', '--image=busybox', '--restart=Never', '--labels=run=gen-pod'], 'pod/gen-pod created'],
    ];
    for (const [args, want] of cmds) {
      const r = await k(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.stdout.trim()).toBe(want);
    }
    const d = JSON.parse((await k(['get', 'deploy', 'gen-web', '-o', 'json'])).stdout);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect((await k(['get', 'secret', 'gen-secret', '-o', 'jsonpath={.data.password}'])).stdout).toBe(Buffer.from('s3cret').toString('base64'));
    const svc = JSON.parse((await k(['get', 'svc', 'gen-svc', '-o', 'json'])).stdout);
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
    expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    const deploys = await k(['get', 'deployments']);
    expect(deploys.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    expect(deploys.stdout).toMatch(/^gen-web\s+0\/2\s+0\s+0\s+\d+s$/m);
  });

  it('namespaces: create, use, and terminate (finalizer kept until the controller runs)', async () => {
    expect((await k(['create', 'namespace', 'team-a'])).stdout.trim()).toBe('namespace/team-a created');
    expect((await k(['create', '--validate=false', '-f', '-'], podYaml('p', { a: 'b' }, 'team-a'))).code).toBe(0);
    expect((await k(['get', 'pods', '-n', 'team-a', '-o', 'name'])).stdout.trim()).toBe('pod/p');
    const del = await k(['delete', 'namespace', 'team-a', '--wait=false']);
    expect(del.stdout.trim()).toBe('namespace "team-a" deleted');
    expect((await k(['get', 'ns', 'team-a', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Terminating');
    const blocked = await k(['create', '--validate=false', '-f', '-'], podYaml('q', { a: 'b' }, 'team-a'));
    expect(blocked.stderr.trim()).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "q" is forbidden: unable to create new content in namespace team-a because it is being terminated',
    );
    const protectedNs = await k(['delete', 'namespace', 'default', '--wait=false']);
    expect(protectedNs.stderr.trim()).toBe('Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted');
  });
});
