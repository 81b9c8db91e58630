import { describe, expect, it } from 'vitest';
import { FakeClock, WorkQueue } from '@kubelab/client';
import { runQueue } from './controller-utils.js';
import { controllerManagerRegistry } from './metrics.js';

const sample = async (metric: string, name: string): Promise<number | undefined> => {
  const m = await controllerManagerRegistry.getSingleMetric(metric)!.get();
  return m.values.find((v) => v.labels.name === name && !('le' in v.labels) && (v as { metricName?: string }).metricName !== `${metric}_sum`)?.value;
};

describe('workqueue metrics', () => {
  it('reports adds, depth, retries and work duration for a queue run by runQueue', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ name: 'metrics_test', clock });
    const abort = new AbortController();
    let fail = true;
    let block: (() => void) | undefined;
    const done = runQueue(
      queue,
      1,
      async (key) => {
        if (key === 'slow') await new Promise<void>((r) => (block = r));
        if (key === 'flaky' && fail) {
          fail = false;
          throw new Error('boom');
        }
      },
      abort.signal,
    );
    queue.add('slow');
    queue.add('a');
    queue.add('b');
    await new Promise((r) => setImmediate(r));
    expect(await sample('workqueue_depth', 'metrics_test')).toBe(2);
    block!();
    queue.add('flaky');
    await clock.step(1000);
    expect(await sample('workqueue_adds_total', 'metrics_test')).toBeGreaterThanOrEqual(5); // 4 adds + the retry
    expect(await sample('workqueue_retries_total', 'metrics_test')).toBe(1);
    const text = await controllerManagerRegistry.metrics();
    expect(text).toMatch(/workqueue_work_duration_seconds_count\{name="metrics_test"\} 5/);
    abort.abort();
    await done;
    expect(await sample('workqueue_depth', 'metrics_test')).toBe(0);
  });
});
