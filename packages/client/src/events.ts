// core/v1 Events, as client-go's tools/record: an EventBroadcaster writes what its recorders
// (one per component, `source.component`) record. Before writing, the EventCorrelator (events_cache.go)
// - aggregates: the 10th event in 10 minutes that differs from earlier ones about the same object only
//   by message becomes one event "(combined from similar events): <message>";
// - counts: a repeat of the same event (source, object, type, reason, message) patches the first one's
//   count, lastTimestamp and message, so `kubectl describe` shows "(x3 over 10s)";
// - filters spam: 25 events per source and object, then one more every 5 minutes.
// Recording never blocks: at most 1000 events wait to be written, more are dropped.
import { findResource, isAlreadyExists, isNotFound, StatusError, type KubeObject, rfc3339 } from '@kubelab/api';
import type { Event, EventSource, ObjectReference } from 'kubernetes-types/core/v1';
import type { Clock } from './clock.js';
import { EventQueue, type EventType, eventName, eventNamespace, getReference, sprintf } from './events-queue.js';
import type { RestClient } from './rest.js';

export { type EventType, sprintf } from './events-queue.js';
export type { EventSource } from 'kubernetes-types/core/v1';

const EVENTS = findResource('', 'v1', 'events')!;

const MAX_LRU_CACHE_ENTRIES = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;

/** What a component records events through (client-go's record.EventRecorder). */
export interface EventRecorder {
  /** An event about `object` with a fixed message. */
  event(object: KubeObject, eventtype: EventType, reason: string, message: string): void;
  /** An event whose message is `messageFmt` formatted with `args` (Go verbs: %v, %s, %d, %q). */
  eventf(object: KubeObject, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void;
  /** eventf with annotations on the Event. */
  annotatedEventf(object: KubeObject, annotations: Record<string, string>, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void;
}

/** A Map used as an LRU cache of at most `max` entries (groupcache's lru.Cache). */
class LRU<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.m.get(key);
    if (v !== undefined) {
      this.m.delete(key);
      this.m.set(key, v);
    }
    return v;
  }
  add(key: string, v: V): void {
    this.m.delete(key);
    this.m.set(key, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
  }
}

const involved = (e: Event): ObjectReference => e.involvedObject;
const sourceKey = (e: Event) => [e.source?.component, e.source?.host, involved(e).kind, involved(e).namespace, involved(e).name];

/** Same source, object, type, reason and message (getEventKey). */
function getEventKey(e: Event): string {
  return [...sourceKey(e), involved(e).fieldPath, involved(e).uid, involved(e).apiVersion, e.type, e.reason, e.message].map((v) => v ?? '').join('\u0000');
}

/** Same source and object (getSpamKey). */
function getSpamKey(e: Event): string {
  return [...sourceKey(e), involved(e).uid, involved(e).apiVersion].map((v) => v ?? '').join('\u0000');
}

/** Same source, object, type, reason and reporter: events differing only by message (EventAggregatorByReasonFunc). */
function getAggregateKey(e: Event): string {
  return [...sourceKey(e), involved(e).uid, involved(e).apiVersion, e.type, e.reason, e.reportingComponent, e.reportingInstance].map((v) => v ?? '').join('\u0000');
}

export interface EventCorrelateResult {
  event: Event;
  /** The write: a patch of an earlier event (its count, lastTimestamp and message), or a create. */
  patch?: Pick<Event, 'count' | 'lastTimestamp' | 'message'>;
  /** The correlation key (writes with the same key must run in order). */
  key: string;
  skip: boolean;
}

/** Filters, aggregates and counts events before they are written (client-go's EventCorrelator). */
export class EventCorrelator {
  private readonly spam = new LRU<{ tokens: number; last: number }>(MAX_LRU_CACHE_ENTRIES);
  private readonly aggregates = new LRU<{ localKeys: Set<string>; last: number }>(MAX_LRU_CACHE_ENTRIES);
  private readonly observed = new LRU<{ count: number; firstTimestamp?: string; name: string }>(MAX_LRU_CACHE_ENTRIES);

  constructor(private readonly clock: Clock) {}

  correlate(newEvent: Event): EventCorrelateResult {
    const { event: aggregated, key } = this.aggregate(newEvent);
    const { event, patch } = this.observe(aggregated, key);
    return { event, patch, key, skip: this.filter(event) };
  }

  /** True when the source has used up its budget of events about this object (a token bucket per key). */
  private filter(e: Event): boolean {
    const key = getSpamKey(e);
    const now = this.clock.now();
    const b = this.spam.get(key) ?? { tokens: SPAM_BURST, last: now };
    b.tokens = Math.min(SPAM_BURST, b.tokens + ((now - b.last) / 1000) * SPAM_QPS);
    b.last = now;
    const accept = b.tokens >= 1;
    if (accept) b.tokens--;
    this.spam.add(key, b);
    return !accept;
  }

  private aggregate(e: Event): { event: Event; key: string } {
    const now = this.clock.now();
    const eventKey = getEventKey(e);
    const aggregateKey = getAggregateKey(e);
    let rec = this.aggregates.get(aggregateKey);
    if (!rec || now - rec.last > AGGREGATE_INTERVAL_MS) rec = { localKeys: new Set(), last: now };
    rec.localKeys.add(e.message ?? '');
    rec.last = now;
    this.aggregates.add(aggregateKey, rec);
    if (rec.localKeys.size < AGGREGATE_MAX_EVENTS) return { event: e, key: eventKey };
    rec.localKeys.delete(rec.localKeys.values().next().value!);
    const ts = rfc3339(now);
    const combined: Event = {
      metadata: { name: eventName(involved(e).name, now), namespace: e.metadata.namespace },
      count: 1,
      firstTimestamp: ts,
      involvedObject: e.involvedObject,
      lastTimestamp: ts,
      message: `(combined from similar events): ${e.message}`,
      type: e.type,
      reason: e.reason,
      source: e.source,
    };
    return { event: combined, key: aggregateKey };
  }

  private observe(e: Event, key: string): { event: Event; patch?: EventCorrelateResult['patch'] } {
    const last = this.observed.get(key);
    let event = e;
    let patch: EventCorrelateResult['patch'];
    if (last && last.count > 0) {
      event = { ...e, metadata: { ...e.metadata, name: last.name }, firstTimestamp: last.firstTimestamp, count: last.count + 1 };
      patch = { count: event.count, lastTimestamp: event.lastTimestamp, message: event.message };
    }
    this.observed.add(key, { count: event.count ?? 1, firstTimestamp: event.firstTimestamp, name: event.metadata.name! });
    return { event, patch };
  }
}

export interface EventBroadcasterOptions {
  client: RestClient;
  clock: Clock;
  /** Called for each failed write: a try that will be repeated (the server did not answer) or a refusal. */
  onError?: (err: unknown, event: Event) => void;
  /** Writes in flight at once (default 16; the correlator keeps writes about one event in order). */
  maxInFlight?: number;
  /** Events waiting at once (default 1000). */
  maxQueued?: number;
  /** Sleep between tries of a failed write (default 10 s). */
  retrySleepMs?: number;
  /** Randomizes the first sleep (default Math.random). */
  random?: () => number;
}

/** Writes the core/v1 Events its recorders record (client-go's record.EventBroadcaster with StartRecordingToSink). */
export class EventBroadcaster {
  private readonly correlator: EventCorrelator;
  private readonly queue: EventQueue;

  constructor(private readonly opts: EventBroadcasterOptions) {
    this.correlator = new EventCorrelator(opts.clock);
    this.queue = new EventQueue(opts);
  }

  /** A recorder for one component: `source.component` (and reportingComponent), `source.host` (and reportingInstance). */
  newRecorder(source: EventSource): EventRecorder {
    const record = (object: KubeObject, annotations: Record<string, string> | undefined, eventtype: EventType, reason: string, message: string) =>
      this.action(this.makeEvent(getReference(object), annotations, eventtype, reason, message, source));
    return {
      event: (object, eventtype, reason, message) => record(object, undefined, eventtype, reason, message),
      eventf: (object, eventtype, reason, messageFmt, ...args) => record(object, undefined, eventtype, reason, sprintf(messageFmt, ...args)),
      annotatedEventf: (object, annotations, eventtype, reason, messageFmt, ...args) => record(object, annotations, eventtype, reason, sprintf(messageFmt, ...args)),
    };
  }

  /** Events dropped because too many were waiting. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Resolves when every event recorded so far has been written (or given up on). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops recording; events still waiting to be retried are dropped. */
  shutdown(): void {
    this.queue.shutdown();
  }

  private makeEvent(ref: ObjectReference, annotations: Record<string, string> | undefined, type: EventType, reason: string, message: string, source: EventSource): Event {
    const nowMs = this.opts.clock.now();
    const t = rfc3339(nowMs);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(ref.name, nowMs), namespace: eventNamespace(ref), ...(annotations ? { annotations } : {}) },
      involvedObject: ref,
      reason,
      message,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      type,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      reportingComponent: source.component ?? '',
      reportingInstance: source.host ?? '',
    };
  }

  private action(event: Event): void {
    if (!this.queue.hasRoom()) {
      this.queue.dropped++;
      return;
    }
    const result = this.correlator.correlate(event);
    if (result.skip) return;
    this.queue.enqueue(result.key, () => this.recordEvent(result));
  }

  /** One try: patch an earlier event (create it if it is gone) or create; false to retry (recordEvent). */
  private async recordEvent({ event, patch }: EventCorrelateResult): Promise<boolean> {
    const events = this.opts.client.resource<KubeObject>(EVENTS, event.metadata.namespace);
    try {
      try {
        if (patch) {
          await events.patch(event.metadata.name!, patch, 'strategic');
          return true;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await events.create({ ...event, metadata: { ...event.metadata, resourceVersion: undefined } } as KubeObject);
      return true;
    } catch (err) {
      // The server refused it (a bad event, or it exists already): no use trying again.
      if (err instanceof StatusError) {
        if (!isAlreadyExists(err)) this.opts.onError?.(err, event);
        return true;
      }
      this.opts.onError?.(err, event);
      return false;
    }
  }
}

/** Keeps recorded events as `<type> <reason> <message>` strings (client-go's record.FakeRecorder). */
export class FakeRecorder implements EventRecorder {
  readonly events: string[] = [];
  /** Appends ` involvedObject{kind=...,apiVersion=...}` to each event. */
  constructor(private readonly includeObject = false) {}

  event(object: KubeObject, eventtype: EventType, reason: string, message: string): void {
    const suffix = this.includeObject ? ` involvedObject{kind=${object.kind},apiVersion=${object.apiVersion}}` : '';
    this.events.push(`${eventtype} ${reason} ${message}${suffix}`);
  }

  eventf(object: KubeObject, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void {
    this.event(object, eventtype, reason, sprintf(messageFmt, ...args));
  }

  annotatedEventf(object: KubeObject, _annotations: Record<string, string>, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void {
    this.eventf(object, eventtype, reason, messageFmt, ...args);
  }
}

export interface ComponentEventRecorderOptions extends Omit<EventBroadcasterOptions, 'onError'> {
  /** source.component. */
  component: string;
  /** source.host. */
  instance?: string;
  onError?: (err: unknown, reason: string) => void;
}

/** A broadcaster with a single recorder, for a process that records as one source. */
export class ComponentEventRecorder implements EventRecorder {
  private readonly broadcaster: EventBroadcaster;
  private readonly recorder: EventRecorder;

  constructor(opts: ComponentEventRecorderOptions) {
    const onError = opts.onError;
    this.broadcaster = new EventBroadcaster({ ...opts, onError: onError && ((err, e) => onError(err, e.reason ?? '')) });
    this.recorder = this.broadcaster.newRecorder({ component: opts.component, host: opts.instance });
  }

  event(object: KubeObject, eventtype: EventType, reason: string, message: string): void {
    this.recorder.event(object, eventtype, reason, message);
  }

  eventf(object: KubeObject, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void {
    this.recorder.eventf(object, eventtype, reason, messageFmt, ...args);
  }

  annotatedEventf(object: KubeObject, annotations: Record<string, string>, eventtype: EventType, reason: string, messageFmt: string, ...args: unknown[]): void {
    this.recorder.annotatedEventf(object, annotations, eventtype, reason, messageFmt, ...args);
  }

  flush(): Promise<void> {
    return this.broadcaster.flush();
  }

  shutdown(): void {
    this.broadcaster.shutdown();
  }
}
