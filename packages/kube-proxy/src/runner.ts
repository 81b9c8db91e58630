// A bounded-frequency runner (upstream's pkg/util/async.BoundedFrequencyRunner): `run()` asks for a
// run as soon as allowed, never more often than minInterval (requests in between coalesce into one),
// and at least every maxInterval; `retryAfter` schedules an earlier retry after a failure.
import { realClock, type Clock, type TimerHandle } from '@kubelab/client';

export interface BoundedFrequencyRunnerOptions {
  fn: () => Promise<void>;
  minIntervalMs: number;
  maxIntervalMs: number;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export class BoundedFrequencyRunner {
  private readonly clock: Clock;
  private lastRun = -Infinity;
  private running?: Promise<void>;
  private pending = false;
  private timer?: TimerHandle;
  private timerAt = Infinity;
  private stopped = true;

  constructor(private readonly opts: BoundedFrequencyRunnerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** Starts the periodic runs (the first one at once). */
  loop(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  /** Requests a run: now if minInterval has passed since the last one, else when it has. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.schedule(Math.max(0, this.lastRun + this.opts.minIntervalMs - this.clock.now()));
  }

  /** Runs again after `ms` at the latest (still honouring minInterval). */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    this.schedule(Math.max(ms, this.lastRun + this.opts.minIntervalMs - this.clock.now()));
  }

  /** Resolves when the run in progress (if any) has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private schedule(delayMs: number): void {
    const at = this.clock.now() + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.tick();
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.lastRun = this.clock.now();
    this.pending = false;
    this.running = (async () => {
      try {
        await this.opts.fn();
      } catch (err) {
        this.opts.onError?.(err);
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    // The periodic run; an earlier request (or a retry set by fn) replaces it.
    this.schedule(this.opts.maxIntervalMs);
    if (this.pending) this.run();
  }
}
