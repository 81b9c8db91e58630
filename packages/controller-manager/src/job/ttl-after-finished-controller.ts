// The TTL-after-finished controller (upstream's pkg/controller/ttlafterfinished): deletes a finished
// Job (with its pods, foreground) once ttlSecondsAfterFinished has passed since it finished.
import type { KubeObject } from '@kubelab/api';
import { metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { Job } from 'kubernetes-types/batch/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';
import { isJobFinished } from './job-controller.js';

export interface TTLAfterFinishedControllerOptions {
  jobInformer: Informer<KubeObject>;
  /** A fresh read from the API, to check the TTL was not changed meanwhile. */
  getJob(namespace: string, name: string): Promise<Job>;
  /** Deletes with propagationPolicy Foreground and a uid/resourceVersion precondition. */
  deleteJob(job: Job): Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

/** When a finished Job finished: completionTime, else the Complete/Failed condition's transition time. */
export function jobFinishTime(job: Job): number | undefined {
  const cond = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const t = cond?.lastTransitionTime ?? job.status?.completionTime;
  return t ? Date.parse(t) : undefined;
}

export class TTLAfterFinishedController implements RunnableController {
  readonly name = 'ttl-after-finished-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: TTLAfterFinishedControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'ttl_jobs_to_delete', clock: this.clock });
    const enqueue = (j: KubeObject) => {
      if (needsCleanup(j as Job)) this.queue.add(metaNamespaceKey(j));
    };
    opts.jobInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, j) => enqueue(j) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  /** Milliseconds until the Job expires (<= 0: expired), or undefined if it never does. */
  timeLeft(job: Job): number | undefined {
    if (!needsCleanup(job)) return undefined;
    const finished = jobFinishTime(job);
    if (finished === undefined) return undefined;
    return finished + job.spec!.ttlSecondsAfterFinished! * 1000 - this.clock.now();
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.opts.jobInformer.lister.get(namespace, name) as Job | undefined;
    if (!cached) return;
    const left = this.timeLeft(cached);
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    // The TTL may have been changed since the cache saw it: check the live object before deleting.
    const fresh = await this.opts.getJob(namespace, name);
    const freshLeft = this.timeLeft(fresh);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    this.opts.logger?.info?.({ object: key }, 'Cleaning up Job');
    await this.opts.deleteJob(fresh);
  }
}

function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished != null && !job.metadata?.deletionTimestamp && isJobFinished(job);
}
