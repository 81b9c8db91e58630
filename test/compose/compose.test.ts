// The compose lab end to end (upstream: kind's and kubeadm's HA smoke tests): `hack/compose up` builds what is missing and
// starts etcd x3, two apiservers, schedulers and controller-managers x2, the registry and 3 nodes joining with a
// bootstrap token; the host's kubectl works through .kubelab/compose/kubeconfig; pods run on the nodes, reach a Service
// on another node by its DNS name; the default StorageClass is there and an Ingress answers on a node's port 80;
// `--scale node=4` adds a Ready node; a stopped node goes NotReady and its pods move; the lab survives losing one etcd
// member and one apiserver; `down` leaves nothing behind.
// Run with `npm run test:compose` (needs root: it starts dockerd when none answers).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../fixtures/kubectl.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A lab of its own beside the user's (`hack/compose up`, project kubelab on 172.28.0.0/24 and ports 6443/5000, or a
// `hack/lab up` on 6443): its own compose project, network, host ports and state directory (kubeconfig, dockerd record).
const PROJECT = 'kubelabtest';
const NET = '172.28.1';
const state = `${root}/.kubelab/compose-test`;
const kubeconfig = `${state}/kubeconfig`;
const env = {
  ...process.env,
  KUBELAB_COMPOSE_PROJECT: PROJECT,
  KUBELAB_COMPOSE_NET: NET,
  KUBELAB_COMPOSE_STATE: state,
  KUBELAB_COMPOSE_APISERVER_PORT: '26443',
  KUBELAB_COMPOSE_REGISTRY_PORT: '25000',
};
/** The name compose gives a node replica's container (v1: project_node_N), and the node's name in the cluster. */
const container = (n: number) => `${PROJECT}_node_${n}`;
const node = (n: number) => `${PROJECT}-node-${n}`;
const k = (args: string[], input?: string) => kubectl(kubeconfig, args, { input });

interface RunResult {
  code: number;
  output: string;
  seconds: number;
}

/** Runs a command from the repository root with the test's environment, output collected (stdout and stderr). */
function run(cmd: string, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const compose = (args: string[]) => run('bash', ['-c', 'if command -v docker-compose >/dev/null; then exec docker-compose "$@"; else exec docker compose "$@"; fi', 'compose', '-p', PROJECT, '-f', 'compose.yaml', ...args]);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function json(args: string[]) {
  const r = await k([...args, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const timings: string[] = [];
let downDone = false;

beforeAll(async () => {
  const up = await run('hack/compose', ['up'], 900_000);
  expect(up.code, up.output).toBe(0);
  timings.push(`first up ${up.seconds.toFixed(1)}s (${/apiserver ready: \S+/.exec(up.output)?.[0] ?? '?'})`);
});

afterAll(async () => {
  console.log(`compose lab timings: ${timings.join('; ')}`);
  // A failed test left the lab up: take it down all the same.
  if (!downDone) await run('hack/compose', ['down']);
});

describe('hack/compose', () => {
  it('serves /readyz to the host kubectl on 127.0.0.1', async () => {
    const cfg = await run('kubectl', ['--kubeconfig', kubeconfig, 'config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}']);
    expect(cfg.output).toBe('https://127.0.0.1:26443');
    const r = await k(['get', '--raw', '/readyz']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('reports the three etcd members healthy and both apiservers in the kubernetes Endpoints', async () => {
    const cs = await json(['get', 'componentstatuses']);
    const etcd = cs.items.filter((c: { metadata: { name: string } }) => c.metadata.name.startsWith('etcd-'));
    expect(etcd.map((c: { metadata: { name: string } }) => c.metadata.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    for (const c of etcd) expect(c.conditions[0]).toMatchObject({ type: 'Healthy', status: 'True' });
    const ep = await json(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    expect(ep.subsets[0].addresses.map((a: { ip: string }) => a.ip).sort()).toEqual([`${NET}.11`, `${NET}.12`]);
    expect(ep.subsets[0].ports[0].port).toBe(6443);
  });

  it('elects one scheduler and one controller-manager on their Leases', async () => {
    const scheduler = await json(['get', 'lease', 'kube-scheduler', '-n', 'kube-system']);
    expect(scheduler.spec.holderIdentity).toMatch(/^scheduler-[12]/);
    const cm = await json(['get', 'lease', 'kube-controller-manager', '-n', 'kube-system']);
    expect(cm.spec.holderIdentity).toMatch(/^controller-manager-[12]/);
    // Reported, not asserted (issue 12's goal: < 250 MB for the leaders): the memory of apiserver-1 and the two leaders.
    const leaders = ['apiserver-1', String(scheduler.spec.holderIdentity).split('_')[0], String(cm.spec.holderIdentity).split('_')[0]];
    const rss: string[] = [];
    for (const service of leaders) {
      const pid = (await run('docker', ['inspect', '-f', '{{.State.Pid}}', `${PROJECT}_${service}_1`])).output.trim();
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
      const mb = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) / 1024);
      rss.push(`${service} ${mb('Rss')} MB (PSS ${mb('Pss')})`);
    }
    timings.push(`control plane RSS after up: ${rss.join(', ')}`);
  });

  it('is idempotent: a second up rebuilds no unchanged image and keeps the cluster', async () => {
    const uid = (await json(['get', 'namespace', 'kube-system'])).metadata.uid;
    const again = await run('hack/compose', ['up']);
    expect(again.code, again.output).toBe(0);
    // Only the control-plane image follows packages/*/src (rebuilt when a source changed in between); the rest stays.
    for (const image of ['kubelab/debian', 'kubelab/node-base', 'kubelab/etcd', 'kubelab/registry']) expect(again.output).not.toContain(`building ${image}`);
    expect(again.output).not.toContain('debootstrap');
    timings.push(`second up ${again.seconds.toFixed(1)}s`);
    expect((await json(['get', 'namespace', 'kube-system'])).metadata.uid).toBe(uid);
  });

  it('joins 3 nodes named after their containers, Ready, each with its own pod CIDR from 10.245.0.0/16', async () => {
    const nodes = (await json(['get', 'nodes'])).items;
    expect(nodes.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual([node(1), node(2), node(3)]);
    const cidrs = new Set<string>();
    for (const n of nodes) {
      expect(n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, n.metadata.name).toBe('True');
      expect(n.spec.podCIDR).toMatch(/^10\.245\.\d+\.0\/24$/);
      cidrs.add(n.spec.podCIDR);
      expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    }
    expect(cidrs.size).toBe(3);
    // The kubelets joined with the bootstrap token: their CSRs were approved and issued.
    const csrs = (await json(['get', 'csr'])).items.filter((c: { spec: { username: string } }) => c.spec.username.startsWith('system:bootstrap:'));
    expect(csrs.length).toBeGreaterThanOrEqual(3);
    const cm = (await json(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns'])).items;
    expect(cm.filter((p: { status: { phase: string } }) => p.status.phase === 'Running').length).toBe(2);
  });

  const webPods = async (n: number, phase?: string) => {
    const list = await json(['get', 'pods', '-l', 'app=web']);
    const items = phase ? list.items.filter((p: { status: { phase: string } }) => p.status.phase === phase) : list.items;
    return list.items.length === n && items.length === n ? items : undefined;
  };

  it('runs a Deployment of 3 nginx replicas spread over the 3 nodes, the images pulled from the lab registry', async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: { app: web }
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
`;
    const applied = await k(['apply', '-f', '-'], manifest);
    expect(applied.code, applied.stderr).toBe(0);
    const pods = await until('3 Running web pods', () => webPods(3, 'Running'), 120_000);
    expect(new Set(pods.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).size).toBe(3);
    for (const p of pods) expect(p.status.podIP).toMatch(/^10\.245\./);
  });

  it('reaches a Service on another node by its DNS name from a pod', async () => {
    const remote = await k(['run', 'remote', '--image=nginx', `--overrides={"spec":{"nodeName":"${node(1)}"}}`]);
    expect(remote.code, remote.stderr).toBe(0);
    const exposed = await k(['expose', 'pod', 'remote', '--port=80']);
    expect(exposed.code, exposed.stderr).toBe(0);
    const client = await k(['run', 'client', '--image=busybox', `--overrides={"spec":{"nodeName":"${node(3)}"}}`, '--', 'sleep', '3600']);
    expect(client.code, client.stderr).toBe(0);
    await until('remote and client Running', async () => {
      const phases = await Promise.all(['remote', 'client'].map(async (p) => (await json(['get', 'pod', p])).status.phase));
      return phases.every((p) => p === 'Running') ? true : undefined;
    }, 120_000);
    const lookup = await until('nslookup remote.default', async () => {
      const r = await k(['exec', 'client', '--', 'nslookup', 'remote.default.svc.cluster.local']);
      return r.code === 0 ? r.stdout : undefined;
    });
    const clusterIP = (await json(['get', 'service', 'remote'])).spec.clusterIP;
    expect(lookup).toContain(clusterIP);
    // By the short name through the pod's search path, to the pod on node 1 from node 3.
    const page = await k(['exec', 'client', '--', 'sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 remote 80']);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain('Welcome to nginx!');
    const logs = await k(['logs', 'remote']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/10\.245\.\d+\.\d+/);
  });

  it('ships the default StorageClass and the ingress controller: an Ingress answers on a node\'s port 80', async () => {
    const sc = await k(['get', 'storageclass']);
    expect(sc.code, sc.stderr).toBe(0);
    expect(sc.stdout).toMatch(/^standard \(default\)\s+kubelab\.io\/local-path\s/m);
    const exposed = await k(['expose', 'deployment', 'web', '--port=80']);
    expect(exposed.code, exposed.stderr).toBe(0);
    const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: web.kubelab.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: { name: web, port: { number: 80 } }
`;
    const applied = await k(['apply', '-f', '-'], ingress);
    expect(applied.code, applied.stderr).toBe(0);
    // The default IngressClass (kubelab) was set on it, and the controller published the nodes' addresses.
    const status = await until('the Ingress status with the nodes\' addresses', async () => {
      const ing = await json(['get', 'ingress', 'web']);
      const ips = (ing.status?.loadBalancer?.ingress ?? []).map((a: { ip: string }) => a.ip);
      return ips.length > 0 ? { className: ing.spec.ingressClassName, ips } : undefined;
    });
    expect(status.className).toBe('kubelab');
    for (const ip of status.ips) expect(ip.startsWith(`${NET}.`), ip).toBe(true);
    // From inside node 2's container to node 1's port 80 (hostPort of the DaemonSet's pod there), by Host header.
    const node1 = await json(['get', 'node', node(1)]);
    const ip = node1.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
    const get = (host: string) =>
      run('docker', [
        'exec',
        container(2),
        'node',
        '-e',
        `require("http").get({ host: "${ip}", port: 80, path: "/", headers: { Host: "${host}" }, timeout: 5000 }, (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => { console.log(r.statusCode); console.log(b); }); }).on("error", (e) => { console.error(e.message); process.exit(1); })`,
      ]);
    const page = await until(`the Ingress answering on ${node(1)}:80`, async () => {
      const r = await get('web.kubelab.test');
      return r.code === 0 && r.output.startsWith('200') ? r.output : undefined;
    });
    expect(page).toContain('Welcome to nginx!');
    // A host no Ingress names gets the controller's 404.
    const other = await get('other.kubelab.test');
    expect(other.code, other.output).toBe(0);
    expect(other.output).toMatch(/^404/);
  });

  it('adds a fourth node with docker-compose up -d --scale node=4', async () => {
    const scaled = await compose(['up', '-d', '--no-recreate', '--scale', 'node=4']);
    expect(scaled.code, scaled.output).toBe(0);
    const fourth = await until(`${node(4)} Ready`, async () => {
      const r = await k(['get', 'node', node(4), '-o', 'json']);
      if (r.code !== 0) return undefined;
      const n = JSON.parse(r.stdout);
      return n.status.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    }, 120_000);
    expect(fourth.spec.podCIDR).toMatch(/^10\.245\./);
    timings.push(`scale to 4 nodes ${(scaled.seconds).toFixed(1)}s + Ready`);
  });

  it('marks a stopped node container NotReady and moves its pods to the other nodes', async () => {
    // The pod goes to node 4 (the others cordoned), and tolerates the node's loss for 5 s only (default 300 s).
    for (const n of [1, 2, 3]) expect((await k(['cordon', node(n)])).code).toBe(0);
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mover
spec:
  replicas: 1
  selector:
    matchLabels: { app: mover }
  template:
    metadata:
      labels: { app: mover }
    spec:
      tolerations:
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      containers:
      - name: web
        image: nginx
`;
    const applied = await k(['apply', '-f', '-'], manifest);
    expect(applied.code, applied.stderr).toBe(0);
    const movers = async (node?: string) => {
      const items = (await json(['get', 'pods', '-l', 'app=mover'])).items as { spec: { nodeName?: string }; status: { phase: string } }[];
      const running = items.filter((p) => p.status.phase === 'Running' && (!node || p.spec.nodeName === node));
      return running.length > 0 ? running : undefined;
    };
    await until(`the mover pod Running on ${node(4)}`, () => movers(node(4)), 90_000);
    for (const n of [1, 2, 3]) expect((await k(['uncordon', node(n)])).code).toBe(0);
    const stop = await run('docker', ['stop', container(4)]);
    expect(stop.code, stop.output).toBe(0);
    await until(`${node(4)} NotReady`, async () => {
      const n = await json(['get', 'node', node(4)]);
      const ready = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      return ready.status !== 'True' ? ready : undefined;
    }, 120_000);
    const moved = await until('the mover pod Running on another node', async () => {
      const running = await movers();
      return running?.find((p) => p.spec.nodeName !== node(4));
    }, 120_000);
    expect([node(1), node(2), node(3)]).toContain(moved.spec.nodeName);
    // Started again, the node comes back Ready with the credentials it got when it joined.
    const start = await run('docker', ['start', container(4)]);
    expect(start.code, start.output).toBe(0);
    await until(`${node(4)} Ready again`, async () => {
      const n = await json(['get', 'node', node(4)]);
      return n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status === 'True' ? true : undefined;
    }, 120_000);
  }, 360_000);

  it('keeps working with one apiserver stopped: the controllers reach the other through the kube-apiserver alias', async () => {
    const stop = await compose(['stop', 'apiserver-2']);
    expect(stop.code, stop.output).toBe(0);
    const r = await k(['get', '--raw', '/readyz']);
    expect(r.code, r.stderr).toBe(0);
    const scaled = await k(['scale', 'deployment', 'web', '--replicas=4']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await until('4 Running web pods without apiserver-2', () => webPods(4, 'Running'), 120_000);
  });

  it('keeps working with one etcd member stopped (a quorum of 2 of 3 remains)', async () => {
    const stop = await compose(['stop', 'etcd-3']);
    expect(stop.code, stop.output).toBe(0);
    // Every request, not just some: the apiserver's etcd client has to move off the stopped member.
    for (let i = 0; i < 10; i++) {
      const ready = await k(['get', '--raw', '/readyz']);
      expect(ready.code, ready.stderr).toBe(0);
      const got = await k(['get', 'deployment', 'web', '-o', 'name']);
      expect(got.code, got.stderr).toBe(0);
    }
    const scaled = await k(['scale', 'deployment', 'web', '--replicas=2']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await until('2 web pods without etcd-3', () => webPods(2), 120_000);
    const cs = await json(['get', 'componentstatuses']);
    const health = Object.fromEntries(cs.items.map((c: { metadata: { name: string }; conditions: { status: string }[] }) => [c.metadata.name, c.conditions[0].status]));
    expect(health).toMatchObject({ 'etcd-0': 'True', 'etcd-1': 'True', 'etcd-2': 'False' });
  });
});

describe('hack/compose down', () => {
  it('removes the containers, volumes, network and the cgroups of the nodes, and a second down is a no-op', async () => {
    const ids = await run('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'label=com.docker.compose.service=node']);
    const nodeIds = ids.output.trim().split('\n').filter(Boolean);
    expect(nodeIds.length).toBe(4);
    const down = await run('hack/compose', ['down']);
    expect(down.code, down.output).toBe(0);
    downDone = true;
    timings.push(`down ${down.seconds.toFixed(1)}s`);
    expect(existsSync(kubeconfig)).toBe(false);
    // Checked without the engine (down stops the dockerd up started): no volume directory, no bridge on the lab's subnet.
    for (const v of ['pki', 'etcd-1', 'etcd-2', 'etcd-3', 'registry', 'join']) expect(existsSync(`/var/lib/docker/volumes/${PROJECT}_${v}`), v).toBe(false);
    for (const id of nodeIds) expect(existsSync(`/sys/fs/cgroup/memory/docker/${id}`), `cgroup of node ${id}`).toBe(false);
    const addrs = await run('ip', ['-o', '-4', 'addr', 'show']);
    expect(addrs.output).not.toContain(`${NET}.1/24`);
    const ps = await run('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}']);
    if (ps.code === 0) expect(ps.output.trim()).toBe('');
    const again = await run('hack/compose', ['down']);
    expect(again.code, again.output).toBe(0);
  });
});
