// End to end (upstream: test/e2e/common/node/container_probe.go, reduced): on a one-node lab with real
// containerd, the seeds' kuard pod with httpGet probes on /ready and /healthy. kubectl's READY column follows
// the readiness probe (0/1 during initialDelaySeconds, 1/1, 0/1 while /ready fails, 1/1 again), and a failing
// liveness probe makes the kubelet kill and restart the container (RESTARTS 1, events Unhealthy and Killing).
// Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

// Names, addresses and pod CIDR of their own (see pods.test.ts): node index 161, pods from 10.244.32.0/19.
const INDEX_BASE = 160;
const CLUSTER_CIDR = '10.244.32.0/19';
let lab: Lab;
const k = (args: string[], input?: string) => lab.k(args, input);

const kuard = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'kuard' },
  spec: {
    containers: [{
      name: 'kuard',
      image: 'gcr.io/kuar-demo/kuard-amd64:blue',
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/ready', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 1 },
      livenessProbe: { httpGet: { path: '/healthy', port: 8080 }, periodSeconds: 2, failureThreshold: 2 },
    }],
  },
});

/** NAME READY STATUS RESTARTS of `kubectl get pod kuard`. */
async function row(): Promise<{ ready: string; status: string; restarts: string }> {
  const [, ready = '', status = '', restarts = ''] = (await k(['get', 'pod', 'kuard', '--no-headers'])).stdout.trim().split(/\s+/);
  return { ready, status, restarts };
}

/** A GET to the pod's kuard from the host (the host routes the node's pod CIDR). */
async function kuardGet(ip: string, path: string): Promise<number> {
  return until(`GET ${path}`, async () => (await fetch(`http://${ip}:8080${path}`, { signal: AbortSignal.timeout(3000) })).status, 20_000);
}

async function events(reason: string): Promise<string> {
  const r = await k(['get', 'events', '--field-selector', `involvedObject.name=kuard,reason=${reason}`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
  return r.stdout;
}

describe.skipIf(!isRoot)('container probes on a one-node lab', () => {
  beforeAll(async () => {
    lab = await startLab({ prefix: `prb${process.pid % 1000}-`, indexBase: INDEX_BASE, clusterCIDR: CLUSTER_CIDR, nodes: 1 });
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    const { second } = await lab.down();
    expect(second).toBe('');
  }, 180_000);

  it('READY follows the readiness probe: 0/1 until it first succeeds, 0/1 while /ready fails, then 1/1', async () => {
    expect((await k(['create', '-f', '-'], kuard)).stdout).toBe('pod/kuard created\n');
    await until('kuard Running', async () => (await row()).status === 'Running', 120_000);
    // Within initialDelaySeconds (5 s) the container runs but is not ready.
    expect((await row()).ready).toBe('0/1');
    await until('READY 1/1', async () => (await row()).ready === '1/1', 30_000);
    const ip = (await k(['get', 'pod', 'kuard', '-o', 'jsonpath={.status.podIP}'])).stdout;
    expect(await kuardGet(ip, '/-/readiness/fail')).toBe(200);
    await until('READY 0/1', async () => (await row()).ready === '0/1', 30_000);
    const cond = (await k(['get', 'pod', 'kuard', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'])).stdout;
    expect(cond).toBe('ContainersNotReady');
    expect(await events('Unhealthy')).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
    expect(await kuardGet(ip, '/-/readiness/pass')).toBe(200);
    await until('READY 1/1 again', async () => (await row()).ready === '1/1', 30_000);
    expect((await row()).restarts).toBe('0');
  }, 240_000);

  it('a failing liveness probe restarts the container: RESTARTS 1, lastState terminated, events Unhealthy and Killing', async () => {
    const ip = (await k(['get', 'pod', 'kuard', '-o', 'jsonpath={.status.podIP}'])).stdout;
    const before = JSON.parse((await k(['get', 'pod', 'kuard', '-o', 'jsonpath={.status.containerStatuses[0]}'])).stdout);
    expect(await kuardGet(ip, '/-/liveness/fail')).toBe(200);
    await until('RESTARTS 1', async () => (await row()).restarts.startsWith('1'), 60_000);
    const after = JSON.parse((await k(['get', 'pod', 'kuard', '-o', 'jsonpath={.status.containerStatuses[0]}'])).stdout);
    expect(after.containerID).not.toBe(before.containerID);
    expect(after.restartCount).toBe(1);
    expect(after.lastState.terminated.containerID).toBe(before.containerID);
    expect(await events('Unhealthy')).toContain('Liveness probe failed: HTTP probe failed with statuscode: 500');
    expect(await events('Killing')).toContain('Container kuard failed liveness probe, will be restarted');
    // The new container is healthy (and ready again after its initial delay): no further restart.
    await until('READY 1/1 after the restart', async () => (await row()).ready === '1/1', 60_000);
    expect((await row()).restarts).toMatch(/^1/);
  }, 180_000);
});
