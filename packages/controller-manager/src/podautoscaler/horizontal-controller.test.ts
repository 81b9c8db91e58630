// The HPA controller against seeded caches, a fake scale/metrics client and a fake clock: scale-up,
// downscale stabilization, behavior rate limits, min/max, metric failures, status and events.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { seededInformer } from '../testing.js';
import { HorizontalController, type Scale } from './horizontal-controller.js';
import type { PodMetricsInfo } from './replica-calculator.js';

const START = Date.parse('2026-12-03T08:00:00Z');

function pod(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${i}`, namespace: 'ns', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] },
    status: {
      phase: 'Running',
      startTime: new Date(START - 600_000).toISOString(),
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(START - 590_000).toISOString() }],
    },
  } as KubeObject;
}

function hpa(spec: Partial<HorizontalPodAutoscaler['spec']> = {}): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'ns', uid: 'hpa-uid' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  } as KubeObject;
}

function setup(obj: KubeObject, replicas: number) {
  const clock = new FakeClock(START);
  const hpaInf = seededInformer([obj]);
  const podInf = seededInformer(Array.from({ length: replicas }, (_, i) => pod(i)));
  const recorder = new FakeRecorder();
  const state = { replicas, usage: 50 as number | undefined, metricsError: undefined as string | undefined };
  const statuses: HorizontalPodAutoscaler[] = [];
  const ctrl = new HorizontalController({
    hpaInformer: hpaInf,
    podInformer: podInf,
    recorder,
    clock,
    syncPeriodMs: 15_000,
    downscaleStabilizationMs: 300_000,
    tolerance: 0.1,
    cpuInitializationPeriodMs: 300_000,
    delayOfInitialReadinessStatusMs: 30_000,
    client: {
      getScale: async () => ({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'ns' }, spec: { replicas: state.replicas }, status: { replicas: state.replicas, selector: 'app=web' } }) as Scale,
      updateScale: async (_ns, _ref, scale) => {
        state.replicas = scale.spec!.replicas!;
        // The Deployment brings its pods to the new count at once.
        for (const p of podInf.lister.list('ns')) podInf.store.delete(p);
        for (let i = 0; i < state.replicas; i++) podInf.store.add(pod(i));
        return scale;
      },
      getResourceMetric: async (): Promise<PodMetricsInfo> => {
        if (state.metricsError) throw new Error(state.metricsError);
        const m: PodMetricsInfo = new Map();
        for (const p of podInf.lister.list('ns')) m.set(p.metadata.name!, { value: state.usage!, timestampMs: clock.now() - 5_000, windowMs: 10_000 });
        return m;
      },
      updateStatus: async (h) => {
        statuses.push(structuredClone(h));
        hpaInf.store.add(structuredClone(h) as KubeObject);
      },
    },
  });
  const sync = async (advanceMs = 15_000) => {
    await clock.step(advanceMs);
    await ctrl.sync('ns/web');
  };
  const status = () => statuses.at(-1)!.status!;
  const condition = (type: string) => status().conditions?.find((c) => c.type === type);
  return { ctrl, clock, state, recorder, statuses, status, condition, sync };
}

describe('HorizontalController', () => {
  it('scales up on CPU above target and reports status, conditions and an event', async () => {
    const t = setup(hpa(), 1);
    t.state.usage = 90; // 90% of 100m against 50% -> ceil(1.8) = 2
    await t.sync();
    expect(t.state.replicas).toBe(2);
    expect(t.recorder.events).toEqual(['Normal SuccessfulRescale New size: 2; reason: cpu resource utilization (percentage of request) above target']);
    expect(t.status()).toMatchObject({
      currentReplicas: 1,
      desiredReplicas: 2,
      lastScaleTime: new Date(START + 15_000).toISOString().replace('.000Z', 'Z'),
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }],
    });
    expect(t.condition('AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 2' });
    expect(t.condition('ScalingActive')).toMatchObject({
      status: 'True',
      reason: 'ValidMetricFound',
      message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
    });
    expect(t.condition('ScalingLimited')).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
  });

  it('keeps the count within the tolerance, and caps at maxReplicas (ScalingLimited TooManyReplicas)', async () => {
    const t = setup(hpa({ maxReplicas: 3 }), 2);
    t.state.usage = 54;
    await t.sync();
    expect(t.state.replicas).toBe(2);
    expect(t.recorder.events).toEqual([]);
    t.state.usage = 200; // 4x -> 8, capped at 3 (the default scale-up limit is max(2x, 4) = 4)
    await t.sync();
    expect(t.state.replicas).toBe(3);
    expect(t.condition('ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
  });

  it('without a behavior, scales down only after the downscale stabilization window', async () => {
    const t = setup(hpa(), 4);
    t.state.usage = 10; // 10% -> ceil(0.2 x 4) = 1, held by the initial recommendation of 4
    await t.sync();
    expect(t.state.replicas).toBe(4);
    expect(t.condition('AbleToScale')).toMatchObject({ reason: 'ScaleDownStabilized' });
    // The first recommendation (the current 4, at the first sync) leaves the 5-minute window after 300 s.
    for (let i = 0; i < 30 && t.state.replicas === 4; i++) await t.sync();
    expect(t.state.replicas).toBe(1);
    expect(t.clock.now() - START).toBe(15_000 + 300_000 + 15_000);
    expect(t.recorder.events.at(-1)).toBe('Normal SuccessfulRescale New size: 1; reason: All metrics below target');
  });

  it('with a behavior: a short scale-down window and the policies limit the rate', async () => {
    const behavior = {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 20, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    };
    const t = setup(hpa({ behavior } as never), 1);
    t.state.usage = 400; // wants 8: one pod per minute
    await t.sync();
    expect(t.state.replicas).toBe(2);
    expect(t.condition('ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
    await t.sync();
    expect(t.state.replicas).toBe(2);
    await t.sync(60_000);
    expect(t.state.replicas).toBe(3);

    t.state.usage = 5;
    await t.sync(); // within the 20 s window of the last high recommendation
    expect(t.state.replicas).toBe(3);
    await t.sync(); // 30 s later: every recommendation of the window is 1
    expect(t.state.replicas).toBe(1);
  });

  it('a metrics failure: FailedGetResourceMetric event, ScalingActive False, no scaling', async () => {
    const t = setup(hpa(), 2);
    t.state.metricsError = 'no metrics returned from resource metrics API';
    await t.sync();
    expect(t.state.replicas).toBe(2);
    const err = 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API';
    expect(t.recorder.events).toEqual([
      `Warning FailedGetResourceMetric ${err}`,
      `Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: ${err}`,
    ]);
    expect(t.condition('ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: ${err}` });
    expect(t.status()).toMatchObject({ currentReplicas: 2, currentMetrics: [{ type: '' }] });
  });

  it('brings the count up to minReplicas without metrics', async () => {
    const t = setup(hpa({ minReplicas: 2 }), 1);
    t.state.metricsError = 'unreachable';
    await t.sync();
    expect(t.state.replicas).toBe(2);
    expect(t.recorder.events).toEqual(['Normal SuccessfulRescale New size: 2; reason: Current number of replicas below Spec.MinReplicas']);
  });
});
