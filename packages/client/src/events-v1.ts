// events.k8s.io/v1 Events, as client-go's tools/events (the scheduler's API): an EventsV1Broadcaster
// writes what its recorders (one per reporting controller) record. Isomorphic events (same type,
// action, reason, reporter, regarding and related objects; the note does not count) form a series:
// the first is created, the second patches `series` {count: 2, lastObservedTime}, later ones only
// count. Every 30 minutes the series in progress are written again; every 6 minutes a series not seen
// for 6 minutes is written a last time and forgotten, as are single events older than 6 minutes.
import { findResource, isAlreadyExists, isNotFound, StatusError, type KubeObject, rfc3339Micro } from '@kubelab/api';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from './clock.js';
import { EventQueue, type EventType, eventName, eventNamespace, getReference, referenceKey, sprintf } from './events-queue.js';
import type { RestClient } from './rest.js';

export type { EventsV1Event };

const EVENTS_V1 = findResource('events.k8s.io', 'v1', 'events')!;
/** client-go tools/events finishTime and refreshTime. */
export const SERIES_FINISH_MS = 6 * 60_000;
export const SERIES_REFRESH_MS = 30 * 60_000;

/** What a component records events.k8s.io Events through (client-go's events.EventRecorder). */
export interface EventsV1Recorder {
  /**
   * An event about `regarding` (and, for complex actions, `related`): `action` is what was done or
   * failed (e.g. Scheduling, Binding), `note` formatted with `args` (Go verbs) is the message.
   */
  eventf(regarding: KubeObject, related: KubeObject | undefined, eventtype: EventType, reason: string, action: string, note: string, ...args: unknown[]): void;
}

export interface EventsV1BroadcasterOptions {
  client: RestClient;
  clock: Clock;
  /** The host part of reportingInstance (`<controller>-<hostname>`; default os.hostname()). */
  hostname?: string;
  /** Called for each failed write: a try that will be repeated (the server did not answer) or a refusal. */
  onError?: (err: unknown, event: EventsV1Event) => void;
  /** Writes in flight at once (default 16). */
  maxInFlight?: number;
  /** Events waiting at once (default 1000). */
  maxQueued?: number;
  /** Sleep between tries of a failed write (default 10 s). */
  retrySleepMs?: number;
}

export class EventsV1Broadcaster {
  /** The isomorphic events seen lately, by key (eventCache). */
  private readonly cache = new Map<string, EventsV1Event>();
  private readonly queue: EventQueue;
  private readonly timers: TimerHandle[] = [];
  private stopped = false;

  constructor(private readonly opts: EventsV1BroadcasterOptions) {
    this.queue = new EventQueue(opts);
  }

  /** A recorder for `reportingController`; its reportingInstance is `<reportingController>-<hostname>`. */
  newRecorder(reportingController: string): EventsV1Recorder {
    const reportingInstance = `${reportingController}-${this.opts.hostname ?? hostname()}`;
    return {
      eventf: (regarding, related, eventtype, reason, action, note, ...args) => {
        const now = this.opts.clock.now();
        const ref = getReference(regarding);
        const event: EventsV1Event = {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name: eventName(ref.name, now), namespace: eventNamespace(ref) },
          eventTime: rfc3339Micro(now),
          reportingController,
          reportingInstance,
          action,
          reason,
          regarding: ref,
          ...(related ? { related: getReference(related) } : {}),
          note: sprintf(note, ...args),
          type: eventtype,
        };
        this.recordToSink(event);
      },
    };
  }

  get dropped(): number {
    return this.queue.dropped;
  }

  /** Resolves when every write queued so far is done (or given up on). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops recording and the series timers. */
  shutdown(): void {
    this.stopped = true;
    for (const t of this.timers.splice(0)) this.opts.clock.clearTimeout(t);
    this.queue.shutdown();
  }

  private recordToSink(event: EventsV1Event): void {
    if (this.stopped) return;
    if (!this.queue.hasRoom()) {
      this.queue.dropped++;
      return;
    }
    this.startTimers();
    const key = [event.type, event.action, event.reason, event.reportingController, event.reportingInstance, referenceKey(event.regarding), referenceKey(event.related)].join('\u0001');
    const isomorphic = this.cache.get(key);
    const now = rfc3339Micro(this.opts.clock.now());
    if (isomorphic?.series) {
      isomorphic.series = { count: isomorphic.series.count + 1, lastObservedTime: now };
      return;
    }
    if (isomorphic) {
      isomorphic.series = { count: 2, lastObservedTime: now };
      this.write(key, isomorphic);
      return;
    }
    this.cache.set(key, event);
    this.write(key, event);
  }

  private write(key: string, event: EventsV1Event): void {
    const copy = structuredClone(event);
    this.queue.enqueue(key, () => this.recordEvent(copy));
  }

  /** One try: a series is patched (created if gone), a new event created; false to retry. */
  private async recordEvent(event: EventsV1Event): Promise<boolean> {
    const events = this.opts.client.resource<KubeObject>(EVENTS_V1, event.metadata!.namespace);
    try {
      try {
        if (event.series) {
          await events.patch(event.metadata!.name!, { series: event.series }, 'strategic');
          return true;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await events.create(event as KubeObject);
      return true;
    } catch (err) {
      if (err instanceof StatusError) {
        // A series whose first event was being created at the same time: the patch will work now.
        if (isAlreadyExists(err)) return !event.series;
        this.opts.onError?.(err, event);
        return true;
      }
      this.opts.onError?.(err, event);
      return false;
    }
  }

  private startTimers(): void {
    if (this.timers.length) return;
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.stopped) return;
        fn();
        this.timers[i] = this.schedule(tick, ms);
      };
      const i = this.timers.push(this.schedule(tick, ms)) - 1;
    };
    every(SERIES_REFRESH_MS, () => this.refreshExistingEventSeries());
    every(SERIES_FINISH_MS, () => this.finishSeries());
  }

  private schedule(fn: () => void, ms: number): TimerHandle {
    const h = this.opts.clock.setTimeout(fn, ms);
    // A pending refresh must not keep a stopping process alive.
    (h as { unref?: () => void } | undefined)?.unref?.();
    return h;
  }

  private refreshExistingEventSeries(): void {
    for (const [key, event] of this.cache) if (event.series) this.write(key, event);
  }

  private finishSeries(): void {
    const cutoff = this.opts.clock.now() - SERIES_FINISH_MS;
    for (const [key, event] of this.cache) {
      if (event.series) {
        if (Date.parse(event.series.lastObservedTime) < cutoff) {
          this.write(key, event);
          this.cache.delete(key);
        }
      } else if (Date.parse(event.eventTime) < cutoff) {
        this.cache.delete(key);
      }
    }
  }
}

/** Keeps recorded events as `<type> <reason> <note>` strings (client-go's events.FakeRecorder). */
export class FakeEventsV1Recorder implements EventsV1Recorder {
  readonly events: string[] = [];
  /** The objects each event was about, in order (`regarding`). */
  readonly regarding: KubeObject[] = [];

  eventf(regarding: KubeObject, _related: KubeObject | undefined, eventtype: EventType, reason: string, _action: string, note: string, ...args: unknown[]): void {
    this.regarding.push(regarding);
    this.events.push(`${eventtype} ${reason} ${sprintf(note, ...args)}`);
  }
}
