// Rate limiters: a token bucket (golang.org/x/time/rate's Limiter as client-go uses it) and the
// per-item limiters of client-go's workqueue (ItemExponentialFailureRateLimiter, MaxOf, and
// DefaultControllerRateLimiter).
import { realClock, type Clock } from './clock.js';

/** A token bucket refilled at `qps` tokens a second, holding at most `burst`. qps <= 0 disables it. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  get disabled(): boolean {
    return !(this.qps > 0);
  }

  /** Takes a token now and returns how many ms the caller must wait before using it (0 if available). */
  reserve(): number {
    if (this.disabled) return 0;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  /** Waits for a token. */
  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const h = this.clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.clock.clearTimeout(h);
        reject(signal!.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** How long to wait before handing `item` out again; client-go's workqueue.TypedRateLimiter. */
export interface RateLimiter<K> {
  when(item: K): number;
  forget(item: K): void;
  numRequeues(item: K): number;
}

/** base * 2^failures, capped at max; the failure count grows each time `when` is asked. */
export class ItemExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    const backoff = this.baseDelayMs * 2 ** n;
    return backoff > this.maxDelayMs || !Number.isFinite(backoff) ? this.maxDelayMs : backoff;
  }

  forget(item: K): void {
    this.failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/** An overall token bucket applied to every item (client-go's BucketRateLimiter). */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  constructor(private readonly bucket: TokenBucket) {}
  when(_item: K): number {
    return this.bucket.reserve();
  }
  forget(_item: K): void {}
  numRequeues(_item: K): number {
    return 0;
  }
}

/** The longest wait of several limiters. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }
  numRequeues(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** Per-item 5ms doubling to 1000s, and 10 qps / 100 burst overall: client-go's DefaultControllerRateLimiter. */
export function defaultControllerRateLimiter<K>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialFailureRateLimiter<K>(5, 1000 * 1000),
    new BucketRateLimiter<K>(new TokenBucket(10, 100, clock)),
  );
}
