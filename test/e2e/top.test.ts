// End to end (upstream: test/e2e/instrumentation/monitoring/metrics_grabber.go and kubectl top, reduced): on a
// one-node lab with real containerd and no metrics-server add-on, a busybox pod burns a CPU; the kubelet samples
// the node's and the pods' cgroups every 10 s (GET /stats/summary, /metrics/resource on :10250), and the apiserver
// serves metrics.k8s.io/v1beta1 from them, so `kubectl top nodes` and `kubectl top pods` show the burner.
// Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

// Names, addresses and pod CIDR of their own (see pods.test.ts): node index 81, pods from 10.244.48.0/20.
const INDEX_BASE = 80;
const CLUSTER_CIDR = '10.244.48.0/20';
let lab: Lab;
const k = (args: string[], input?: string) => lab.k(args, input);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const burner = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'burner', labels: { app: 'burner' } },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'burn', image: 'busybox', command: ['sh', '-c', 'while :; do :; done'] }] },
});

/** Rows of a `kubectl top` table (header dropped), split into columns. */
function rows(out: string): string[][] {
  return out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
}

/** Millicores of a CPU(cores) cell ("1002m", "1"). */
const millicores = (cell: string) => (cell.endsWith('m') ? Number(cell.slice(0, -1)) : Number(cell) * 1000);

describe.skipIf(!isRoot)('kubectl top on a one-node lab', () => {
  beforeAll(async () => {
    lab = await startLab({ prefix: `top${process.pid % 1000}-`, indexBase: INDEX_BASE, clusterCIDR: CLUSTER_CIDR, nodes: 1 });
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    const { second } = await lab.down();
    expect(second).toBe('');
  }, 180_000);

  it('serves metrics.k8s.io/v1beta1 in discovery', async () => {
    const r = await k(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['nodes', 'metrics.k8s.io/v1beta1', 'false', 'NodeMetrics'],
      ['pods', 'metrics.k8s.io/v1beta1', 'true', 'PodMetrics'],
    ]);
  });

  it('kubectl top pods shows the CPU burner above 100m and top nodes the node with non-zero usage', async () => {
    expect((await k(['create', '-f', '-'], burner)).stdout).toBe('pod/burner created\n');
    await until('burner Running', async () => (await k(['get', 'pod', 'burner', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 120_000);

    // Two housekeeping samples (10 s apart) are needed for a rate.
    const pods = await until(
      'kubectl top pods with the burner',
      async () => {
        const r = await k(['top', 'pods']);
        if (r.code !== 0) await pause(2000);
        const row = r.code === 0 ? rows(r.stdout).find((c) => c[0] === 'burner') : undefined;
        return row && millicores(row[1]!) > 100 ? r.stdout : undefined;
      },
      90_000,
    );
    expect(pods.split('\n')[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
    const [name, cpu, memory] = rows(pods).find((c) => c[0] === 'burner')!;
    expect(name).toBe('burner');
    expect(millicores(cpu!)).toBeGreaterThan(100);
    expect(memory).toMatch(/^\d+Mi$/);

    const nodes = await k(['top', 'nodes']);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout.split('\n')[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/);
    const [node] = rows(nodes.stdout);
    expect(node![0]).toBe(lab.nodes[0]);
    // The node's cgroup holds the burner: at least its 100m.
    expect(millicores(node![1]!)).toBeGreaterThan(100);
    expect(Number(node![2]!.replace('%', ''))).toBeGreaterThan(0);
    expect(node![3]).toMatch(/^[1-9]\d*Mi$/);
    // MEMORY% is the working set over the node's allocatable memory (the node's cgroup on a large host: often 0%).
    const allocatable = (await k(['get', 'node', lab.nodes[0]!, '-o', 'jsonpath={.status.allocatable.memory}'])).stdout;
    expect(allocatable).toMatch(/^\d+Ki$/);
    const expected = Math.floor((Number(node![3]!.slice(0, -2)) * 1024 * 100) / Number(allocatable.slice(0, -2)));
    expect(Number(node![4]!.replace('%', ''))).toBeGreaterThanOrEqual(expected - 1);
    expect(Number(node![4]!.replace('%', ''))).toBeLessThanOrEqual(expected + 1);

    // --containers and -A: the container row; a label selector keeps it.
    const containers = await k(['top', 'pods', '-A', '--containers', '-l', 'app=burner']);
    expect(containers.code).toBe(0);
    const crow = rows(containers.stdout).find((c) => c[1] === 'burner');
    expect(crow?.slice(0, 3)).toEqual(['default', 'burner', 'burn']);
    expect(millicores(crow![3]!)).toBeGreaterThan(100);

    // The raw API as metrics-server serves it.
    const pm = JSON.parse((await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burner'])).stdout);
    expect(pm).toMatchObject({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'burner', namespace: 'default' }, window: '10s' });
    expect(pm.containers[0].name).toBe('burn');
  }, 300_000);
});
