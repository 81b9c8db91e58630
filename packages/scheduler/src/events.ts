// Events about pods (Scheduled, FailedScheduling, Preempted), written by @kubelab/client's
// EventRecorder: fire and forget, repeats folded into one Event with a growing count.
import { EventRecorder as ClientEventRecorder, type Clock, type RestClient } from '@kubelab/client';
import type { KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';

export interface EventSink {
  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  flush(): Promise<void>;
}

/** The scheduler's view of @kubelab/client's EventRecorder: events about pods. */
export class EventRecorder implements EventSink {
  private readonly recorder: ClientEventRecorder;

  constructor(client: RestClient, opts: { component: string; instance: string; clock: Clock; onError?: (err: unknown) => void }) {
    const onError = opts.onError;
    this.recorder = new ClientEventRecorder({ client, component: opts.component, instance: opts.instance, clock: opts.clock, onError: onError && ((err) => onError(err)) });
  }

  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', ...pod, metadata: { ...(pod.metadata ?? {}) } } as KubeObject, type, reason, message);
  }

  flush(): Promise<void> {
    return this.recorder.flush();
  }
}
