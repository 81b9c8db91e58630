// Counterpart of k8s.io/client-go/util/flowcontrol/backoff.go: a per-key backoff that doubles from an
// initial delay to a cap, and is forgotten when the key has been quiet for twice the cap.
import type { Clock } from '@kubelab/client';

export interface BackoffOptions {
  clock: Clock;
  /** First delay (the kubelet's 10 s). */
  initialMs: number;
  /** Cap (the kubelet's MaxContainerBackOff, 300 s). */
  maxMs: number;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions) {}

  /** The key's current delay (0 when it has none). */
  get(id: string): number {
    return this.entries.get(id)?.backoffMs ?? 0;
  }

  /** Moves the key's delay on: initial the first time (or after 2 x max of quiet since `eventTime`), then doubled up to max. */
  next(id: string, eventTime: number): void {
    const e = this.entries.get(id);
    const now = this.opts.clock.now();
    if (!e || this.hasExpired(eventTime, e.lastUpdate)) {
      this.entries.set(id, { backoffMs: this.opts.initialMs, lastUpdate: now });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.opts.maxMs);
    e.lastUpdate = now;
  }

  /** Whether less than the key's delay has passed since eventTime (e.g. the container's finish). */
  isInBackOffSince(id: string, eventTime: number): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    const now = this.opts.clock.now();
    if (this.hasExpired(now, e.lastUpdate)) return false;
    return now - eventTime < e.backoffMs;
  }

  /** Whether less than the key's delay has passed since its last update. */
  isInBackOffSinceUpdate(id: string, eventTime: number): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    if (this.hasExpired(eventTime, e.lastUpdate)) return false;
    return eventTime - e.lastUpdate < e.backoffMs;
  }

  reset(id: string): void {
    this.entries.delete(id);
  }

  /** Forgets keys quiet for more than 2 x max. */
  gc(): void {
    const now = this.opts.clock.now();
    for (const [id, e] of this.entries) if (now - e.lastUpdate > this.opts.maxMs * 2) this.entries.delete(id);
  }

  private hasExpired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.opts.maxMs * 2;
  }
}
