import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { PodStartupLatencyTracker } from './pod-startup-tracker.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

const pod = (extra: Partial<Pod> = {}): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u1', creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'app' }] },
  ...extra,
});

describe('PodStartupLatencyTracker', () => {
  it('logs one "Observed pod startup duration" at the first Running status written, with each step since the pod was seen', async () => {
    const clock = new FakeClock();
    const { lines, logger } = capture();
    const t = new PodStartupLatencyTracker({ clock, logger });
    await clock.step(500);
    t.observedPod(pod());
    await clock.step(10);
    t.step('u1', 'workerStarted');
    await clock.step(40);
    t.statusWritten(pod(), { phase: 'Pending' });
    t.step('u1', 'volumesMounted');
    await clock.step(300);
    t.step('u1', 'sandboxCreated');
    t.startedPulling('u1');
    await clock.step(1000);
    t.finishedPulling('u1');
    t.step('u1', 'imageReady');
    await clock.step(100);
    t.step('u1', 'containerCreated');
    t.step('u1', 'containerCreated');
    await clock.step(50);
    t.step('u1', 'containerStarted');
    await clock.step(20);
    t.statusWritten(pod(), { phase: 'Pending' });
    expect(lines).toHaveLength(0);
    t.statusWritten(pod(), { phase: 'Running' });
    t.statusWritten(pod(), { phase: 'Running' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'Observed pod startup duration',
      pod: 'shop/web',
      podUID: 'u1',
      podStartE2EDuration: 2.02,
      // Without the time spent pulling.
      podStartSLOduration: 1.02,
      observedRunningMs: 1520,
      steps: {
        workerStarted: 10,
        pendingStatusWritten: 50,
        volumesMounted: 50,
        sandboxCreated: 350,
        imageReady: 1350,
        containerCreated: 1450,
        containerStarted: 1500,
        runningStatusWritten: 1520,
      },
    });
    // Steps after the report are not recorded.
    t.step('u1', 'workerStarted');
    expect(t.steps('u1')!.workerStarted).toBe(10);
  });

  it('does not track a pod that started before it was seen (a restarted kubelet), and forgets removed pods', () => {
    const { lines, logger } = capture();
    const t = new PodStartupLatencyTracker({ clock: new FakeClock(), logger });
    t.observedPod(pod({ status: { phase: 'Running', startTime: '2025-01-01T00:00:00Z' } }));
    t.statusWritten(pod(), { phase: 'Running' });
    expect(t.steps('u1')).toBeUndefined();
    t.observedPod(pod());
    t.deletePod('u1');
    t.statusWritten(pod(), { phase: 'Running' });
    expect(lines).toHaveLength(0);
  });
});
