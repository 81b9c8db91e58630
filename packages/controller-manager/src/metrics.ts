// The controller-manager's Prometheus registry and the workqueue metrics every controller's queue
// reports (upstream's k8s.io/component-base/metrics/prometheus/workqueue), labelled by queue name.
// Serving it is someone else's job: read `controllerManagerRegistry.metrics()`.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkQueue } from '@kubelab/client';

export const controllerManagerRegistry = new Registry();

/** Queues being run now, by name; the depth gauge reads them when scraped. */
const liveQueues = new Map<string, WorkQueue<string>>();

export const workqueueDepth = new Gauge({
  name: 'workqueue_depth',
  help: 'Current depth of workqueue',
  labelNames: ['name'],
  registers: [controllerManagerRegistry],
  collect() {
    for (const [name, q] of liveQueues) this.set({ name }, q.len());
  },
});

export const workqueueAdds = new Counter({
  name: 'workqueue_adds_total',
  help: 'Total number of adds handled by workqueue',
  labelNames: ['name'],
  registers: [controllerManagerRegistry],
});

export const workqueueRetries = new Counter({
  name: 'workqueue_retries_total',
  help: 'Total number of retries handled by workqueue',
  labelNames: ['name'],
  registers: [controllerManagerRegistry],
});

/** Upstream's buckets: ExponentialBuckets(10e-9, 10, 10). */
const DURATION_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

export const workqueueWorkDuration = new Histogram({
  name: 'workqueue_work_duration_seconds',
  help: 'How long in seconds processing an item from workqueue takes.',
  labelNames: ['name'],
  buckets: DURATION_BUCKETS,
  registers: [controllerManagerRegistry],
});

/**
 * Starts reporting `queue` under its name: counts adds and rate-limited retries, exposes its depth,
 * and returns `sync` wrapped so each call is timed. Call `stop` when the queue is shut down.
 */
export function instrumentQueue(queue: WorkQueue<string>, sync: (key: string) => Promise<void>): { sync: (key: string) => Promise<void>; stop: () => void } {
  const name = queue.name;
  if (!name) return { sync, stop: () => {} };
  liveQueues.set(name, queue);
  workqueueDepth.set({ name }, queue.len());
  workqueueAdds.inc({ name }, 0);
  workqueueRetries.inc({ name }, 0);
  const add = queue.add.bind(queue);
  const addRateLimited = queue.addRateLimited.bind(queue);
  queue.add = (key: string) => {
    if (!queue.isShuttingDown()) workqueueAdds.inc({ name });
    add(key);
  };
  queue.addRateLimited = (key: string) => {
    if (!queue.isShuttingDown()) workqueueRetries.inc({ name });
    addRateLimited(key);
  };
  const timed = async (key: string) => {
    const end = workqueueWorkDuration.startTimer({ name });
    try {
      await sync(key);
    } finally {
      end();
    }
  };
  return {
    sync: timed,
    stop: () => {
      if (liveQueues.get(name) === queue) liveQueues.delete(name);
      workqueueDepth.set({ name }, 0);
    },
  };
}
