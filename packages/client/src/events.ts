// Writes core/v1 Events for any object, as client-go's record.EventRecorder: fire and forget, at most
// a few writes in flight, and repeats of the same (object, type, reason, message) folded into one Event
// whose count and lastTimestamp grow (client-go's EventCorrelator, reduced), so that `kubectl describe`
// shows "(x3 over 10s)".
import { findResource, isNotFound, type KubeObject, rfc3339 } from '@kubelab/api';
import type { RestClient } from './rest.js';
import type { Clock } from './clock.js';

const EVENTS = findResource('', 'v1', 'events')!;
const MAX_REMEMBERED = 4096;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: RestClient;
  /** source.component and reportingComponent, e.g. 'default-scheduler', 'deployment-controller'. */
  component: string;
  /** reportingInstance (host or identity). */
  instance?: string;
  clock: Clock;
  /** Writes in flight at once (default 16). */
  maxInFlight?: number;
  onError?: (err: unknown, reason: string) => void;
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; count: number }>();
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: EventRecorderOptions) {}

  /** Records an event about obj (its apiVersion, kind and metadata name the involved object). */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    void this.limit(() => this.write(obj, type, reason, message)).catch((err) => this.opts.onError?.(err, reason));
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async limit(task: () => Promise<void>): Promise<void> {
    if (this.inFlight >= (this.opts.maxInFlight ?? 16)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      await task();
    } finally {
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) next();
      else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const nowMs = this.opts.clock.now();
    const now = rfc3339(nowMs);
    const ns = obj.metadata.namespace || 'default';
    const events = this.opts.client.resource<KubeObject>(EVENTS, ns);
    const key = [obj.metadata.uid ?? `${ns}/${obj.metadata.name}`, type, reason, message].join('\u0000');
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      try {
        await events.patch(prev.name, { count: prev.count, lastTimestamp: now }, 'merge');
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.seen.delete(key);
      }
    }
    // Upstream names events <object>.<hex of the time in nanoseconds>.
    const name = `${obj.metadata.name}.${(BigInt(nowMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    await events.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.opts.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance ?? '',
    });
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { name, count: 1 });
  }
}
