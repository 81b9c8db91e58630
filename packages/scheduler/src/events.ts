// Writes core/v1 Events for pods, folding repeats of the same reason and message into one Event
// with a growing count (client-go's EventCorrelator, reduced), so `kubectl describe` shows
// "(x3 over 10s)". Writes are fire-and-forget; flush() waits for them.
import type { RestClient, ResourceClient } from '@kubelab/client';
import { findResource, isNotFound, type KubeObject } from '@kubelab/api';
import type { Clock } from '@kubelab/client';
import type { Event, Pod } from 'kubernetes-types/core/v1';
import { Limiter } from './limiter.js';

const EVENTS = findResource('', 'v1', 'events')!;
const MAX_REMEMBERED = 4096;

export interface EventSink {
  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  flush(): Promise<void>;
}

export class EventRecorder implements EventSink {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; first: string }>();
  private readonly limiter = new Limiter(16);

  constructor(
    private readonly client: RestClient,
    private readonly opts: { component: string; instance: string; clock: Clock; onError?: (err: unknown) => void },
  ) {
  }

  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.limiter.run(() => this.write(pod, type, reason, message)).catch((err) => this.opts.onError?.(err));
  }

  async flush(): Promise<void> {
    await this.limiter.idle();
  }

  private async write(pod: Pod, type: string, reason: string, message: string): Promise<void> {
    const nowMs = this.opts.clock.now();
    const now = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ns = pod.metadata?.namespace ?? 'default';
    const key = [pod.metadata?.uid, type, reason, message].join('\u0000');
    const events: ResourceClient<KubeObject> = this.client.resource<KubeObject>(EVENTS, ns);
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      try {
        await events.patch(prev.name, { count: prev.count, lastTimestamp: now }, 'merge', {}).then(() => undefined);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.seen.delete(key);
      }
    }
    const name = `${pod.metadata?.name}.${(BigInt(nowMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: ns, name: pod.metadata?.name, uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion },
      reason,
      message,
      type,
      source: { component: this.opts.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance,
    };
    await events.create(ev as KubeObject);
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { name, namespace: ns, count: 1, first: now });
  }
}
