// Events about pods (Scheduled, FailedScheduling, Preempted), written by @kubelab/client's
// EventRecorder: fire and forget, repeats folded into one Event with a growing count. As with
// upstream's events.k8s.io recorder, a repeat of the same event about the same pod is written at most
// once per 6 minutes (its series refresh), so a pod retried for hours does not flood a throttled client.
// At most 1000 events wait to be written; more are dropped, as client-go's broadcaster does when full.
import { EventRecorder as ClientEventRecorder, type Clock, type RestClient } from '@kubelab/client';
import type { KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';

export interface EventSink {
  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  flush(): Promise<void>;
}

/** client-go/tools/events: isomorphic events refresh their series every 6 minutes; an LRU of 4096 keys. */
const SERIES_REFRESH_MS = 6 * 60_000;
const SERIES_KEYS = 4096;
/** client-go's broadcaster queue length (maxQueuedEvents), and how many are handed to the writer at once. */
const MAX_QUEUED = 1000;
const BATCH = 16;

/** Which repeats of an event (pod, type, reason, message) to write: the first, then one per refresh period. */
export class EventSeries {
  private readonly written = new Map<string, number>();
  constructor(private readonly now: () => number) {}

  allow(key: string): boolean {
    const now = this.now();
    const last = this.written.get(key);
    if (last !== undefined && now - last < SERIES_REFRESH_MS) return false;
    this.written.delete(key);
    if (this.written.size >= SERIES_KEYS) this.written.delete(this.written.keys().next().value!);
    this.written.set(key, now);
    return true;
  }
}

/** The scheduler's view of @kubelab/client's EventRecorder: events about pods. */
export class EventRecorder implements EventSink {
  private readonly recorder: ClientEventRecorder;
  private readonly series: EventSeries;
  private readonly queued: Array<[KubeObject, 'Normal' | 'Warning', string, string]> = [];
  private pumping?: Promise<void>;
  /** Events dropped because the queue was full. */
  dropped = 0;

  constructor(client: RestClient, opts: { component: string; instance: string; clock: Clock; onError?: (err: unknown) => void }) {
    const onError = opts.onError;
    this.recorder = new ClientEventRecorder({ client, component: opts.component, instance: opts.instance, clock: opts.clock, onError: onError && ((err) => onError(err)) });
    this.series = new EventSeries(() => opts.clock.now());
  }

  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = [pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`, type, reason, message].join('\u0000');
    if (!this.series.allow(key)) return;
    if (this.queued.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queued.push([{ apiVersion: 'v1', kind: 'Pod', ...pod, metadata: { ...(pod.metadata ?? {}) } } as KubeObject, type, reason, message]);
    this.kick();
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.queued.length) this.kick();
    });
  }

  /** Hands queued events to the recorder a batch at a time, so its own backlog stays small. */
  private async pump(): Promise<void> {
    while (this.queued.length) {
      for (const e of this.queued.splice(0, BATCH)) this.recorder.event(...e);
      await this.recorder.flush();
    }
  }

  async flush(): Promise<void> {
    while (this.pumping) await this.pumping;
    await this.recorder.flush();
  }
}
