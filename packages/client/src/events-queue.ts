// What both event broadcasters (core/v1 in events.ts, events.k8s.io/v1 in events-v1.ts) share on
// their way to the API, as client-go's tools/record and tools/events do: a bounded queue that drops
// events when full (maxQueuedEvents, watch.DropIfChannelFull), the retry loop of recordToSink (12 tries,
// 10 s apart, the first sleep randomized), object references, event names and Go-style formatting.
// Writes about the same event run in order; different events are written a few at a time.
import type { KubeObject } from '@kubelab/api';
import type { ObjectReference } from 'kubernetes-types/core/v1';
import { delayOn, type Clock, type DelayFn } from './clock.js';

/** client-go's maxQueuedEvents. */
export const MAX_QUEUED_EVENTS = 1000;
/** client-go's maxTriesPerEvent. */
export const MAX_TRIES_PER_EVENT = 12;
/** client-go's defaultSleepDuration between tries. */
export const EVENT_RETRY_SLEEP_MS = 10_000;

export type EventType = 'Normal' | 'Warning';

/** One attempt to write an event: true when written or abandoned, false to try again after sleeping. */
export type EventWrite = () => Promise<boolean>;

export interface EventQueueOptions {
  clock: Clock;
  /** Events waiting or being written at once; more are dropped (default 1000). */
  maxQueued?: number;
  /** Writes in flight at once (default 16). */
  maxInFlight?: number;
  /** Sleep between tries (default 10 s). */
  retrySleepMs?: number;
  random?: () => number;
}

export class EventQueue {
  private readonly delay: DelayFn;
  private readonly abort = new AbortController();
  /** The last write queued per key: a write waits for the one before it. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly slots: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private queued = 0;
  private inFlight = 0;
  /** Events dropped because the queue was full or shut down. */
  dropped = 0;

  constructor(private readonly opts: EventQueueOptions) {
    this.delay = delayOn(opts.clock);
  }

  /** Whether an event would be accepted now. */
  hasRoom(): boolean {
    return !this.abort.signal.aborted && this.queued < (this.opts.maxQueued ?? MAX_QUEUED_EVENTS);
  }

  /** Queues `write` behind earlier writes with the same key; false (and counted) when dropped. */
  enqueue(key: string, write: EventWrite): boolean {
    if (!this.hasRoom()) {
      this.dropped++;
      return false;
    }
    this.queued++;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.run(write));
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
      this.queued--;
      if (this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
    return true;
  }

  /** Resolves when every queued event has been written, abandoned or given up on. */
  flush(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking events and ends the retries' sleeps; writes in flight finish. */
  shutdown(): void {
    this.abort.abort();
  }

  private async run(write: EventWrite): Promise<void> {
    for (let tries = 1; ; tries++) {
      if (await this.withSlot(write)) return;
      if (tries >= MAX_TRIES_PER_EVENT || this.abort.signal.aborted) return;
      const sleep = this.opts.retrySleepMs ?? EVENT_RETRY_SLEEP_MS;
      await this.delay(tries === 1 ? sleep * (this.opts.random ?? Math.random)() : sleep, this.abort.signal);
      if (this.abort.signal.aborted) return;
    }
  }

  private async withSlot(write: EventWrite): Promise<boolean> {
    if (this.inFlight >= (this.opts.maxInFlight ?? 16)) await new Promise<void>((resolve) => this.slots.push(resolve));
    this.inFlight++;
    try {
      return await write().catch(() => false);
    } finally {
      this.inFlight--;
      this.slots.shift()?.();
    }
  }
}

/** The reference an event keeps to its object (upstream's reference.GetReference). */
export function getReference(obj: KubeObject): ObjectReference {
  const ref: ObjectReference = { kind: obj.kind, apiVersion: obj.apiVersion, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) ref.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

let nameSeq = 0;
/**
 * An event's name: `<object>.<time in nanoseconds, hex>` as upstream. Clocks here count milliseconds, so
 * a counter fills the nanoseconds and two events in the same millisecond get different names.
 */
export function eventName(objectName: string | undefined, nowMs: number): string {
  nameSeq = (nameSeq + 1) % 1_000_000;
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(nameSeq)).toString(16)}`;
}

/** The namespace an event about `ref` lives in (cluster-scoped objects: default). */
export const eventNamespace = (ref: ObjectReference): string => ref.namespace || 'default';

/** The Go-style key of an object reference (all its fields, in order). */
export function referenceKey(ref: ObjectReference | undefined): string {
  if (!ref) return '';
  return [ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, ref.resourceVersion, ref.fieldPath].map((v) => v ?? '').join('\u0000');
}

function formatValue(verb: string, arg: unknown): string {
  switch (verb) {
    case 'd':
      return typeof arg === 'number' || typeof arg === 'bigint' ? String(typeof arg === 'number' ? Math.trunc(arg) : arg) : `%!d(${String(arg)})`;
    case 'q':
      return JSON.stringify(String(arg));
    case 'x':
      return typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(String(arg)).toString('hex');
    default:
      return arg !== null && typeof arg === 'object' && !(arg instanceof Error) ? JSON.stringify(arg) : String(arg);
  }
}

/**
 * Go's fmt.Sprintf for the verbs events use: %v, %s, %d, %q, %x and %%. A verb with no argument prints
 * `%!v(MISSING)`; arguments left over print `%!(EXTRA ...)`, as Go does.
 */
export function sprintf(format: string, ...args: unknown[]): string {
  let i = 0;
  const out = format.replace(/%([%vsdqx])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    return formatValue(verb, args[i++]);
  });
  if (i >= args.length) return out;
  return `${out}%!(EXTRA ${args
    .slice(i)
    .map((a) => `${typeof a}=${formatValue('v', a)}`)
    .join(', ')})`;
}
