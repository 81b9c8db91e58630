// client-go's rate-limited work queue (workqueue.TypedRateLimitingInterface): a FIFO of keys that
// never holds a key twice, never hands one key to two workers at once, and re-queues a key that was
// added while being processed once the worker calls done(key).
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';
import type { Logger } from './logger.js';

export interface WorkQueueOptions<K> {
  /** Used in logs only. */
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<K>;
  private queue: K[] = [];
  /** Keys that need processing: everything in `queue`, plus keys re-added while processing. */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  /** Keys waiting for addAfter, with their ready time. */
  private readonly waiting = new Map<K, { at: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: K | undefined) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private draining = false;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? '';
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock);
  }

  /** Marks `key` as needing processing. A no-op if it is already queued or after shutdown. */
  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** The number of keys waiting to be handed out (not counting ones being processed or delayed). */
  len(): number {
    return this.queue.length;
  }

  /**
   * The next key, waiting for one if the queue is empty. After shutdown, the keys still queued are
   * handed out, then undefined (client-go's `Get` returning shutdown=true).
   */
  get(): Promise<K | undefined> {
    if (this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` as done; if it was added again meanwhile, it goes back on the queue. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.push(key);
    } else if (this.processing.size === 0) {
      this.notifyDrained();
    }
  }

  /** Adds `key` after `ms`. If it is already waiting, the earlier time wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing) {
      if (existing.at <= at) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  /** Adds `key` once the rate limiter allows (per-item exponential backoff and an overall bucket). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Clears the key's failure history (call after a successful sync). */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  /** How many times the key has been re-queued with a rate limit since the last forget. */
  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting keys; waiting getters get undefined once the queue is empty. Delayed keys are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) this.clock.clearTimeout(w.timer);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
    if (this.processing.size === 0) this.notifyDrained();
  }

  /** Shuts down, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.draining = true;
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private notifyDrained(): void {
    if (!this.draining) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}

export interface RunWorkersOptions {
  /** Retries before a key is dropped (endpointslice's maxRetries is 15). */
  maxRetries?: number;
  logger?: Logger;
}

/**
 * Runs `n` workers: get → sync → done, forgetting the key on success, re-queueing it rate limited on
 * error and dropping it after `maxRetries`. Resolves when the queue is shut down and drained.
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  n: number,
  sync: (key: K) => Promise<void>,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const maxRetries = opts.maxRetries ?? 15;
  const log = opts.logger;
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        if (queue.numRequeues(key) < maxRetries) {
          log?.debug?.({ key, err }, 'Error syncing; requeuing');
          queue.addRateLimited(key);
        } else {
          log?.error?.({ key, err }, 'Dropping key out of the queue');
          queue.forget(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, () => worker()));
}
