// End to end (upstream: test/e2e/common/node/pods.go and apps/deployment.go, reduced): `hack/lab up` with two
// nodes (network namespaces, each with its own containerd and a kubelet), then the real kubectl runs pods on
// real containers: a pod reaches Running with an IP from the cluster CIDR, a Deployment's 3 replicas run, a
// deleted pod's containers go away; `hack/lab down` leaves no namespace, node directory or process behind.
// Needs root (CI runs as root); skipped otherwise.
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

const run = promisify(execFile);
// Names, addresses and pod CIDRs of their own, clear of a developer's `hack/lab up` (kubelab-node-1.., 172.30.0.11..,
// 10.244.0.0/24..), of the other e2e files and of the CRI tests' nodes (index 200-239).
const INDEX_BASE = 120;
const CLUSTER_CIDR = '10.244.128.0/17';
let lab: Lab;
let NODES: string[] = [];
const k = (args: string[], input?: string) => lab.k(args, input);
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

describe.skipIf(!isRoot)('pods on a two-node lab (hack/lab up --nodes 2)', () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `e2e${process.pid % 1000}-`, indexBase: INDEX_BASE, clusterCIDR: CLUSTER_CIDR, nodes: 2 });
    NODES = lab.nodes;
    timings['hack/lab up --nodes 2'] = Date.now() - began;
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    const { first, second, pids } = await lab.down();
    console.log(`e2e timings (ms): ${JSON.stringify(timings)}\n${lab.upOutput}`);
    expect(first).toContain(`stopped kubelet on ${NODES[0]}`);
    // A second down is a no-op.
    expect(second).toBe('');
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
    for (const n of NODES) expect(routes).not.toContain(`via ${lab.nodeIP(n)} `);
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

  it('runs a static pod from the node\'s manifest directory, with a mirror pod that comes back when deleted', async () => {
    const node = NODES[0]!;
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: web\n    image: nginx\n';
    writeFileSync(`/etc/kubelab/${node}/manifests/static-web.yaml`, manifest);
    const mirror = `static-web-${node}`;
    const running = async () => {
      const r = await k(['get', 'pod', mirror, '-o', 'json']);
      if (r.code !== 0) return undefined;
      const p = JSON.parse(r.stdout) as { metadata: { uid: string; annotations?: Record<string, string> }; spec: { nodeName: string }; status: { phase: string } };
      return p.status.phase === 'Running' && p;
    };
    const first = await until(`mirror pod ${mirror} Running`, running, 90_000);
    expect(first.spec.nodeName).toBe(node);
    expect(first.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(first.metadata.annotations?.['kubernetes.io/config.mirror']).toBeTruthy();
    // The kubelet owns the pod: deleting the mirror only makes a new mirror of the same running pod.
    expect((await k(['delete', 'pod', mirror, '--wait=false'])).stderr).toBe('');
    const again = await until('a new mirror pod', async () => {
      const p = await running();
      return p && p.metadata.uid !== first.metadata.uid && p;
    }, 60_000);
    expect(again.metadata.annotations?.['kubernetes.io/config.hash']).toBe(first.metadata.annotations?.['kubernetes.io/config.hash']);
    // Removing the manifest stops the pod and removes its mirror.
    rmSync(`/etc/kubelab/${node}/manifests/static-web.yaml`);
    await until('the mirror pod gone', async () => (await k(['get', 'pod', mirror])).stderr.includes('NotFound'), 60_000);
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
