// kubectl's write path: scale, dry run, patch types, apply, edit, diff, explain, field validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

const deployment = (name: string, replicas = 1, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: web
        image: ${image}
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

describe('scale subresource', () => {
  it('kubectl scale changes spec.replicas through /scale', async () => {
    expect((await k(['create', '--validate=false', '-f', '-'], deployment('sc', 1))).code).toBe(0);
    const r = await k(['scale', 'deployment', 'sc', '--replicas=4']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/sc scaled');
    expect((await k(['get', 'deploy', 'sc', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('4');
    const scale = (await api.request('GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale')).json;
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { replicas: 0, selector: 'app=sc' } });
    const stale = await k(['scale', 'deployment', 'sc', '--replicas=2', '--current-replicas=3']);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('Expected replicas to be 3, was 4');
  });
});

describe('dry run', () => {
  it('create --dry-run=server returns the defaulted object and stores nothing', async () => {
    const r = await k(['create', '--validate=false', '--dry-run=server', '-o', 'yaml', '-f', '-'], deployment('dry', 2));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('revisionHistoryLimit: 10');
    expect(r.stdout).toContain('uid:');
    const get = await k(['get', 'deploy', 'dry']);
    expect(get.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "dry" not found');
  });

  it('a dry-run Service allocates nothing', async () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: dry-svc\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30123\n';
    expect((await k(['create', '--validate=false', '--dry-run=server', '-f', '-'], svc)).code).toBe(0);
    const real = await k(['create', '--validate=false', '-f', '-'], svc);
    expect(real.code, real.stderr).toBe(0);
  });
});

describe('kubectl apply (client-side, strategic merge patch)', () => {
  it('creates, changes, removes a field, and re-applies as a no-op', async () => {
    const v1 = deployment('ap', 2).replace('        ports:\n        - containerPort: 80\n', '        ports:\n        - containerPort: 80\n        env:\n        - name: MODE\n          value: blue\n');
    const created = await k(['apply', '-f', '-'], v1);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('deployment.apps/ap created');
    const same = await k(['apply', '-f', '-'], v1);
    expect(same.stdout.trim()).toBe('deployment.apps/ap unchanged');
    const rvBefore = (await k(['get', 'deploy', 'ap', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
    // Change the image and drop the env var: the env list must lose MODE, the image must change.
    const v2 = deployment('ap', 3, 'nginx:1.27');
    const changed = await k(['apply', '-f', '-'], v2);
    expect(changed.stdout.trim()).toBe('deployment.apps/ap configured');
    const d = JSON.parse((await k(['get', 'deploy', 'ap', '-o', 'json', '--show-managed-fields'])).stdout);
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(d.spec.template.spec.containers[0].env).toBeUndefined();
    expect(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('nginx:1.27');
    expect(Number(d.metadata.resourceVersion)).toBeGreaterThan(Number(rvBefore));
    expect(d.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain('kubectl-client-side-apply');
  });

  it('rejects a manifest with an unknown field under default (strict) validation', async () => {
    const bad = deployment('typo').replace('image: nginx:1.25', 'image: nginx:1.25\n        imagePullPolicyy: Always');
    const r = await k(['apply', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    const warn = await k(['create', '--validate=warn', '-f', '-'], bad);
    expect(warn.code, warn.stderr).toBe(0);
    expect(warn.stderr).toContain('unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
  });
});

describe('server-side apply', () => {
  it('tracks managers, reports conflicts and honours --force-conflicts', async () => {
    const r = await k(['apply', '--server-side', '-f', '-'], deployment('ssa', 2));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/ssa serverside-applied');
    // Another manager takes spec.replicas.
    const other = await k(['apply', '--server-side', '--field-manager=autoscaler', '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\nspec:\n  replicas: 5\n');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    const forced = await k(['apply', '--server-side', '--field-manager=autoscaler', '--force-conflicts', '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\nspec:\n  replicas: 5\n');
    expect(forced.code, forced.stderr).toBe(0);
    const d = JSON.parse((await k(['get', 'deploy', 'ssa', '-o', 'json', '--show-managed-fields'])).stdout);
    expect(d.spec.replicas).toBe(5);
    const managers = d.metadata.managedFields.map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`);
    expect(managers).toEqual(expect.arrayContaining(['kubectl/Apply', 'autoscaler/Apply']));
  });
});

describe('patch, edit, diff, explain', () => {
  it('kubectl patch --type json|merge|strategic', async () => {
    expect((await k(['create', '--validate=false', '-f', '-'], deployment('pt', 1))).code).toBe(0);
    const s = await k(['patch', 'deployment', 'pt', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}']);
    expect(s.stdout.trim()).toBe('deployment.apps/pt patched');
    const m = await k(['patch', 'deployment', 'pt', '--type', 'merge', '-p', '{"metadata":{"labels":{"tier":"web"}}}']);
    expect(m.stdout.trim()).toBe('deployment.apps/pt patched');
    const j = await k(['patch', 'deployment', 'pt', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]']);
    expect(j.stdout.trim()).toBe('deployment.apps/pt patched');
    const d = JSON.parse((await k(['get', 'deploy', 'pt', '-o', 'json'])).stdout);
    // Strategic merge: containers merged by name, not replaced.
    expect(d.spec.template.spec.containers.map((c: { name: string }) => c.name).sort()).toEqual(['sidecar', 'web']);
    expect(d.metadata.labels.tier).toBe('web');
    expect(d.spec.replicas).toBe(3);
    const noop = await k(['patch', 'deployment', 'pt', '--type', 'merge', '-p', '{"spec":{"replicas":3}}']);
    expect(noop.stdout.trim()).toBe('deployment.apps/pt patched (no change)');
  });

  it('kubectl edit with an EDITOR script', async () => {
    const editor = `sh -c 'sed -i "s/replicas: 3/replicas: 6/" "$1"' --`;
    const r = await kubectl(api.kubeconfig, ['edit', 'deployment', 'pt'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/pt edited');
    expect((await k(['get', 'deploy', 'pt', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('6');
  });

  it('kubectl diff shows the change a manifest would make, and stores nothing', async () => {
    const r = await k(['diff', '-f', '-'], deployment('pt', 9));
    expect(r.code).toBe(1); // 1 = differences found
    expect(r.stdout).toMatch(/^-\s+replicas: 6$/m);
    expect(r.stdout).toMatch(/^\+\s+replicas: 9$/m);
    expect((await k(['get', 'deploy', 'pt', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('6');
  });

  it('kubectl explain reads the OpenAPI documents', async () => {
    const probe = await k(['explain', 'pod.spec.containers.livenessProbe']);
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toMatch(/^KIND:\s+Pod$/m);
    expect(probe.stdout).toMatch(/^FIELD: livenessProbe <Probe>$/m);
    expect(probe.stdout).toMatch(/^\s+httpGet\s+<HTTPGetAction>$/m);
    const rec = await k(['explain', 'deployment', '--recursive']);
    expect(rec.stdout).toMatch(/^GROUP:\s+apps$/m);
    expect(rec.stdout).toMatch(/containers\s+<\[\]Container> -required-/);
  });
});
