// End to end (upstream: test/e2e/autoscaling/horizontal_pod_autoscaling.go, reduced): on a one-node lab, a
// Deployment with a CPU request is autoscaled with `kubectl autoscale` (which, as kubectl 1.32 does, POSTs an
// autoscaling/v1 object); a busy loop exec'd into its pod drives the CPU utilization from metrics.k8s.io over
// the 50% target, the HPA controller scales the Deployment up to --max through /scale, and once the loop is
// killed it scales back down to --min (a short behavior.scaleDown window instead of the default 5 minutes).
// Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

// Names, addresses and pod CIDR of their own (see pods.test.ts): node index 21, pods from 10.244.0.0/21.
const INDEX_BASE = 20;
const CLUSTER_CIDR = '10.244.0.0/21';
let lab: Lab;
const k = (args: string[], input?: string) => lab.k(args, input);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deployment = JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'sleep 1000000'], resources: { requests: { cpu: '100m' } } }],
      },
    },
  },
});

/** Polls `f` every 2 s (each poll runs kubectl). */
function poll<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return until(
    what,
    async () => {
      const v = await f();
      if (!v) await pause(2000);
      return v;
    },
    timeoutMs,
  );
}

const specReplicas = async () => Number((await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout);

/** The row of `kubectl get hpa web`, split into its columns (TARGETS may hold spaces: `cpu: 0%/50%`). */
async function hpaRow(): Promise<{ header: string; name: string; reference: string; targets: string; min: string; max: string; replicas: string }> {
  const out = (await k(['get', 'hpa', 'web'])).stdout.trimEnd().split('\n');
  const m = /^(\S+)\s+(\S+)\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(out[1] ?? '');
  if (!m) throw new Error(`unexpected kubectl get hpa output: ${out.join('\n')}`);
  return { header: out[0]!, name: m[1]!, reference: m[2]!, targets: m[3]!, min: m[4]!, max: m[5]!, replicas: m[6]! };
}

describe.skipIf(!isRoot)('HorizontalPodAutoscaler on a one-node lab', () => {
  beforeAll(async () => {
    lab = await startLab({ prefix: `hpa${process.pid % 1000}-`, indexBase: INDEX_BASE, clusterCIDR: CLUSTER_CIDR, nodes: 1, clusterDNS: false });
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    const { second } = await lab.down();
    expect(second).toBe('');
  }, 180_000);

  it('serves horizontalpodautoscalers in autoscaling/v2 (preferred) and v1', async () => {
    const r = await k(['api-resources', '--api-group=autoscaling', '--no-headers']);
    expect(r.stdout.trim().split(/\s+/)).toEqual(['horizontalpodautoscalers', 'hpa', 'autoscaling/v2', 'true', 'HorizontalPodAutoscaler']);
    const versions = await k(['api-versions']);
    expect(versions.stdout.split('\n').filter((v) => v.startsWith('autoscaling/'))).toEqual(['autoscaling/v1', 'autoscaling/v2']);
  });

  it('kubectl autoscale: scales the Deployment up under CPU load and back down after', async () => {
    expect((await k(['create', '-f', '-'], deployment)).stdout).toBe('deployment.apps/web created\n');
    const auto = await k(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3', '-v=8']);
    expect(auto.stdout).toBe('horizontalpodautoscaler.autoscaling/web autoscaled\n');
    expect(auto.stderr).toMatch(/POST https:\/\/\S+\/apis\/autoscaling\/v1\/namespaces\/default\/horizontalpodautoscalers/);
    // Scale down as soon as the load is gone (the default window is --horizontal-pod-autoscaler-downscale-stabilization, 5m).
    const patch = await k(['patch', 'hpa', 'web', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":0}}}}']);
    expect(patch.stdout).toBe('horizontalpodautoscaler.autoscaling/web patched\n');
    const v2 = JSON.parse((await k(['get', 'horizontalpodautoscalers.v2.autoscaling', 'web', '-o', 'json'])).stdout);
    expect(v2.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
    });

    // Idle: the controller reports the measured utilization (a few percent at most) once the kubelet has two samples.
    const idle = await poll('kubectl get hpa with a measured target', async () => {
      const row = await hpaRow();
      return /^cpu: \d+%\/50%$/.test(row.targets) && row;
    }, 150_000);
    expect(idle.header).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/);
    expect(idle).toMatchObject({ name: 'web', reference: 'Deployment/web', min: '1', max: '3', replicas: '1' });
    expect(await specReplicas()).toBe(1);

    // Load: a busy loop in the pod, about one core against a request of 100m.
    const pod = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    const burn = await k(['exec', pod, '--', 'sh', '-c', 'sh -c "while :; do :; done" >/dev/null 2>&1 & echo $! >/tmp/burn.pid']);
    expect(burn.code).toBe(0);
    await poll('the Deployment scaled up to --max=3', async () => (await specReplicas()) === 3, 180_000);
    const busy = await hpaRow();
    expect(Number(/^cpu: (\d+)%\/50%$/.exec(busy.targets)?.[1])).toBeGreaterThan(50);
    const describe = (await k(['describe', 'hpa', 'web'])).stdout;
    expect(describe).toMatch(/SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    const v2Status = JSON.parse((await k(['get', 'hpa', 'web', '-o', 'json'])).stdout).status;
    expect(v2Status.desiredReplicas).toBe(3);
    expect(v2Status.lastScaleTime).toMatch(/Z$/);
    expect(v2Status.conditions.map((c: { type: string }) => c.type)).toEqual(['AbleToScale', 'ScalingActive', 'ScalingLimited']);

    // The load stops: back to --min=1.
    expect((await k(['exec', pod, '--', 'sh', '-c', 'kill $(cat /tmp/burn.pid)'])).code).toBe(0);
    await poll('the Deployment scaled down to --min=1', async () => (await specReplicas()) === 1, 180_000);
    expect((await k(['describe', 'hpa', 'web'])).stdout).toMatch(/SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/);
    // The autoscaling/v1 view of the same object.
    const v1 = JSON.parse((await k(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web'])).stdout);
    expect(v1).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } });
    expect(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']).toContain('"stabilizationWindowSeconds":0');
  }, 600_000);
});
