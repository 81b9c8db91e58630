// End to end (upstream: test/e2e/common/node/pods.go and apps/deployment.go, reduced): `hack/lab up` with two
// nodes (network namespaces, each with its own containerd and a kubelet), then the real kubectl runs pods on
// real containers: a pod reaches Running with an IP from the cluster CIDR, a Deployment's 3 replicas run, a
// deleted pod's containers go away; `hack/lab down` leaves no namespace, node directory or process behind.
// Needs root (CI runs as root); skipped otherwise.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';
import { freePort } from '../fixtures/ports.js';
import { until } from '../fixtures/wait.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
// Names, addresses and pod CIDRs of their own, clear of a developer's `hack/lab up` (kubelab-node-1.., 172.30.0.11..,
// 10.244.0.0/24..) and of the CRI tests' nodes (index 200-239).
const PREFIX = `e2e${process.pid % 1000}-`;
const INDEX_BASE = 120;
const CLUSTER_CIDR = '10.244.128.0/17';
const NODES = [`${PREFIX}1`, `${PREFIX}2`];

let state: string;
let env: NodeJS.ProcessEnv;
let upOutput = '';
const k = (args: string[], input?: string) => kubectl(join(state, 'kubeconfig'), args, { input, timeoutMs: 60_000 });
const timings: Record<string, number> = {};

/** Membership of an IPv4 address in CLUSTER_CIDR (10.244.128.0/17), itself within 10.244.0.0/16. */
function inClusterCIDR(ip: string): boolean {
  const [a, b, c] = ip.split('.').map(Number);
  return a === 10 && b === 244 && c! >= 128 && c! <= 255;
}

/** Sandboxes and containers the node's containerd has for a pod uid (`ctr` on the node's socket). */
async function runtimeObjectsFor(node: string, uid: string): Promise<number> {
  const socket = `/run/kubelab/${node}/containerd.sock`;
  const { stdout } = await run('ctr', ['--address', socket, '-n', 'k8s.io', 'containers', 'ls', `labels."io.kubernetes.pod.uid"==${uid}`]);
  return stdout.trim().split('\n').slice(1).filter(Boolean).length;
}

function pidsOf(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(join(dir, f), 'utf8').trim())).filter((p) => p > 0);
}

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)('pods on a two-node lab (hack/lab up --nodes 2)', () => {
  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'kubelab-e2e-'));
    const apiPort = await freePort();
    let etcdPort: number;
    do etcdPort = await freePort();
    while (etcdPort + 1 === apiPort);
    env = {
      ...process.env,
      KUBELAB_STATE: state,
      KUBELAB_APISERVER_PORT: String(apiPort),
      KUBELAB_ETCD_PORT: String(etcdPort),
      KUBELAB_SCHEDULER_PORT: String(await freePort()),
      KUBELAB_CONTROLLER_MANAGER_PORT: String(await freePort()),
      KUBELAB_NODE_PREFIX: PREFIX,
      KUBELAB_NODE_INDEX_BASE: String(INDEX_BASE),
      KUBELAB_CLUSTER_CIDR: CLUSTER_CIDR,
    };
    const began = Date.now();
    try {
      upOutput = (await run(join(ROOT, 'hack/lab'), ['up', '--nodes', '2'], { cwd: ROOT, env, timeout: 400_000 })).stdout;
    } catch (err) {
      const log = (f: string) => {
        try {
          return `--- ${f}\n${readFileSync(join(state, 'logs', f), 'utf8').slice(-3000)}`;
        } catch {
          return '';
        }
      };
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`hack/lab up failed: ${e.message}\n${e.stdout}\n${e.stderr}\n${NODES.map((n) => log(`kubelet-${n}.log`)).join('\n')}`);
    }
    timings['hack/lab up --nodes 2'] = Date.now() - began;
  }, 420_000);

  afterAll(async () => {
    if (!env) return;
    const pids = [...pidsOf(join(state, 'run')), ...NODES.flatMap((n) => pidsOf(`/run/kubelab/${n}`))];
    const down = await run(join(ROOT, 'hack/lab'), ['down'], { cwd: ROOT, env, timeout: 120_000 });
    // A second down is a no-op.
    const again = await run(join(ROOT, 'hack/lab'), ['down'], { cwd: ROOT, env, timeout: 60_000 });
    console.log(`e2e timings (ms): ${JSON.stringify(timings)}\n${upOutput}`);
    try {
      expect(down.stdout).toContain(`stopped kubelet on ${NODES[0]}`);
      expect(again.stdout).toBe('');
      expect(pids.length).toBeGreaterThanOrEqual(8);
      // hack/lab down waits for each process it stops; a SIGKILLed one may take a moment to go.
      await until('every lab process to exit', async () => pids.filter(alive).length === 0, 10_000).catch(() => undefined);
      expect(pids.filter(alive)).toEqual([]);
      const { stdout: netns } = await run('ip', ['netns', 'list']);
      for (const n of NODES) {
        expect(netns).not.toContain(n);
        expect(existsSync(`/run/kubelab/${n}`)).toBe(false);
        expect(existsSync(`/var/lib/kubelab/${n}`)).toBe(false);
      }
      const { stdout: routes } = await run('ip', ['route']);
      for (const [i] of NODES.entries()) expect(routes).not.toContain(`via 172.30.0.${10 + INDEX_BASE + i + 1} `);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 180_000);

  it('has both nodes Ready with the kubelet version, their IPs on the node network', async () => {
    const r = await k(['get', 'nodes', '-o', 'wide']);
    expect(r.stderr).toBe('');
    for (const [i, n] of NODES.entries()) {
      const ip = `172\\.30\\.0\\.${10 + INDEX_BASE + i + 1}`;
      expect(r.stdout).toMatch(new RegExp(`^${n}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.0\\s+${ip}\\s+<none>\\s+.*containerd://`, 'm'));
    }
    const cidrs = await k(['get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}']);
    expect(cidrs.stdout.split(' ').sort()).toEqual(['10.244.128.0/24', '10.244.129.0/24']);
    // Each kubelet runs in its node's network namespace, its /healthz on the node's loopback.
    for (const n of NODES) {
      const { stdout } = await run('nsenter', [`--net=/run/netns/${n}`, 'curl', '-s', '-m', '3', 'http://127.0.0.1:10248/healthz']);
      expect(stdout).toBe('ok');
    }
  });

  it('runs `kubectl run web --image=nginx` to Running with a pod IP from the cluster CIDR', async () => {
    const began = Date.now();
    const created = await k(['run', 'web', '--image=nginx']);
    expect(created.stdout).toBe('pod/web created\n');
    await until('pod web Running', async () => (await k(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 90_000);
    timings['kubectl run -> Running'] = Date.now() - began;
    const wide = await k(['get', 'pods', '-o', 'wide']);
    const line = wide.stdout.split('\n').find((l) => l.startsWith('web '))!;
    const [name, ready, status, restarts, , ip, node] = line.split(/\s+/);
    expect({ name, ready, status, restarts }).toEqual({ name: 'web', ready: '1/1', status: 'Running', restarts: '0' });
    expect(inClusterCIDR(ip!)).toBe(true);
    expect(NODES).toContain(node);
    // The host routes the pod CIDRs through the nodes: the pod serves HTTP on its IP.
    const page = await until('the pod to answer HTTP', async () => {
      const res = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await res.text());
    }, 20_000);
    expect(page).toContain('<html');
  });

  it('runs a Deployment of 3 to 3 Running pods spread over the nodes', async () => {
    const began = Date.now();
    expect((await k(['create', 'deployment', 'web3', '--image=nginx', '--replicas=3'])).stderr).toBe('');
    const pods = await until('3 Running pods', async () => {
      const r = await k(['get', 'pods', '-l', 'app=web3', '-o', 'json']);
      const items = (JSON.parse(r.stdout) as { items: { status: { phase: string; podIP?: string }; spec: { nodeName: string } }[] }).items;
      return items.length === 3 && items.every((p) => p.status.phase === 'Running' && p.status.podIP) && items;
    }, 120_000);
    timings['deployment of 3 -> 3 Running'] = Date.now() - began;
    expect(new Set(pods.map((p) => p.status.podIP)).size).toBe(3);
    for (const p of pods) {
      expect(inClusterCIDR(p.status.podIP!)).toBe(true);
      expect(NODES).toContain(p.spec.nodeName);
      // Every node reaches every pod, on its own node or across (the host routes each node's pod CIDR).
      for (const n of NODES) {
        const curl = ['curl', '-s', '-m', '3', '--retry', '3', '--retry-connrefused', `http://${p.status.podIP}/`];
        const { stdout } = await run('nsenter', [`--net=/run/netns/${n}`, ...curl]);
        expect(stdout).toContain('<html');
      }
    }
    const ready = await until('3/3 ready', async () => {
      const r = await k(['get', 'deployment', 'web3']);
      return /^web3\s+3\/3\s+3\s+3\s/m.test(r.stdout) && r.stdout;
    }, 60_000);
    expect(ready).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
  });

  it('deletes a pod: `kubectl delete pod` returns once it is gone, and its sandbox and containers are removed', async () => {
    const pod = JSON.parse((await k(['get', 'pod', 'web', '-o', 'json'])).stdout) as { metadata: { uid: string }; spec: { nodeName: string } };
    expect(await runtimeObjectsFor(pod.spec.nodeName, pod.metadata.uid)).toBe(2);
    // The node's kubelet keeps pod logs in the node's own directory (--kubelab-pod-logs-dir).
    const logDir = `/var/log/kubelab/${pod.spec.nodeName}/pods/default_web_${pod.metadata.uid}`;
    expect(existsSync(`${logDir}/web/0.log`)).toBe(true);
    const began = Date.now();
    const del = await k(['delete', 'pod', 'web']);
    timings['kubectl delete pod'] = Date.now() - began;
    expect(del.stdout).toBe('pod "web" deleted\n');
    const get = await k(['get', 'pod', 'web']);
    expect(get.stderr).toContain('Error from server (NotFound): pods "web" not found');
    await until('the pod sandbox and container removed', async () => (await runtimeObjectsFor(pod.spec.nodeName, pod.metadata.uid)) === 0, 30_000);
  });
});
