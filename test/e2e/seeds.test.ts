// End to end: the seed notes' workflows as their reader runs them, on a three-node lab with the real kubectl and, for
// the files the seeds' commands name, Kubelab's own manifests standing for them (test/e2e/seeds/): the kuard pod with
// probes and resources (Kubernetes: Up and Running, seed 000), labels and selectors, the nginx Deployment's rolling
// update and undo, ClusterIP and NodePort Services found through DNS (seeds 000, 002), the kuard-config ConfigMap and
// Secrets as environment and volumes, a Job and a CronJob, a DaemonSet on every node, a StatefulSet started in order,
// namespaces and the course's ResourceQuota (seed 002), RBAC with `kubectl auth can-i --as` (seed 001),
// logs/exec/port-forward/top, and a node whose kubelet stops with its Deployment's pods replaced elsewhere (last:
// the slowest). Objects no seed command names a file for (the CronJob, the Job, the DaemonSet, the StatefulSet,
// the RBAC Role) are inline, each saying what it stands for. Other e2e files test each piece in depth; this one
// walks the seeds' flow. Needs root; skipped otherwise.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlStream } from '../fixtures/kubectl.js';
import { alive, isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { freePort } from '../fixtures/ports.js';
import { until } from '../fixtures/wait.js';

const SEEDS = join(dirname(fileURLToPath(import.meta.url)), 'seeds');
const seed = (path: string) => join(SEEDS, path);

let lab: Lab;
const timings: Record<string, number> = {};

/** kubectl ARGS, which must succeed: its stdout. */
async function ok(args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const r = await lab.k(args, input, timeoutMs);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `kubectl exec POD -- sh -c SCRIPT`: its stdout. */
const sh = (pod: string, script: string) => ok(['exec', pod, '--', 'sh', '-c', script]);

const jsonpath = (args: string[], path: string) => ok([...args, '-o', `jsonpath=${path}`]);

/** Names of the pods a selector matches (`kubectl get pods -l SELECTOR -o name`), sorted. */
async function podNames(selector: string, namespace = 'default'): Promise<string[]> {
  const out = await ok(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name']);
  return out.split('\n').filter(Boolean).map((n) => n.replace('pod/', '')).sort();
}

interface PodJSON {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

async function pods(selector: string, namespace = 'default'): Promise<PodJSON[]> {
  return (JSON.parse(await ok(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: PodJSON[] }).items;
}

const ready = (p: PodJSON) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** `kubectl exec POD -- nslookup NAME`'s answer addresses (after "Name:"; the server's own address comes first). */
async function lookup(pod: string, name: string): Promise<string[]> {
  const out = await ok(['exec', pod, '--', 'nslookup', name]);
  const at = out.indexOf('Name:');
  return at < 0 ? [] : [...new Set([...out.slice(at).matchAll(/^Address(?: \d+)?:\s+([0-9.]+)$/gm)].map((m) => m[1]!))].sort();
}

const HTTP_GET = (path = '/') => `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n'`;

async function httpFromHost(url: string): Promise<string> {
  return until(`${url} to answer`, async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok && (await res.text());
  }, 30_000);
}

/** A busybox pod to run nslookup and nc from, as the seeds' `kubectl run -i --tty busybox --image=busybox`. */
const CLIENT = 'client';

/** A CronJob as in kubernetes.io's "Running Automated Tasks with a CronJob" (seed 003 names CronJobs): every minute, a
 * busybox Job that says hello. */
const CRONJOB = `
apiVersion: batch/v1
kind: CronJob
metadata: { name: hello }
spec:
  schedule: '* * * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: hello
            image: busybox:1.28
            command: [sh, -c, 'echo "hello from $(hostname), run by the CronJob hello"']
`;

describe.skipIf(!isRoot)("the seed notes' workflows on a three-node lab", () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `sd${process.pid % 1000}-`, indexBase: 190, clusterCIDR: '10.246.0.0/16', nodes: 3 });
    timings['hack/lab up --nodes 3'] = Date.now() - began;
    // The CronJob fires on the minute: created now, its first run happens while the tests before its own run.
    expect(await ok(['apply', '-f', '-'], CRONJOB)).toBe('cronjob.batch/hello created\n');
    expect(await ok(['run', CLIENT, '--image=busybox', '--restart=Never', '--', 'sleep', '3600'])).toBe(`pod/${CLIENT} created\n`);
  }, 480_000);

  afterAll(async () => {
    if (!lab) return;
    console.log(`seeds e2e timings (ms): ${JSON.stringify(timings)}`);
    await lab.down();
  }, 180_000);

  it('shows the cluster as the book\'s first commands do: version, 3 Ready nodes, describe node', async () => {
    expect(await ok(['version'])).toMatch(/^Server Version: v1\.32\.\d+(-\S+)?$/m);
    const nodes = await ok(['get', 'nodes']);
    for (const n of lab.nodes) expect(nodes).toMatch(new RegExp(`^${n}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.\\d+$`, 'm'));
    const described = await ok(['describe', 'nodes', lab.nodes[0]!]);
    expect(described).toMatch(new RegExp(`^Name:\\s+${lab.nodes[0]}$`, 'm'));
    expect(described).toMatch(/^Capacity:\n\s+cpu:\s+\d+\n/m);
    expect(described).toMatch(/^\s+InternalIP:\s+172\.30\.0\.201$/m);
  });

  it('runs the kuard pod with its liveness probe, then with resource requests and limits (kuard-pod-health, -reslim)', async () => {
    const began = Date.now();
    expect(await ok(['apply', '-f', seed('seed-000/5-2-kuard-pod-health.yaml')])).toBe('pod/kuard created\n');
    expect(await ok(['wait', '--for=condition=Ready', 'pod/kuard', '--timeout=120s'], undefined, 130_000)).toBe('pod/kuard condition met\n');
    timings['kuard apply -> Ready'] = Date.now() - began;
    expect((await ok(['get', 'pods', 'kuard'])).split('\n')[1]).toMatch(/^kuard\s+1\/1\s+Running\s+0\s+\S+$/);
    expect(await ok(['describe', 'pods', 'kuard'])).toMatch(/^\s+Liveness:\s+http-get http:\/\/:8080\/healthy delay=5s timeout=1s period=10s #success=1 #failure=3$/m);
    // The kubelet probes /healthy every 10 s after the first 5 (kuard logs each request).
    await until('a liveness probe in kuard\'s log', async () => (await ok(['logs', 'kuard'])).includes('GET /healthy 200'), 60_000);

    // As the book: delete the pod, apply the version with requests and limits.
    expect(await ok(['delete', 'pods/kuard'])).toBe('pod "kuard" deleted\n');
    expect(await ok(['apply', '-f', seed('seed-000/5-4-kuard-pod-reslim.yaml')])).toBe('pod/kuard created\n');
    await ok(['wait', '--for=condition=Ready', 'pod/kuard', '--timeout=120s'], undefined, 130_000);
    const described = await ok(['describe', 'pods', 'kuard']);
    expect(described).toMatch(/^\s+Image:\s+gcr\.io\/kuar-demo\/kuard-amd64:blue$/m);
    expect(described).toMatch(/^\s+Limits:\n\s+cpu:\s+1\n\s+memory:\s+256Mi\n\s+Requests:\n\s+cpu:\s+500m\n\s+memory:\s+128Mi$/m);
    expect(described).toMatch(/^QoS Class:\s+Burstable$/m);
    // The limit reaches the container's cgroup.
    expect(await sh('kuard', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')).toBe('268435456\n');
    // The scheduler counts the request on the pod's node.
    const node = await jsonpath(['get', 'pod', 'kuard'], '{.spec.nodeName}');
    expect(await ok(['describe', 'node', node])).toMatch(/^\s+default\s+kuard\s+500m \(\d+%\)\s+1 \(\d+%\)\s+128Mi \(\d+%\)\s+256Mi \(\d+%\)\s/m);
  });

  it('selects pods by label: --show-labels, equality and set-based --selector, label --overwrite, -L', async () => {
    // Seed 000's `kubectl run alpaca-prod ... --replicas=3` is gone from kubectl (v1.18+): the client refuses it.
    const old = await lab.k(['run', 'alpaca-prod', '--image=gcr.io/kuar-demo/kuard-amd64:blue', '--replicas=3', '--port=8080', '--labels=ver=1,app=alpaca,env=prod']);
    expect(old.stderr).toContain('unknown flag: --replicas');
    const runs: [string, string, string][] = [
      ['alpaca-prod', 'blue', 'ver=1,app=alpaca,env=prod'],
      ['alpaca-test', 'green', 'ver=2,app=alpaca,env=test'],
      ['bandicoot-prod', 'green', 'ver=2,app=bandicoot,env=prod'],
      ['bandicoot-staging', 'green', 'ver=2,app=bandicoot,env=staging'],
    ];
    for (const [name, tag, labels] of runs) {
      expect(await ok(['run', name, `--image=gcr.io/kuar-demo/kuard-amd64:${tag}`, '--port=8080', `--labels=${labels}`])).toBe(`pod/${name} created\n`);
    }
    const shown = await ok(['get', 'pods', '--show-labels']);
    expect(shown.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/);
    expect(shown).toMatch(/^alpaca-prod\s+.*\sapp=alpaca,env=prod,ver=1$/m);
    expect(shown).toMatch(/^bandicoot-staging\s+.*\sapp=bandicoot,env=staging,ver=2$/m);

    expect(await podNames('ver=2')).toEqual(['alpaca-test', 'bandicoot-prod', 'bandicoot-staging']);
    expect((await ok(['get', 'pods', '--selector=app=bandicoot,ver=2', '-o', 'name'])).trim().split('\n').sort()).toEqual(['pod/bandicoot-prod', 'pod/bandicoot-staging']);
    expect(await podNames('app in (alpaca,bandicoot)')).toEqual(['alpaca-prod', 'alpaca-test', 'bandicoot-prod', 'bandicoot-staging']);
    expect(await podNames('app in (alpaca,bandicoot),env notin (prod)')).toEqual(['alpaca-test', 'bandicoot-staging']);
    expect(await podNames('app=alpaca,ver!=2')).toEqual(['alpaca-prod']);

    expect(await ok(['label', 'pods', 'alpaca-test', 'canary=true'])).toBe('pod/alpaca-test labeled\n');
    expect(await podNames('canary')).toEqual(['alpaca-test']);
    expect(await podNames('app,!canary')).toEqual(['alpaca-prod', 'bandicoot-prod', 'bandicoot-staging']);
    const columns = await ok(['get', 'pods', '-l', 'app=alpaca', '-L', 'canary']);
    expect(columns.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+CANARY$/);
    expect(columns).toMatch(/^alpaca-test\s+.*\strue$/m);

    // A label that has a value changes only with --overwrite.
    const refused = await lab.k(['label', 'pods', 'alpaca-test', 'ver=3']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("'ver' already has a value (2), and --overwrite is false");
    expect(await ok(['label', '--overwrite', 'pods', 'alpaca-test', 'ver=3'])).toBe('pod/alpaca-test labeled\n');
    expect(await podNames('ver=3')).toEqual(['alpaca-test']);
    expect(await ok(['label', 'pods', 'alpaca-test', 'canary-'])).toBe('pod/alpaca-test unlabeled\n');
    expect(await podNames('canary')).toEqual([]);

    await ok(['delete', 'pods', '-l', 'app in (alpaca,bandicoot)', '--wait=false']);

    // Seed 002: a Deployment whose pods select a node label (helloworld-nodeselector.yml) stays Pending until a node
    // is labelled, then all its pods run there.
    expect(await ok(['create', '-f', seed('seed-002/k8s/deployment/helloworld-nodeselector.yml')])).toBe('deployment.apps/helloworld-deployment created\n');
    await until('3 unschedulable pods', async () => {
      const p = await pods('app=helloworld');
      return p.length === 3 && p.every((x) => x.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
    }, 60_000);
    const pending = (await pods('app=helloworld'))[0]!.metadata.name;
    expect(await ok(['describe', 'pod', pending])).toMatch(
      /Warning\s+FailedScheduling\s+.*0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./,
    );
    const target = lab.nodes[1]!;
    expect(await ok(['label', 'nodes', target, 'hardware=high-spec'])).toBe(`node/${target} labeled\n`);
    expect(await ok(['get', 'nodes', '--show-labels'])).toMatch(new RegExp(`^${target}\\s+Ready\\s.*\\bhardware=high-spec\\b`, 'm'));
    await ok(['rollout', 'status', 'deployment/helloworld-deployment', '--timeout=120s'], undefined, 130_000);
    expect([...new Set((await pods('app=helloworld')).filter(ready).map((p) => p.spec.nodeName))]).toEqual([target]);
    expect(await ok(['label', 'nodes', target, 'hardware-'])).toBe(`node/${target} unlabeled\n`);
    await ok(['delete', 'deployment', 'helloworld-deployment']);
  });

  it('rolls the nginx Deployment to a new image and back: set image, apply, rollout status/history/undo', async () => {
    const began = Date.now();
    expect(await ok(['apply', '-f', seed('seed-001/nginx-deployment.yaml')])).toBe('deployment.apps/nginx-deployment created\n');
    const status = () => ok(['rollout', 'status', 'deployment/nginx-deployment', '--timeout=120s'], undefined, 130_000);
    expect(await status()).toContain('deployment "nginx-deployment" successfully rolled out');
    timings['nginx-deployment apply -> rolled out'] = Date.now() - began;
    expect(await ok(['get', 'deployments'])).toMatch(/^nginx-deployment\s+3\/3\s+3\s+3\s+\S+$/m);
    const image = () => jsonpath(['get', 'deployment', 'nginx-deployment'], '{.spec.template.spec.containers[0].image}');
    const podImages = async () => {
      const items = (await pods('app=nginx')).filter((p) => !p.metadata.deletionTimestamp) as unknown as { spec: { containers: { image: string }[] } }[];
      return items.map((p) => p.spec.containers[0]!.image);
    };

    expect(await ok(['set', 'image', 'deployment/nginx-deployment', 'nginx=nginx:1.16.1'])).toBe('deployment.apps/nginx-deployment image updated\n');
    expect(await status()).toContain('successfully rolled out');
    expect(await ok(['annotate', 'deployment/nginx-deployment', 'kubernetes.io/change-cause=image updated to 1.16.1'])).toBe(
      'deployment.apps/nginx-deployment annotated\n',
    );
    // The old ReplicaSet stays, scaled to 0, for a rollback.
    const rs = (await ok(['get', 'rs', '-l', 'app=nginx'])).split('\n').slice(1).filter(Boolean);
    expect(rs).toHaveLength(2);
    expect(rs.filter((l) => /^nginx-deployment-\S+\s+3\s+3\s+3\s/.test(l))).toHaveLength(1);
    expect(rs.filter((l) => /^nginx-deployment-\S+\s+0\s+0\s+0\s/.test(l))).toHaveLength(1);

    // A new version of the manifest, applied.
    const v3 = readFileSync(seed('seed-001/nginx-deployment.yaml'), 'utf8').replace('image: nginx:1.15.11', 'image: nginx:1.25');
    expect(v3).toContain('image: nginx:1.25\n');
    expect(await ok(['apply', '-f', '-'], v3)).toBe('deployment.apps/nginx-deployment configured\n');
    expect(await status()).toContain('successfully rolled out');
    await until('3 pods of nginx:1.25', async () => {
      const images = await podImages();
      return images.length === 3 && images.every((i) => i === 'nginx:1.25');
    }, 60_000);
    const history = await ok(['rollout', 'history', 'deployment/nginx-deployment']);
    expect(history).toMatch(/^deployment\.apps\/nginx-deployment $/m);
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE$/m);
    expect(history).toMatch(/^1\s+<none>$/m);
    expect(history).toMatch(/^2\s+image updated to 1\.16\.1$/m);
    expect(history).toMatch(/^3\s+/m);
    expect(await ok(['rollout', 'history', 'deployment/nginx-deployment', '--revision=1'])).toMatch(/^\s+Image:\s+nginx:1\.15\.11$/m);

    expect(await ok(['rollout', 'undo', 'deployment/nginx-deployment'])).toBe('deployment.apps/nginx-deployment rolled back\n');
    expect(await status()).toContain('successfully rolled out');
    expect(await image()).toBe('nginx:1.16.1');
    // The undone revision 2 comes back as revision 4.
    const after = await ok(['rollout', 'history', 'deployment/nginx-deployment']);
    const revisions = after.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    const rsTemplates = await ok(['get', 'rs', '-l', 'app=nginx', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations} {.spec.template.metadata}{"\\n"}{end}']);
    const deployTemplate = await jsonpath(['get', 'deployment', 'nginx-deployment'], '{.spec.template.metadata}');
    expect(revisions, `${after}\nReplicaSets:\n${rsTemplates}\nDeployment template metadata: ${deployTemplate}`).toEqual(['1', '3', '4']);
    expect(await ok(['rollout', 'undo', 'deployment/nginx-deployment', '--to-revision=1'])).toBe('deployment.apps/nginx-deployment rolled back\n');
    expect(await status()).toContain('successfully rolled out');
    await until('3 pods of nginx:1.15.11', async () => {
      const images = await podImages();
      return images.length === 3 && images.every((i) => i === 'nginx:1.15.11');
    }, 60_000);
    timings['nginx-deployment rollouts'] = Date.now() - began;
    await ok(['delete', 'deployment', 'nginx-deployment']);
  });

  it('finds ClusterIP and NodePort Services through the cluster DNS from a pod, and on every node', async () => {
    const began = Date.now();
    expect(await ok(['create', 'deployment', 'alpaca-prod', '--image=gcr.io/kuar-demo/kuard-amd64:blue', '--port=8080', '--replicas=3'])).toBe(
      'deployment.apps/alpaca-prod created\n',
    );
    expect(await ok(['expose', 'deployment', 'alpaca-prod'])).toBe('service/alpaca-prod exposed\n');
    await ok(['rollout', 'status', 'deployment/alpaca-prod', '--timeout=120s'], undefined, 130_000);
    const ip = await jsonpath(['get', 'service', 'alpaca-prod'], '{.spec.clusterIP}');
    expect(await ok(['get', 'services', '-o', 'wide'])).toMatch(new RegExp(`^alpaca-prod\\s+ClusterIP\\s+${ip.replaceAll('.', '\\.')}\\s+<none>\\s+8080/TCP\\s+\\S+\\s+app=alpaca-prod$`, 'm'));
    const podIPs = (await pods('app=alpaca-prod')).map((p) => p.status.podIP).sort();
    const endpoints = await until('3 endpoints', async () => {
      const out = await ok(['get', 'endpoints', 'alpaca-prod']);
      return podIPs.every((p) => out.includes(`${p}:8080`)) && out;
    }, 30_000);
    expect(endpoints).toMatch(/^alpaca-prod\s+\S+:8080,\S+:8080,\S+:8080\s+\S+$/m);

    await ok(['wait', '--for=condition=Ready', `pod/${CLIENT}`, '--timeout=60s'], undefined, 70_000);
    for (const name of ['alpaca-prod', 'alpaca-prod.default', 'alpaca-prod.default.svc.cluster.local']) {
      expect(await lookup(CLIENT, name), name).toEqual([ip]);
    }
    expect(await sh(CLIENT, `${HTTP_GET()} | nc -w 3 alpaca-prod 8080 | head -n 1`)).toMatch(/^HTTP\/1\.[01] 200/);
    timings['alpaca-prod: create -> answering by name'] = Date.now() - began;

    // A NodePort: every node forwards the port to the Service.
    expect(await ok(['patch', 'service', 'alpaca-prod', '-p', '{"spec":{"type":"NodePort"}}'])).toBe('service/alpaca-prod patched\n');
    const nodePort = Number(await jsonpath(['get', 'service', 'alpaca-prod'], '{.spec.ports[0].nodePort}'));
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    for (const node of lab.nodes) expect(await httpFromHost(`http://${lab.nodeIP(node)}:${nodePort}/`)).toContain('KUAR Demo');

    // Seed 002's first app: a pod and a NodePort Service on the fixed port 31001, to the pod's named port.
    expect(await ok(['create', '-f', seed('seed-002/k8s/first-app/helloworld.yml')])).toBe('pod/nodehelloworld.example.com created\n');
    expect(await ok(['create', '-f', seed('seed-002/k8s/first-app/helloworld-nodeport-service.yml')])).toBe('service/helloworld-service created\n');
    await ok(['wait', '--for=condition=Ready', 'pod/nodehelloworld.example.com', '--timeout=120s'], undefined, 130_000);
    const described = await ok(['describe', 'svc', 'helloworld-service']);
    expect(described).toMatch(/^Type:\s+NodePort$/m);
    expect(described).toMatch(/^NodePort:\s+<unset>\s+31001\/TCP$/m);
    const helloIP = await jsonpath(['get', 'pod', 'nodehelloworld.example.com'], '{.status.podIP}');
    expect(described).toMatch(new RegExp(`^Endpoints:\\s+${helloIP.replaceAll('.', '\\.')}:3000$`, 'm'));
    for (const node of lab.nodes) expect(await httpFromHost(`http://${lab.nodeIP(node)}:31001/`)).toContain('Hello World!');
    expect(await sh(CLIENT, `${HTTP_GET()} | nc -w 3 helloworld-service 31001`)).toContain('Hello World!');

    // Seed 000's `kubectl get endpoints alpaca-prod --watch`: the addresses follow the ready replicas.
    const watch = kubectlStream(lab.kubeconfig, ['get', 'endpoints', 'alpaca-prod', '--watch']);
    try {
      await watch.waitFor(/^alpaca-prod\s+[0-9.]+:8080,[0-9.]+:8080,[0-9.]+:8080\s+\S+$/m);
      expect(await ok(['scale', 'deployment', 'alpaca-prod', '--replicas=1'])).toBe('deployment.apps/alpaca-prod scaled\n');
      await watch.waitFor(/^alpaca-prod\s+[0-9.]+:8080\s+\S+$/m, 30_000);
    } finally {
      await watch.stop();
    }
    await ok(['delete', 'deployment', 'alpaca-prod', '--wait=false']);
  });

  it('passes the kuard-config ConfigMap as environment, command argument and files; Secrets as files and environment', async () => {
    const began = Date.now();
    const created = await ok([
      'create',
      'configmap',
      'my-config',
      `--from-file=${seed('seed-000/my-config.txt')}`,
      '--from-literal=extra-param=extra-value',
      '--from-literal=another-param=another-value',
    ]);
    expect(created).toBe('configmap/my-config created\n');
    const config = readFileSync(seed('seed-000/my-config.txt'), 'utf8');
    const yaml = await ok(['get', 'configmaps', 'my-config', '-o', 'yaml']);
    expect(yaml).toContain('  another-param: another-value\n');
    expect(yaml).toContain('  extra-param: extra-value\n');
    expect(yaml).toContain(`  my-config.txt: |\n${config.trimEnd().replace(/^/gm, '    ')}\n`);

    expect(await ok(['apply', '-f', seed('seed-000/13-2-kuard-config.yaml')])).toBe('pod/kuard-config created\n');
    await ok(['wait', '--for=condition=Ready', 'pod/kuard-config', '--timeout=120s'], undefined, 130_000);
    expect(await ok(['exec', 'kuard-config', '--', 'ls', '/config'])).toBe('another-param\nextra-param\nmy-config.txt\n');
    expect(await ok(['exec', 'kuard-config', '--', 'cat', '/config/my-config.txt'])).toBe(config);
    // The book's `kubectl exec kuard-config -- printenv ANOTHER_PARAM`; printenv alone lists NAME=value pairs, and a
    // name that is not set is exit status 1.
    expect(await ok(['exec', 'kuard-config', '--', 'printenv', 'ANOTHER_PARAM'])).toBe('another-value\n');
    expect(await ok(['exec', 'kuard-config', '--', 'printenv'])).toMatch(/^EXTRA_PARAM=extra-value$/m);
    const unset = await lab.k(['exec', 'kuard-config', '--', 'printenv', 'NO_SUCH_PARAM']);
    expect({ code: unset.code, stdout: unset.stdout }).toEqual({ code: 1, stdout: '' });
    // "$(EXTRA_PARAM)" in the command is expanded from the environment.
    expect((await ok(['exec', 'kuard-config', '--', 'cat', '/proc/1/cmdline'])).split('\0')).toContain('extra-value');

    // The book's kuard-tls Secret from two files, mounted read-only at /tls.
    const dir = mkdtempSync(join(tmpdir(), 'kuard-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kuard', '-keyout', join(dir, 'kuard.key'), '-out', join(dir, 'kuard.crt')], { stdio: 'ignore' });
      const crt = readFileSync(join(dir, 'kuard.crt'), 'utf8');
      expect(await ok(['create', 'secret', 'generic', 'kuard-tls', `--from-file=${join(dir, 'kuard.crt')}`, `--from-file=${join(dir, 'kuard.key')}`])).toBe(
        'secret/kuard-tls created\n',
      );
      expect(await ok(['describe', 'secrets', 'kuard-tls'])).toMatch(new RegExp(`^kuard\\.crt:\\s+${Buffer.byteLength(crt)} bytes$`, 'm'));
      expect(await ok(['apply', '-f', seed('seed-000/13-3-kuard-secret.yaml')])).toBe('pod/kuard-tls created\n');
      await ok(['wait', '--for=condition=Ready', 'pod/kuard-tls', '--timeout=120s'], undefined, 130_000);
      expect(await ok(['exec', 'kuard-tls', '--', 'ls', '/tls'])).toBe('kuard.crt\nkuard.key\n');
      expect(await ok(['exec', 'kuard-tls', '--', 'cat', '/tls/kuard.crt'])).toBe(crt);
      expect(await sh('kuard-tls', 'touch /tls/x 2>&1; echo "exit=$?"')).toMatch(/Read-only file system\nexit=1\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Seed 002's db-secrets: as files in the course's Deployment, and as environment variables.
    expect(await ok(['create', '-f', seed('seed-002/k8s/deployment/helloworld-secrets.yml')])).toBe('secret/db-secrets created\n');
    expect(await ok(['create', '-f', seed('seed-002/k8s/deployment/helloworld-secrets-volumes.yml')])).toBe('deployment.apps/helloworld-deployment created\n');
    await ok(['rollout', 'status', 'deployment/helloworld-deployment', '--timeout=120s'], undefined, 130_000);
    // (The first app's pod nodehelloworld.example.com has the label app=helloworld too.)
    const withCreds = (await pods('app=helloworld')).filter(ready).find((p) => p.metadata.name.startsWith('helloworld-deployment-'));
    expect(await ok(['exec', withCreds!.metadata.name, '--', 'cat', '/etc/creds/username'])).toBe('root');
    const envPod = `
apiVersion: v1
kind: Pod
metadata: { name: secret-env }
spec:
  restartPolicy: Never
  containers:
  - name: env
    image: busybox
    command: [sh, -c, 'echo "$DB_USERNAME:$DB_PASSWORD"']
    env:
    - { name: DB_USERNAME, valueFrom: { secretKeyRef: { name: db-secrets, key: username } } }
    - { name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: db-secrets, key: password } } }
`;
    await ok(['apply', '-f', '-'], envPod);
    await ok(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/secret-env', '--timeout=120s'], undefined, 130_000);
    expect(await ok(['logs', 'secret-env'])).toBe('root:password\n');
    timings['configmaps and secrets'] = Date.now() - began;
    await ok(['delete', 'deployment', 'helloworld-deployment', '--wait=false']);
    await ok(['delete', 'pods', 'kuard-config', 'kuard-tls', 'secret-env', '--wait=false']);
  });

  it('runs a Job to completion, and the CronJob both on its schedule and by `kubectl create job --from`', async () => {
    const began = Date.now();
    // The shape of the book's job-oneshot (12-1), whose kuard --keygen-* flags the lab's kuard stand-in lacks.
    const job = `
apiVersion: batch/v1
kind: Job
metadata: { name: oneshot }
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      containers:
      - name: work
        image: busybox
        command: [sh, -c, 'for i in 1 2 3; do echo "item $i/3 done on $(hostname)"; done']
      restartPolicy: OnFailure
`;
    expect(await ok(['apply', '-f', '-'], job)).toBe('job.batch/oneshot created\n');
    expect(await ok(['wait', '--for=condition=complete', 'job/oneshot', '--timeout=120s'], undefined, 130_000)).toBe('job.batch/oneshot condition met\n');
    timings['job of 3 completions'] = Date.now() - began;
    expect(await ok(['get', 'jobs', 'oneshot'])).toMatch(/^oneshot\s+Complete\s+3\/3\s+\S+\s+\S+$/m);
    const done = (await ok(['get', 'pods', '-l', 'job-name=oneshot'])).split('\n').slice(1).filter(Boolean);
    expect(done).toHaveLength(3);
    for (const l of done) expect(l).toMatch(/^oneshot-\S+\s+0\/1\s+Completed\s+0\s/);
    expect(await ok(['logs', 'job/oneshot'])).toMatch(/^item 3\/3 done on oneshot-\S+$/m);

    expect(await ok(['get', 'cronjob', 'hello'])).toMatch(/^hello\s+\* \* \* \* \*\s+<none>\s+False\s+\d+\s+\S+\s+\S+$/m);
    expect(await ok(['create', 'job', '--from=cronjob/hello', 'hello-manual'])).toBe('job.batch/hello-manual created\n');
    await ok(['wait', '--for=condition=complete', 'job/hello-manual', '--timeout=120s'], undefined, 130_000);
    expect(await ok(['logs', 'job/hello-manual'])).toMatch(/^hello from hello-manual-[a-z0-9]{5}, run by the CronJob hello\n$/);
    // The schedule: a Job named hello-<minute> made by the CronJob (at most a minute after it was created).
    const scheduled = await until('a scheduled hello job complete', async () => {
      const out = await ok(['get', 'jobs', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.ownerReferences[0].name} {.status.succeeded}{"\\n"}{end}']);
      return out.split('\n').find((l) => /^hello-\d+ hello 1$/.test(l));
    }, 120_000);
    timings['cronjob scheduled run seen'] = Date.now() - began;
    const name = scheduled.split(' ')[0]!;
    expect(await ok(['logs', `job/${name}`])).toMatch(new RegExp(`^hello from ${name}-[a-z0-9]{5}, run by the CronJob hello\n$`));
    expect(await jsonpath(['get', 'cronjob', 'hello'], '{.status.lastScheduleTime}')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    expect(await ok(['delete', 'cronjob', 'hello'])).toBe('cronjob.batch "hello" deleted\n');
  });

  it('runs a DaemonSet pod on each of the 3 nodes', async () => {
    const began = Date.now();
    // The book's fluentd DaemonSet (11-1-fluentd.yaml) with busybox in place of fluent/fluentd, which the lab lacks.
    const ds = `
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: fluentd, labels: { app: fluentd } }
spec:
  selector: { matchLabels: { app: fluentd } }
  template:
    metadata: { labels: { app: fluentd } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: fluentd
        image: busybox
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
        resources:
          limits: { memory: 200Mi }
          requests: { cpu: 100m, memory: 200Mi }
`;
    expect(await ok(['apply', '-f', '-'], ds)).toBe('daemonset.apps/fluentd created\n');
    expect(await ok(['rollout', 'status', 'daemonset/fluentd', '--timeout=120s'], undefined, 130_000)).toContain('daemon set "fluentd" successfully rolled out');
    timings['daemonset rolled out'] = Date.now() - began;
    expect(await ok(['get', 'daemonsets'])).toMatch(/^fluentd\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+$/m);
    const placed = (await pods('app=fluentd')).map((p) => p.spec.nodeName).sort();
    expect(placed).toEqual([...lab.nodes].sort());
    await ok(['delete', 'daemonset', 'fluentd', '--wait=false']);
  });

  it('starts a StatefulSet in order, each pod with its stable name and DNS record', async () => {
    const began = Date.now();
    // As kubernetes.io's StatefulSet basics: the StatefulSet web behind the headless Service nginx, without the volume
    // claims (storage.test.ts covers those).
    const sts = `
apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  ports: [{ port: 80, name: web }]
  clusterIP: None
  selector: { app: nginx }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 3
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        ports: [{ containerPort: 80, name: web }]
`;
    const watch = kubectlStream(lab.kubeconfig, ['get', 'pods', '--watch', '-l', 'app=nginx']);
    try {
      expect(await ok(['apply', '-f', '-'], sts)).toBe('service/nginx created\nstatefulset.apps/web created\n');
      expect(await ok(['rollout', 'status', 'statefulset/web', '--timeout=120s'], undefined, 130_000)).toContain('partitioned roll out complete: 3 new pods have been updated');
      await watch.waitFor(/^web-2\s+1\/1\s+Running/m, 10_000);
    } finally {
      await watch.stop();
    }
    timings['statefulset of 3 rolled out'] = Date.now() - began;
    // As the docs' `kubectl get pods --watch`: web-1 appears only once web-0 is Running and Ready, web-2 after web-1.
    const lines = watch.stdout.split('\n').filter((l) => l.startsWith('web-'));
    const first = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(first(/^web-0\s+1\/1\s+Running/)).toBeGreaterThanOrEqual(0);
    expect(first(/^web-1\s/)).toBeGreaterThan(first(/^web-0\s+1\/1\s+Running/));
    expect(first(/^web-2\s/)).toBeGreaterThan(first(/^web-1\s+1\/1\s+Running/));
    for (const i of [0, 1, 2]) {
      expect(await ok(['exec', `web-${i}`, '--', 'sh', '-c', 'hostname'])).toBe(`web-${i}\n`);
      const ip = await jsonpath(['get', 'pod', `web-${i}`], '{.status.podIP}');
      expect(await lookup(CLIENT, `web-${i}.nginx`)).toEqual([ip]);
    }
    await ok(['delete', 'statefulset', 'web', '--wait=false']);
  });

  it('keeps a namespace within its ResourceQuota: refuses pods without limits, then the one over, with upstream\'s messages', async () => {
    const namespaces = await ok(['get', 'namespaces']);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) expect(namespaces).toMatch(new RegExp(`^${ns}\\s+Active\\s+\\S+$`, 'm'));
    expect(await ok(['create', '-f', seed('seed-002/k8s/resourcequotas/resourcequota.yml')])).toBe(
      'namespace/myspace created\nresourcequota/compute-quota created\nresourcequota/object-quota created\n',
    );
    // No requests or limits: the ReplicaSet's pods are refused; `kubectl describe rs` shows why.
    expect(await ok(['create', '-f', seed('seed-002/k8s/resourcequotas/helloworld-no-quotas.yml')])).toBe('deployment.apps/helloworld-deployment created\n');
    const refused = await until('FailedCreate: must specify', async () => {
      const out = await ok(['describe', 'rs', '--namespace=myspace']);
      return out.includes('failed quota') && out;
    }, 60_000);
    expect(refused).toMatch(
      /Warning\s+FailedCreate\s+\S+\s+replicaset-controller\s+Error creating: pods "helloworld-deployment-[a-z0-9]+-[a-z0-9]{5}" is forbidden: failed quota: compute-quota: must specify limits\.cpu for: k8s-demo; limits\.memory for: k8s-demo; requests\.cpu for: k8s-demo; requests\.memory for: k8s-demo$/m,
    );
    expect(await ok(['get', 'deploy', '--namespace=myspace'])).toMatch(/^helloworld-deployment\s+0\/3\s+0\s+0\s+\S+$/m);

    // The seed creates the version with requests and limits next: the name is taken.
    const withQuotas = seed('seed-002/k8s/resourcequotas/helloworld-with-quotas.yml');
    const taken = await lab.k(['create', '-f', withQuotas]);
    expect(taken.stderr).toBe(`Error from server (AlreadyExists): error when creating "${withQuotas}": deployments.apps "helloworld-deployment" already exists\n`);
    await ok(['delete', 'deployment', 'helloworld-deployment', '--namespace=myspace']);
    expect(await ok(['create', '-f', withQuotas])).toBe('deployment.apps/helloworld-deployment created\n');
    // Each pod requests 512Mi of the quota's 1Gi: two run, the third is refused.
    const exceeded = await until('FailedCreate: exceeded quota', async () => {
      const out = await ok(['describe', 'rs', '--namespace=myspace']);
      return out.includes('exceeded quota') && out;
    }, 60_000);
    expect(exceeded).toMatch(
      /Error creating: pods "helloworld-deployment-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: compute-quota, requested: limits\.memory=1Gi,requests\.memory=512Mi, used: limits\.memory=2Gi,requests\.memory=1Gi, limited: limits\.memory=2Gi,requests\.memory=1Gi$/m,
    );
    await until('2 pods ready in myspace', async () => (await pods('app=helloworld', 'myspace')).filter(ready).length === 2, 120_000);
    expect(await ok(['get', 'deploy', '--namespace=myspace'])).toMatch(/^helloworld-deployment\s+2\/3\s+2\s+2\s+\S+$/m);
    const quota = await ok(['describe', 'quota', 'compute-quota', '--namespace=myspace']);
    expect(quota).toMatch(/^limits\.cpu\s+800m\s+2$/m);
    expect(quota).toMatch(/^limits\.memory\s+2Gi\s+2Gi$/m);
    expect(quota).toMatch(/^requests\.cpu\s+400m\s+1$/m);
    expect(quota).toMatch(/^requests\.memory\s+1Gi\s+1Gi$/m);
    const over = `
apiVersion: v1
kind: Pod
metadata: { name: over, namespace: myspace }
spec:
  containers:
  - name: sh
    image: busybox
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 100m, memory: 64Mi } }
`;
    const direct = await lab.k(['apply', '-f', '-'], over);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "over" is forbidden: exceeded quota: compute-quota, requested: limits.memory=64Mi,requests.memory=64Mi, used: limits.memory=2Gi,requests.memory=1Gi, limited: limits.memory=2Gi,requests.memory=1Gi\n',
    );
    await ok(['delete', 'namespace', 'myspace', '--wait=false']);
  });

  it('grants a Role through a RoleBinding to a user and a group, as `kubectl auth can-i --as` reports', async () => {
    // As the book's RBAC chapter: a Role for pods and services in default, bound to the user alice and the group mydevs.
    const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-and-services, namespace: default }
rules:
- apiGroups: ['']
  resources: [pods, services]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: pods-and-services, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-and-services }
subjects:
- { apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }
- { apiGroup: rbac.authorization.k8s.io, kind: Group, name: mydevs }
`;
    expect(await ok(['apply', '-f', '-'], rbac)).toBe(
      'role.rbac.authorization.k8s.io/pod-and-services created\nrolebinding.rbac.authorization.k8s.io/pods-and-services created\n',
    );
    const canI = async (args: string[]) => {
      const r = await lab.k(['auth', 'can-i', ...args]);
      return `${r.code} ${r.stdout.trim()}`;
    };
    expect(await canI(['create', 'pods'])).toBe('0 yes');
    expect(await canI(['create', 'pods', '--as', 'alice'])).toBe('0 yes');
    expect(await canI(['delete', 'services', '--as', 'alice'])).toBe('0 yes');
    expect(await canI(['create', 'deployments', '--as', 'alice'])).toBe('1 no');
    expect(await canI(['get', 'pods', '--as', 'alice', '--namespace', 'kube-system'])).toBe('1 no');
    expect(await canI(['list', 'services', '--as', 'bob', '--as-group', 'mydevs'])).toBe('0 yes');
    expect(await canI(['list', 'services', '--as', 'bob'])).toBe('1 no');
    // The API itself answers so for alice's requests.
    expect(await ok(['get', 'pods', CLIENT, '--as', 'alice', '-o', 'name'])).toBe(`pod/${CLIENT}\n`);
    const denied = await lab.k(['get', 'deployments', '--as', 'alice']);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "default"\n',
    );
  });

  it('reads the kuard pod with logs, exec, port-forward and top', async () => {
    expect(await ok(['logs', 'kuard'])).toMatch(/:8080/);
    expect(await ok(['exec', 'kuard', '--', 'ls', '/'])).toMatch(/^kuard$/m);
    expect(await ok(['exec', 'kuard', '--', 'sh', '-c', 'echo $HOSTNAME'])).toBe('kuard\n');
    // Seed 000's `kubectl exec -it kuard ash`, its input piped (no terminal here).
    const ash = await lab.k(['exec', '-i', 'kuard', '--', 'ash'], 'echo "in $(hostname)"\nexit 3\n');
    expect({ code: ash.code, stdout: ash.stdout }).toEqual({ code: 3, stdout: 'in kuard\n' });

    // `kubectl port-forward kuard 8080:8080`, on a free local port.
    const port = await freePort();
    const forward = spawn('kubectl', ['--kubeconfig', lab.kubeconfig, 'port-forward', 'kuard', `${port}:8080`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    forward.stdout.on('data', (d) => (out += d));
    forward.stderr.on('data', (d) => (out += d));
    try {
      await until('port-forward listening', async () => out.includes(`Forwarding from 127.0.0.1:${port} -> 8080`), 20_000);
      const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('kuard');
      const healthy = await fetch(`http://127.0.0.1:${port}/healthy`, { signal: AbortSignal.timeout(5000) });
      expect(await healthy.text()).toBe('ok');
    } finally {
      if (forward.exitCode === null) forward.kill('SIGTERM');
    }

    let last = '';
    const top = await until('kubectl top pods with kuard', async () => {
      const r = await lab.k(['top', 'pods']);
      last = r.stdout + r.stderr;
      return r.code === 0 && /^kuard\s+\d+m\s+\d+Mi\s*$/m.test(r.stdout) && r.stdout;
    }, 60_000).catch((err) => {
      throw new Error(`${err}; last output:\n${last}`);
    });
    expect(top.split('\n')[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
    const topNodes = await until('kubectl top nodes with 3 nodes', async () => {
      const r = await lab.k(['top', 'nodes']);
      last = r.stdout + r.stderr;
      return r.code === 0 && lab.nodes.every((n) => new RegExp(`^${n}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%\\s*$`, 'm').test(r.stdout)) && r.stdout;
    }, 60_000).catch((err) => {
      throw new Error(`${err}; last output:\n${last}`);
    });
    expect(topNodes.split('\n')[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/);
    expect(await ok(['get', 'events', '--field-selector', 'involvedObject.name=kuard'])).toMatch(/Normal\s+Scheduled\s+pod\/kuard\s+Successfully assigned default\/kuard to sd\d+-\d/);
  });

  it('replaces the pods of a node whose kubelet stopped on the other nodes (the book\'s kuard Deployment)', async () => {
    expect(await ok(['apply', '-f', seed('seed-000/10-1-kuard-deployment.yaml')])).toBe('deployment.apps/kuard created\n');
    expect(await ok(['scale', 'deployments/kuard', '--replicas=3'])).toBe('deployment.apps/kuard scaled\n');
    // The default tolerations of an unreachable node last 300 s: 5 s here, to keep the test short.
    const tolerations = {
      spec: {
        template: {
          spec: {
            tolerations: ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 })),
          },
        },
      },
    };
    expect(await ok(['patch', 'deployment', 'kuard', '-p', JSON.stringify(tolerations)])).toBe('deployment.apps/kuard patched\n');
    await ok(['rollout', 'status', 'deployment/kuard', '--timeout=120s'], undefined, 130_000);
    const running = async () => (await pods('run=kuard')).filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
    const before = await until('3 kuard pods Running', async () => {
      const r = await running();
      return r.length === 3 && r;
    }, 60_000);
    // The node to stop: the last one that runs a kuard pod.
    const victim = [...lab.nodes].reverse().find((n) => before.some((p) => p.spec.nodeName === n))!;
    const victims = before.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name);

    const pid = Number(readFileSync(join(lab.state, 'run', `kubelet-${victim}.pid`), 'utf8'));
    const stopped = Date.now();
    process.kill(pid, 'SIGTERM');
    await until('the kubelet to exit', async () => !alive(pid), 30_000);
    await until(`${victim} NotReady`, async () => new RegExp(`^${victim}\\s+NotReady\\s`, 'm').test(await ok(['get', 'nodes'])), 120_000);
    timings['kubelet stopped -> NotReady'] = Date.now() - stopped;
    const after = await until('3 kuard pods Running off the stopped node', async () => {
      const r = await running();
      return r.length === 3 && r.every((p) => p.spec.nodeName !== victim) && r;
    }, 120_000);
    timings['kubelet stopped -> pods replaced'] = Date.now() - stopped;
    for (const name of victims) expect(after.map((p) => p.metadata.name)).not.toContain(name);
    expect(await ok(['get', 'deployment', 'kuard'])).toMatch(/^kuard\s+3\/3\s+3\s+3\s+\S+$/m);
  });
});
