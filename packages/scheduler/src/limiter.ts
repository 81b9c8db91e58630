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
