import { describe, expect, it } from 'vitest';
import { expired, type KubeList, type KubeObject, type WatchEvent } from '@kubelab/api';
import { delayOn, FakeClock, flushMicrotasks } from './clock.js';
import { Informer, decodeTransform, type ListWatch, type WatchStream } from './informer.js';
import { findKind } from '@kubelab/api';
import type { ListOptions, WatchOptions } from './rest.js';

class FakeWatch implements WatchStream<KubeObject> {
  stopped = false;
  private readonly queue: Array<WatchEvent | Error | null> = [];
  private wake?: () => void;

  push(ev: WatchEvent | Error | null): void {
    this.queue.push(ev);
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
    for (;;) {
      if (this.stopped) return;
      const next = this.queue.shift();
      if (next === undefined) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (next === null) return;
      if (next instanceof Error) throw next;
      yield next;
    }
  }
}

/** An apiserver collection in memory: paged lists and hand-driven watches. */
class FakeListWatch implements ListWatch<KubeObject> {
  readonly objects = new Map<string, KubeObject>();
  rv = 10;
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly watches: FakeWatch[] = [];
  listErrors: Error[] = [];

  set(name: string, extra: Record<string, unknown> = {}): KubeObject {
    const obj = { metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv) }, ...extra };
    this.objects.set(name, obj);
    return obj;
  }

  async list(opts: ListOptions): Promise<KubeList<KubeObject>> {
    this.listCalls.push(opts);
    const err = this.listErrors.shift();
    if (err) throw err;
    const all = [...this.objects.keys()].sort().map((k) => this.objects.get(k)!);
    const start = opts.continue ? Number(opts.continue) : 0;
    const end = opts.limit ? start + opts.limit : all.length;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMapList',
      metadata: { resourceVersion: String(this.rv), continue: end < all.length ? String(end) : undefined },
      items: all.slice(start, end),
    };
  }

  async watch(opts: WatchOptions): Promise<WatchStream<KubeObject>> {
    this.watchCalls.push(opts);
    const w = new FakeWatch();
    this.watches.push(w);
    return w;
  }

  get current(): FakeWatch {
    return this.watches[this.watches.length - 1]!;
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await flushMicrotasks(1);
  if (!cond()) throw new Error('condition not reached');
}

function recorder(inf: Informer) {
  const log: string[] = [];
  inf.addEventHandler({
    onAdd: (o, initial) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? ' initial' : ''}`),
    onUpdate: (a, b) => log.push(`update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
  });
  return log;
}

function setup(opts: { pageSize?: number; resyncPeriodMs?: number; transform?: (o: KubeObject) => KubeObject; logger?: { error: (o: object, msg?: string) => void } } = {}) {
  const lw = new FakeListWatch();
  const delays: number[] = [];
  const clock = new FakeClock();
  const inf = new Informer({
    listWatch: lw,
    transform: opts.transform,
    logger: opts.logger,
    pageSize: opts.pageSize,
    resyncPeriodMs: opts.resyncPeriodMs,
    clock,
    random: () => 0,
    delay: opts.resyncPeriodMs ? delayOn(clock) : async (ms) => void delays.push(ms),
  });
  return { lw, inf, delays, clock, log: recorder(inf) };
}

describe('Informer', () => {
  it('lists in pages, syncs, then watches from the list resourceVersion with bookmarks', async () => {
    const { lw, inf, log } = setup({ pageSize: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) lw.set(n);
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    expect(await inf.waitForSync()).toBe(true);
    expect(lw.listCalls).toEqual([{ limit: 2, continue: undefined }, { limit: 2, continue: '2' }, { limit: 2, continue: '4' }]);
    expect(log).toEqual(['add a@11 initial', 'add b@12 initial', 'add c@13 initial', 'add d@14 initial', 'add e@15 initial']);
    await until(() => lw.watchCalls.length === 1);
    expect(lw.watchCalls[0]).toEqual({ resourceVersion: '15', allowWatchBookmarks: true, timeoutSeconds: 300 });
    expect(inf.lister.list('ns').map((o) => o.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(inf.lister.get('ns', 'c')?.metadata.resourceVersion).toBe('13');
    await inf.stop();
    expect(lw.current.stopped).toBe(true);
  });

  it('applies watch events to the cache and handlers', async () => {
    const { lw, inf, log } = setup();
    lw.set('a');
    inf.start();
    await until(() => lw.watches.length === 1);
    log.length = 0;
    lw.current.push({ type: 'ADDED', object: lw.set('b') });
    lw.current.push({ type: 'MODIFIED', object: lw.set('a', { data: { x: '1' } }) });
    const gone = lw.objects.get('b')!;
    lw.objects.delete('b');
    lw.current.push({ type: 'DELETED', object: { ...gone, metadata: { ...gone.metadata, resourceVersion: String(++lw.rv) } } });
    await until(() => log.length === 3);
    expect(log).toEqual(['add b@12', 'update a@11->13', 'delete b@14']);
    expect(inf.lister.get('ns', 'a')?.data).toEqual({ x: '1' });
    expect(inf.lister.get('ns', 'b')).toBeUndefined();
    expect(inf.lastSyncResourceVersion()).toBe('14');
    await inf.stop();
  });

  it('re-watches from the last seen resourceVersion (bookmarks included) when a watch ends', async () => {
    const { lw, inf, delays } = setup();
    lw.set('a');
    inf.start();
    await until(() => lw.watches.length === 1);
    lw.current.push({ type: 'MODIFIED', object: lw.set('a') });
    lw.current.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '40' } } });
    lw.current.push(null);
    await until(() => lw.watches.length === 2);
    expect(lw.watchCalls[1]!.resourceVersion).toBe('40');
    expect(lw.listCalls).toHaveLength(1);
    expect(delays).toEqual([]);
    await inf.stop();
  });

  it('relists on 410 Expired, delivering deletes for vanished objects and updates for changed ones', async () => {
    const { lw, inf, log } = setup();
    lw.set('keep');
    lw.set('change');
    lw.set('vanish');
    inf.start();
    await until(() => lw.watches.length === 1);
    log.length = 0;
    // Events the informer misses while its resourceVersion gets compacted away:
    lw.set('change', { data: { v: '2' } });
    lw.objects.delete('vanish');
    lw.set('new');
    lw.current.push(expired('too old resource version: 13 (20)'));
    await until(() => lw.watches.length === 2);
    expect(lw.listCalls).toHaveLength(2);
    expect(log.sort()).toEqual(['add new@15', 'delete vanish@13', 'update change@12->14']);
    expect(lw.watchCalls[1]!.resourceVersion).toBe('15');
    expect(inf.lister.list().map((o) => o.metadata.name).sort()).toEqual(['change', 'keep', 'new']);
    await inf.stop();
  });

  it('backs off exponentially while listing fails', async () => {
    const { lw, inf, delays } = setup();
    lw.listErrors = [new Error('connection refused'), new Error('connection refused'), new Error('connection refused')];
    inf.start();
    expect(await inf.waitForSync()).toBe(true);
    expect(delays).toEqual([800, 1600, 3200]);
    expect(lw.listCalls).toHaveLength(4);
    await inf.stop();
  });

  it('re-delivers every object as an update each resync period', async () => {
    const { lw, inf, log, clock } = setup({ resyncPeriodMs: 30_000 });
    lw.set('a');
    lw.set('b');
    inf.start();
    await inf.waitForSync();
    log.length = 0;
    await clock.step(29_999);
    expect(log).toEqual([]);
    await clock.step(1);
    expect(log.sort()).toEqual(['update a@11->11', 'update b@12->12']);
    await inf.stop();
  });

  it('delivers the cache as adds to a handler registered after sync', async () => {
    const { lw, inf } = setup();
    lw.set('a');
    inf.start();
    await inf.waitForSync();
    const late: string[] = [];
    inf.onAdd((o, initial) => late.push(`${o.metadata.name} ${initial}`));
    expect(late).toEqual(['a true']);
    await inf.stop();
  });

  it('waitForSync resolves false when stopped before syncing', async () => {
    const { lw, inf } = setup();
    lw.listErrors = Array.from({ length: 1000 }, () => new Error('down'));
    const sync = inf.waitForSync();
    inf.start();
    await inf.stop();
    expect(await sync).toBe(false);
  });

  it('skips and logs malformed objects instead of wedging the relist, and keeps going', async () => {
    const errors: string[] = [];
    const { lw, inf, log } = setup({ transform: decodeTransform(findKind('v1', 'ConfigMap')!), logger: { error: (o, msg) => errors.push(`${msg}: ${(o as { object: string }).object}`) } });
    // An index function that assumes a list, as the garbage collector's owner index does.
    inf.addIndexer('owner', (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
    lw.set('a');
    lw.set('bad', { metadata: { name: 'bad', namespace: 'ns', resourceVersion: '99', ownerReferences: 'x' } });
    lw.set('c', { data: { k: 'v' }, unknownField: 1 });
    inf.start();
    expect(await inf.waitForSync()).toBe(true);
    expect(log).toEqual(['add a@11 initial', 'add c@13 initial']);
    expect(errors).toEqual(['Skipping an object that cannot be handled: ns/bad']);
    // Decoded as a typed client would: unknown fields dropped.
    expect(inf.lister.get('ns', 'c')).toEqual({ metadata: { name: 'c', namespace: 'ns', resourceVersion: '13' }, data: { k: 'v' } });
    await until(() => lw.watches.length === 1);
    // A malformed update keeps the cached object; good events after it are still applied.
    lw.current.push({ type: 'MODIFIED', object: { metadata: { name: 'a', namespace: 'ns', resourceVersion: '20' }, data: { k: 1 } } });
    lw.current.push({ type: 'MODIFIED', object: { metadata: { name: 'c', namespace: 'ns', resourceVersion: '21' }, data: { k: 'w' } } });
    await until(() => log.length === 3);
    expect(log[2]).toBe('update c@13->21');
    expect(inf.lister.get('ns', 'a')?.metadata.resourceVersion).toBe('11');
    expect(errors[1]).toBe('Skipping an object that cannot be handled: ns/a');
    // An index function failing on an object leaves the store as it was.
    lw.current.push({ type: 'ADDED', object: { metadata: { name: 'd', namespace: 'ns', resourceVersion: '22', ownerReferences: {} } } as unknown as KubeObject });
    lw.current.push({ type: 'DELETED', object: { metadata: { name: 'a', namespace: 'ns', resourceVersion: '23' }, data: 5 } as unknown as KubeObject });
    await until(() => log.length === 4);
    expect(log[3]).toBe('delete a@11');
    expect(inf.lister.list('ns').map((o) => o.metadata.name)).toEqual(['c']);
    expect(inf.store.byIndex('owner', 'x')).toEqual([]);
    await inf.stop();
  });
});
