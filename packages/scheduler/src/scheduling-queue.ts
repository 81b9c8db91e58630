// The scheduling queue (upstream's PriorityQueue): activeQ (pods to try now, highest priority first),
// backoffQ (pods waiting out their backoff after a failure) and unschedulablePods (pods that failed
// and wait for a cluster event one of their rejecting plugins cares about; flushed after 5 minutes).
import { realClock, type Clock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import type { ClusterEvent } from './framework/interface.js';
import { PodInfo } from './framework/node-info.js';
import { Heap } from './heap.js';

export interface QueuedPodInfo {
  info: PodInfo;
  key: string;
  /** When it was last added to a queue (activeQ order among equal priorities). */
  timestamp: number;
  /** When it was first added (for the e2e scheduling latency). */
  initialAttemptTimestamp: number;
  attempts: number;
  /** Plugins that rejected it in the last attempt. */
  unschedulablePlugins: Set<string>;
  /** The scheduling cycle it was popped in. */
  popCycle: number;
  /** Arrival order, breaking timestamp ties. */
  seq?: number;
}

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated';

export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod may sit in unschedulablePods without any event (podMaxInUnschedulablePodsDuration). */
  maxInUnschedulableMs?: number;
  /** Decides whether an event may help a pod rejected by the given plugins. */
  eventMayHelp?: (pod: QueuedPodInfo, event: ClusterEvent) => boolean;
  /** Called whenever a queue's length may have changed (metrics). */
  onChange?: (lengths: Record<QueueName, number>) => void;
}

const UNSCHEDULABLE_TIMEOUT: ClusterEvent = { resource: '*', action: '*' };

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly eventMayHelp: (pod: QueuedPodInfo, event: ClusterEvent) => boolean;
  private readonly onChange?: (lengths: Record<QueueName, number>) => void;
  private readonly active = new Heap<QueuedPodInfo>(
    (p) => p.key,
    (a, b) =>
      a.info.priority > b.info.priority ||
      (a.info.priority === b.info.priority && (a.timestamp < b.timestamp || (a.timestamp === b.timestamp && (a.seq ?? 0) < (b.seq ?? 0)))),
  );
  private readonly backoff = new Heap<QueuedPodInfo>(
    (p) => p.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private moveRequestCycle = 0;
  private schedulingCycle = 0;
  private waiters: Array<(p: QueuedPodInfo | undefined) => void> = [];
  private closed = false;
  /** The pending timer of each periodic flush (replaced on every tick, so it never grows). */
  private readonly timers = new Map<string, unknown>();

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = opts.maxInUnschedulableMs ?? 5 * 60_000;
    this.eventMayHelp = opts.eventMayHelp ?? (() => true);
    this.onChange = opts.onChange;
  }

  /** Starts the periodic flushes (backoffQ every second, unschedulablePods every 30 seconds). */
  run(): void {
    const every = (name: string, ms: number, fn: () => void) => {
      const tick = () => {
        if (this.closed) return;
        fn();
        this.timers.set(name, this.clock.setTimeout(tick, ms));
      };
      this.timers.set(name, this.clock.setTimeout(tick, ms));
    };
    every('backoff', 1000, () => this.flushBackoffCompleted());
    every('unschedulable', 30_000, () => this.flushUnschedulableLeftover());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  lengths(): Record<QueueName, number> {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: 0 };
  }

  private changed(): void {
    this.onChange?.(this.lengths());
  }

  backoffDurationMs(p: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < p.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return d;
  }
  private backoffExpiry(p: QueuedPodInfo): number {
    return p.timestamp + this.backoffDurationMs(p);
  }
  private isBackingOff(p: QueuedPodInfo): boolean {
    return p.attempts > 0 && this.backoffExpiry(p) > this.clock.now();
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const info = new PodInfo(pod);
    if (this.has(info.key)) return this.update(pod);
    const now = this.clock.now();
    this.pushActive({ info, key: info.key, timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set(), popCycle: 0 });
  }

  private seq = 0;

  private pushActive(p: QueuedPodInfo): void {
    p.seq = ++this.seq;
    this.active.push(p);
    this.changed();
    const w = this.waiters.shift();
    if (w) w(this.track(this.active.pop()!));
  }

  private track(p: QueuedPodInfo): QueuedPodInfo {
    p.popCycle = ++this.schedulingCycle;
    p.attempts++;
    this.inFlight.set(p.key, p);
    this.changed();
    return p;
  }

  /** A pending pod changed: refresh it where it is; a pod waiting on events is retried at once. */
  update(pod: Pod): void {
    const info = new PodInfo(pod);
    const key = info.key;
    const inActive = this.active.get(key);
    if (inActive) return this.active.push({ ...inActive, info });
    const inBackoff = this.backoff.get(key);
    if (inBackoff) return this.backoff.push({ ...inBackoff, info });
    const u = this.unschedulable.get(key);
    if (u) {
      this.unschedulable.delete(key);
      const moved = { ...u, info, timestamp: u.timestamp };
      if (this.isBackingOff(moved)) this.backoff.push(moved);
      else this.pushActive(moved);
      this.changed();
      return;
    }
    const f = this.inFlight.get(key);
    if (f) {
      f.info = info;
      return;
    }
    this.add(pod);
  }

  /**
   * The pod was deleted (or is terminating, or got bound elsewhere): it leaves every sub-queue at once,
   * and an attempt in flight for it is not requeued when it ends. A pod with another uid under the
   * same name (deleted and created again) is left alone. Returns whether anything was removed.
   */
  delete(pod: Pod): boolean {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const uid = pod.metadata?.uid;
    const same = (p: QueuedPodInfo | undefined) => !!p && (!uid || !p.info.pod.metadata?.uid || p.info.pod.metadata.uid === uid);
    let removed = false;
    if (same(this.active.get(key))) removed = !!this.active.delete(key) || removed;
    if (same(this.backoff.get(key))) removed = !!this.backoff.delete(key) || removed;
    if (same(this.unschedulable.get(key))) removed = this.unschedulable.delete(key) || removed;
    if (same(this.inFlight.get(key))) removed = this.inFlight.delete(key) || removed;
    if (removed) this.changed();
    return removed;
  }

  /** Waits for the next pod to try; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const p = this.active.pop();
    if (p) return Promise.resolve(this.track(p));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The pod's attempt ended (bound, or requeued): it is no longer in flight. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * Requeues a pod that failed. Rejected pods wait in unschedulablePods for a helpful event, unless
   * one arrived while the pod was in flight; errors go to backoffQ.
   */
  addUnschedulable(p: QueuedPodInfo, opts: { error?: boolean } = {}): void {
    if (this.inFlight.get(p.key) !== p) return; // deleted (or bound) while in flight: it is gone for good
    this.inFlight.delete(p.key);
    p.timestamp = this.clock.now();
    if (opts.error || this.moveRequestCycle >= p.popCycle) this.backoff.push(p);
    else this.unschedulable.set(p.key, p);
    this.changed();
  }

  /** A cluster event: pods it may help move to backoffQ (still backing off) or activeQ. */
  moveAllToActiveOrBackoff(event: ClusterEvent, filter?: (p: QueuedPodInfo) => boolean): void {
    this.moveRequestCycle = this.schedulingCycle;
    let moved = false;
    for (const [key, p] of this.unschedulable) {
      if (event !== UNSCHEDULABLE_TIMEOUT && !this.eventMayHelp(p, event)) continue;
      if (filter && !filter(p)) continue;
      this.unschedulable.delete(key);
      moved = true;
      if (this.isBackingOff(p)) this.backoff.push(p);
      else this.pushActive(p);
    }
    if (moved) this.changed();
  }

  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const p = this.backoff.peek();
      if (!p || this.backoffExpiry(p) > now) break;
      this.backoff.pop();
      this.pushActive(p);
    }
  }

  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    const stale = [...this.unschedulable.values()].filter((p) => now - p.timestamp > this.maxInUnschedulableMs);
    if (!stale.length) return;
    const keys = new Set(stale.map((p) => p.key));
    this.moveAllToActiveOrBackoff(UNSCHEDULABLE_TIMEOUT, (p) => keys.has(p.key));
  }

  /** Pods in the unschedulable sub-queue (tests, debugging). */
  unschedulablePods(): QueuedPodInfo[] {
    return [...this.unschedulable.values()];
  }
  backoffPods(): QueuedPodInfo[] {
    return this.backoff.list();
  }
  activePods(): QueuedPodInfo[] {
    return this.active.list();
  }
}
