// A single-consumer async queue of watch events that implements the Watcher interface. Producers push
// events; the consumer iterates with `for await`. The queue ends when stop() is called (by the consumer
// or the producer), when the producer calls end(), or when a bounded queue overflows (a slow consumer:
// the client re-watches from its last resourceVersion).
import type { WatchEvent } from '@kubelab/api';
import type { Watcher } from './interface.js';

export interface WatchQueueOptions {
  /** Maximum buffered events before the watch is ended as too slow (default: unbounded). */
  capacity?: number;
  /** Called once when the queue ends for any reason (release producer resources here). */
  onStop?: (reason: WatchEndReason) => void;
  /** Backpressure: called when the buffer grows past highWaterMark / shrinks to lowWaterMark. */
  highWaterMark?: number;
  lowWaterMark?: number;
  onHighWater?: () => void;
  onLowWater?: () => void;
}

export type WatchEndReason = 'stopped' | 'ended' | 'overflow';

export class WatchQueue implements Watcher {
  private readonly buffer: WatchEvent[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<WatchEvent>) => void) | undefined;
  private done = false;
  private stopReason: WatchEndReason | undefined;
  private aboveHighWater = false;
  private readonly capacity: number;

  constructor(private readonly opts: WatchQueueOptions = {}) {
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
  }

  /** Number of buffered, undelivered events. */
  get length(): number {
    return this.buffer.length - this.head;
  }

  get ended(): boolean {
    return this.done;
  }

  get endReason(): WatchEndReason | undefined {
    return this.stopReason;
  }

  /**
   * Queues an event. Returns false if the queue already ended, or if it was full (the queue then ends
   * with reason 'overflow' after delivering what it holds).
   */
  push(event: WatchEvent, opts: { force?: boolean } = {}): boolean {
    if (this.done) return false;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return true;
    }
    if (!opts.force && this.length >= this.capacity) {
      this.finish('overflow');
      return false;
    }
    this.buffer.push(event);
    const hw = this.opts.highWaterMark;
    if (hw !== undefined && !this.aboveHighWater && this.length >= hw) {
      this.aboveHighWater = true;
      this.opts.onHighWater?.();
    }
    return true;
  }

  /** Producer side: no more events; the consumer still receives what is buffered. */
  end(finalEvent?: WatchEvent): void {
    if (this.done) return;
    if (finalEvent) this.push(finalEvent, { force: true });
    this.finish('ended');
  }

  /**
   * Producer side: ends the watch as too slow. As upstream terminates a watcher whose buffer is full,
   * the events it still holds are dropped (their memory goes now, not when a stalled client reads
   * again): the consumer's stream ends once the event in hand is written, and its client re-watches
   * from the last resourceVersion it received.
   */
  overflow(): void {
    this.buffer.length = 0;
    this.head = 0;
    this.finish('overflow');
  }

  /** Consumer side (or producer abort): ends now and drops buffered events. */
  stop(): void {
    if (this.done && this.length === 0) return;
    this.buffer.length = 0;
    this.head = 0;
    this.finish('stopped');
  }

  private finish(reason: WatchEndReason): void {
    if (!this.done) {
      this.done = true;
      this.stopReason = reason;
      this.opts.onStop?.(reason);
    }
    if (this.waiting && this.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  private shift(): WatchEvent {
    const event = this.buffer[this.head]!;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
    const lw = this.opts.lowWaterMark ?? 0;
    if (this.aboveHighWater && this.length <= lw) {
      this.aboveHighWater = false;
      this.opts.onLowWater?.();
    }
    return event;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.length > 0) return Promise.resolve({ value: this.shift(), done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
