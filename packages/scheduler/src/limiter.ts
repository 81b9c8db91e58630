// Bounds how many async writes (bindings, events) are in flight at once.
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly all = new Set<Promise<unknown>>();
  constructor(private readonly max: number) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = (async () => {
      if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
      this.active++;
      try {
        return await fn();
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
    })();
    this.all.add(p);
    void p.then(
      () => this.all.delete(p),
      () => this.all.delete(p),
    );
    return p;
  }

  get pending(): number {
    return this.all.size;
  }

  async idle(): Promise<void> {
    while (this.all.size) await Promise.allSettled([...this.all]);
  }
}

interface KeyedWrite {
  write: () => Promise<void>;
  running: boolean;
  again: boolean;
}

/**
 * The scheduler's own writes about pending pods (the PodScheduled condition, decision records),
 * at most one queued and one running per (pod, kind): a newer write replaces a queued one, so a pod
 * retried many times while the API client is throttled leaves one write behind, not one per attempt.
 * forget() drops a pod's queued writes (the pod was deleted or bound), so they are never sent.
 */
export class KeyedWrites {
  private readonly byPod = new Map<string, Map<string, KeyedWrite>>();
  private count = 0;

  constructor(
    private readonly limiter: Limiter,
    private readonly onError: (err: unknown, podKey: string) => void = () => {},
  ) {}

  /** Queues `write` for the pod (replacing a queued write of the same kind). */
  schedule(podKey: string, kind: string, write: () => Promise<void>): void {
    let kinds = this.byPod.get(podKey);
    const w = kinds?.get(kind);
    if (w) {
      w.write = write;
      if (w.running) w.again = true;
      return;
    }
    if (!kinds) this.byPod.set(podKey, (kinds = new Map()));
    const fresh: KeyedWrite = { write, running: false, again: false };
    kinds.set(kind, fresh);
    this.count++;
    this.enqueue(podKey, kind, fresh);
  }

  /** Drops the pod's queued writes (of one kind, or all). A write already sent completes. */
  forget(podKey: string, kind?: string): void {
    const kinds = this.byPod.get(podKey);
    if (!kinds) return;
    if (kind === undefined) {
      this.count -= kinds.size;
      this.byPod.delete(podKey);
    } else if (kinds.delete(kind)) {
      this.count--;
      if (!kinds.size) this.byPod.delete(podKey);
    }
  }

  /** Writes queued or running. */
  get size(): number {
    return this.count;
  }

  private current(podKey: string, kind: string): KeyedWrite | undefined {
    return this.byPod.get(podKey)?.get(kind);
  }

  private enqueue(podKey: string, kind: string, w: KeyedWrite): void {
    void this.limiter.run(async () => {
      if (this.current(podKey, kind) !== w) return; // forgotten while queued
      w.running = true;
      w.again = false;
      try {
        await w.write();
      } catch (err) {
        this.onError(err, podKey);
      } finally {
        w.running = false;
        if (this.current(podKey, kind) === w) {
          if (w.again) this.enqueue(podKey, kind, w);
          else {
            const kinds = this.byPod.get(podKey)!;
            kinds.delete(kind);
            this.count--;
            if (!kinds.size) this.byPod.delete(podKey);
          }
        }
      }
    });
  }
}
