import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findResource, type KubeObject, type WatchEvent } from '@kubelab/api';
import { compileSelectors } from '../registry/selectors.js';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { Cacher, type CacherOptions } from './cacher.js';
import { EtcdStorage } from './etcd.js';
import { createStorage } from './index.js';
import { StorageError, type Predicate } from './interface.js';
import { nextEvents } from '../../../../test/fixtures/storage-contract.js';

let etcd: EtcdInstance;
const cleanups: Array<() => Promise<void>> = [];
let seq = 0;
const PODS = '/registry/pods/';

beforeAll(async () => {
  etcd = await startEtcd();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await etcd?.stop();
});

async function newCacher(opts: Partial<CacherOptions> = {}): Promise<{ cacher: Cacher; etcdStorage: EtcdStorage }> {
  const etcdStorage = new EtcdStorage({ endpoints: [etcd.endpoint], prefix: `/c${++seq}`, requestTimeoutMs: 2000 });
  const cacher = new Cacher({ storage: etcdStorage, resourcePrefix: PODS, ...opts });
  cleanups.push(() => etcdStorage.close());
  cleanups.push(() => cacher.close());
  await cacher.start();
  return { cacher, etcdStorage };
}

function pod(name: string, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, ...extra };
}

describe('Cacher lists', () => {
  it('serves a consistent list that sees a write made just before it', async () => {
    const { cacher } = await newCacher();
    for (let i = 0; i < 20; i++) {
      const created = await cacher.create(`/registry/pods/default/p${String(i).padStart(2, '0')}`, pod(`p${i}`));
      const list = await cacher.list(PODS);
      expect(list.items).toHaveLength(i + 1);
      expect(Number(list.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
      expect(list.items[i]!.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    }
    const deleted = await cacher.delete('/registry/pods/default/p00');
    const afterDelete = await cacher.list(PODS);
    expect(afterDelete.items).toHaveLength(19);
    expect(Number(afterDelete.resourceVersion)).toBeGreaterThanOrEqual(Number(deleted.metadata.resourceVersion));
  });

  it('is fresh at the current revision when only other prefixes changed', async () => {
    const { cacher, etcdStorage } = await newCacher();
    await cacher.create('/registry/pods/default/a', pod('a'));
    const other = await etcdStorage.create('/registry/services/default/s', pod('s'));
    const list = await cacher.list(PODS);
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a']);
    expect(Number(list.resourceVersion)).toBeGreaterThanOrEqual(Number(other.metadata.resourceVersion));
  });

  it('serves resourceVersion=0 from memory, filters by predicate and sub-prefix, and pages', async () => {
    const { cacher, etcdStorage } = await newCacher();
    await cacher.create('/registry/pods/a/x', pod('x', { metadata: { name: 'x', namespace: 'a' }, spec: { keep: true } }));
    await cacher.create('/registry/pods/b/y', pod('y', { metadata: { name: 'y', namespace: 'b' }, spec: { keep: false } }));
    const z = await cacher.create('/registry/pods/b/z', pod('z', { metadata: { name: 'z', namespace: 'b' }, spec: { keep: true } }));
    await cacher.list(PODS); // wait for the cache
    const any = await cacher.list(PODS, { resourceVersion: '0', predicate: (o) => o.spec.keep });
    expect(any.items.map((i) => i.metadata.name)).toEqual(['x', 'z']);
    const ns = await cacher.list('/registry/pods/b/', { resourceVersion: '0' });
    expect(ns.items.map((i) => i.metadata.name)).toEqual(['y', 'z']);
    // returned objects are the cache's own, shared and frozen: a consumer cannot change the cache
    expect(() => {
      ns.items[0]!.metadata.name = 'mutated';
    }).toThrow(TypeError);
    expect((await cacher.list('/registry/pods/b/', { resourceVersion: '0' })).items[0]!.metadata.name).toBe('y');

    const page = await cacher.list(PODS, { limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.continue).toBeTruthy();
    const page2 = await cacher.list(PODS, { limit: 2, continue: page.continue });
    expect(page2.items.map((i) => i.metadata.name)).toEqual(['z']);
    const notOlder = await cacher.list(PODS, { resourceVersion: z.metadata.resourceVersion });
    expect(notOlder.items).toHaveLength(3);
    expect(await cacher.count('/registry/pods/b/')).toBe(2);
    expect(etcdStorage.stats.activeWatchStreams).toBe(1);
  });

  it('serves paged lists from etcd with the cached objects of unchanged items, and keeps key order as keys come and go', async () => {
    const { cacher } = await newCacher();
    for (const name of ['c', 'a', 'd', 'b']) await cacher.create(`/registry/pods/default/${name}`, pod(name));
    const cachedB = (await cacher.list('/registry/pods/default/')).items.find((i) => i.metadata.name === 'b')!;
    expect(Object.isFrozen(cachedB)).toBe(true);
    const updated = await cacher.guaranteedUpdate('/registry/pods/default/c', (cur) => ({ ...cur!, spec: { changed: true } }));
    const page = await cacher.list('/registry/pods/default/', { limit: 3 });
    expect(page.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    // b is unchanged since the cache saw it: the same object (its encoding is cached with it).
    expect(page.items[1]).toBe(cachedB);
    // c is read at its new revision, from the cache once it has it or decoded from etcd: the update either way.
    expect(page.items[2]!.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    expect(page.items[2]!.spec).toEqual({ changed: true });
    const rest = await cacher.list('/registry/pods/default/', { limit: 3, continue: page.continue });
    expect(rest.items.map((i) => i.metadata.name)).toEqual(['d']);

    await cacher.delete('/registry/pods/default/a');
    await cacher.create('/registry/pods/default/bb', pod('bb'));
    await cacher.create('/registry/pods/other/a', pod('a', { metadata: { name: 'a', namespace: 'other' } }));
    const names = async (prefix: string) => (await cacher.list(prefix)).items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
    expect(await names('/registry/pods/default/')).toEqual(['default/b', 'default/bb', 'default/c', 'default/d']);
    expect(await names('/registry/pods/other/')).toEqual(['other/a']);
    expect(await names('/registry/pods/nothing/')).toEqual([]);
    expect(await names(PODS)).toEqual(['default/b', 'default/bb', 'default/c', 'default/d', 'other/a']);
  });

  it('answers consistent paged lists from memory exactly as etcd does, and from etcd once the prefix changed', async () => {
    const { cacher, etcdStorage } = await newCacher();
    for (let i = 0; i < 7; i++) {
      const ns = i % 3 === 0 ? 'a' : 'b';
      await cacher.create(`/registry/pods/${ns}/p${i}`, pod(`p${i}`, { metadata: { name: `p${i}`, namespace: ns }, spec: { keep: i % 2 === 0 } }));
    }
    await cacher.list(PODS); // the cache has every write
    const keep = (o: KubeObject) => o.spec.keep === true;
    for (const [prefix, predicate] of [
      [PODS, undefined],
      [PODS, keep],
      ['/registry/pods/b/', undefined],
      ['/registry/pods/b/', keep],
      ['/registry/pods/none/', undefined],
    ] as const) {
      let cont: string | undefined;
      let pages = 0;
      do {
        const fromCache = await cacher.list(prefix, { limit: 2, continue: cont, predicate });
        const fromEtcd = await etcdStorage.list(prefix, { limit: 2, continue: cont, predicate });
        // A first page may be read at a later revision than etcd's (the cache proves it fresh): the rest is equal.
        if (!cont) expect(Number(fromCache.resourceVersion)).toBeGreaterThanOrEqual(Number(fromEtcd.resourceVersion));
        const same = cont ? fromCache : await etcdStorage.list(prefix, { limit: 2, predicate, resourceVersion: fromCache.resourceVersion });
        expect(fromCache.items).toEqual(fromEtcd.items);
        expect(fromCache.remainingItemCount).toBe(fromEtcd.remainingItemCount);
        expect(Boolean(fromCache.continue)).toBe(Boolean(fromEtcd.continue));
        expect(fromCache.continue).toBe(same.continue);
        cont = fromCache.continue;
        pages++;
      } while (cont && pages < 10);
      expect(cont).toBeUndefined();
    }

    // A change under the prefix after the first page: the rest is read from etcd at the token's revision.
    const first = await cacher.list(PODS, { limit: 3 });
    expect(first.items.map((i) => i.metadata.name)).toEqual(['p0', 'p3', 'p6']);
    expect(first.remainingItemCount).toBe(4);
    await cacher.create('/registry/pods/a/p99', pod('p99', { metadata: { name: 'p99', namespace: 'a' } }));
    await cacher.guaranteedUpdate('/registry/pods/b/p1', (cur) => ({ ...cur!, spec: { keep: 'changed' } }));
    await cacher.list(PODS);
    const rest = await cacher.list(PODS, { limit: 10, continue: first.continue });
    expect(rest.resourceVersion).toBe(first.resourceVersion);
    expect(rest.items.map((i) => i.metadata.name)).toEqual(['p1', 'p2', 'p4', 'p5']);
    expect(rest.items[0]!.spec).toEqual({ keep: false });
  });

  it('fails a list from a future resourceVersion with TooLargeResourceVersion after the timeout', async () => {
    const { cacher } = await newCacher({ freshnessTimeoutMs: 300 });
    const future = String((await cacher.currentRevision()) + 1000);
    const err = await cacher.list(PODS, { resourceVersion: future }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('TooLargeResourceVersion');
  });
});

describe('Cacher reads and writes through etcd with its cached objects', () => {
  it('answers a read-only GET with the cached object when etcd holds the same revision, and decodes otherwise', async () => {
    const { cacher, etcdStorage } = await newCacher();
    const key = '/registry/pods/default/a';
    const created = await cacher.create(key, pod('a'));
    const listed = (await cacher.list(PODS)).items[0]!; // the cache has caught up
    const shared = await cacher.get(key, { readOnly: true });
    expect(shared).toBe(listed);
    expect(Object.isFrozen(shared)).toBe(true);
    const own = await cacher.get(key);
    expect(own).not.toBe(listed);
    expect(own).toEqual(listed);
    // Written behind the cache's back to etcd while the cached object is older: the GET still sees etcd's.
    const etcdGet = vi.spyOn(etcdStorage, 'get');
    const updated = await etcdStorage.guaranteedUpdate(key, (cur) => ({ ...cur!, metadata: { ...cur!.metadata, labels: { v: '2' } } }));
    const read = await cacher.get(key, { readOnly: true });
    expect(read.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    expect(read.metadata.labels).toEqual({ v: '2' });
    expect(etcdGet).toHaveBeenCalled();
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it('updates from the cached object without reading etcd first, and from etcd when the cached one is stale', async () => {
    const { cacher, etcdStorage } = await newCacher();
    const key = '/registry/pods/default/a';
    await cacher.create(key, pod('a'));
    await cacher.list(PODS);
    const range = vi.spyOn(etcdStorage.client.kv, 'range');
    const seen: string[] = [];
    const bump = (v: string) => (cur: KubeObject | null) => {
      seen.push(cur!.metadata.resourceVersion!);
      expect(Object.isFrozen(cur)).toBe(false); // a copy: strategies move parts of it into the new object
      return { ...cur!, metadata: { ...cur!.metadata, labels: { v } } };
    };
    const first = await cacher.guaranteedUpdate(key, bump('1'));
    expect(range).not.toHaveBeenCalled();
    await cacher.list(PODS);
    // Two writers from the same cached state: the second loses its conditional write and retries on etcd's object.
    const stale = (await cacher.list(PODS)).items[0]!;
    const viaEtcd = await etcdStorage.guaranteedUpdate(key, bump('2'));
    seen.length = 0;
    const second = await etcdStorage.guaranteedUpdate(key, bump('3'), { cachedExisting: structuredClone(stale) });
    expect(seen).toEqual([first.metadata.resourceVersion, viaEtcd.metadata.resourceVersion]);
    expect(second.metadata.labels).toEqual({ v: '3' });
  });
});

describe('Cacher watch', () => {
  it('fans out to 100 watchers over one etcd watch', async () => {
    const { cacher, etcdStorage } = await newCacher();
    const watchers = await Promise.all(Array.from({ length: 100 }, () => cacher.watch(PODS)));
    await vi.waitFor(() => expect(etcdStorage.stats.activeWatchStreams).toBe(1));
    expect(etcdStorage.stats.watchStreamsOpened).toBe(1);
    const a = await cacher.create('/registry/pods/default/a', pod('a'));
    const a2 = await cacher.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { x: 1 } }));
    const gone = await cacher.delete('/registry/pods/default/a');
    const all = await Promise.all(watchers.map((w) => nextEvents(w, 3)));
    for (const events of all) {
      expect(events.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([
        ['ADDED', a.metadata.resourceVersion],
        ['MODIFIED', a2.metadata.resourceVersion],
        ['DELETED', gone.metadata.resourceVersion],
      ]);
    }
    for (const w of watchers) w.stop();
    expect(cacher.watcherCount).toBe(0);
    expect(etcdStorage.stats.activeWatchStreams).toBe(1);
  });

  it('replays from a resourceVersion and answers 410 once it left the buffer', async () => {
    const { cacher } = await newCacher({ capacity: 5 });
    const created: KubeObject[] = [];
    for (let i = 0; i < 8; i++) created.push(await cacher.create(`/registry/pods/default/p${i}`, pod(`p${i}`)));
    await cacher.list(PODS); // caught up

    const from = created[4]!.metadata.resourceVersion!;
    const w = await cacher.watch(PODS, { resourceVersion: from });
    const replay = await nextEvents(w, 3);
    expect(replay.map((e) => e.object.metadata.name)).toEqual(['p5', 'p6', 'p7']);
    const more = await cacher.create('/registry/pods/default/p8', pod('p8'));
    const live = await nextEvents(w, 1);
    expect(live[0]!.object.metadata.resourceVersion).toBe(more.metadata.resourceVersion);
    w.stop();

    const tooOld = created[0]!.metadata.resourceVersion!;
    const expired = await cacher.watch(PODS, { resourceVersion: tooOld });
    const events = await nextEvents(expired, 2);
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('ERROR');
    expect(events[0]!.object).toMatchObject({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
    expect(events[0]!.object.message).toMatch(new RegExp(`^too old resource version: ${tooOld} \\(\\d+\\)$`));
  });

  it('sends initial state and bookmarks', async () => {
    const { cacher } = await newCacher({
      bookmarkIntervalMs: 100,
      newBookmarkObject: () => ({ kind: 'Pod', apiVersion: 'v1', metadata: {} }),
    });
    await cacher.create('/registry/pods/default/a', pod('a'));
    await cacher.create('/registry/pods/default/b', pod('b'));
    const w = await cacher.watch(PODS, { sendInitialEvents: true, allowBookmarks: true });
    const initial = await nextEvents(w, 3);
    expect(initial.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK']);
    expect(initial[2]!.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    const c = await cacher.create('/registry/pods/default/c', pod('c'));
    // Bookmarks keep coming; the first one at c's revision comes after c's ADDED event.
    const seen: WatchEvent[] = [];
    for (;;) {
      const [ev] = await nextEvents(w, 1);
      seen.push(ev!);
      if (ev!.type === 'BOOKMARK' && ev!.object.metadata.resourceVersion === c.metadata.resourceVersion) break;
    }
    const bookmark = seen[seen.length - 1];
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: c.metadata.resourceVersion } } });
    expect(seen.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'c']]);

    const noBookmarks = await cacher.watch(PODS, { resourceVersion: '0', sendInitialEvents: false });
    await new Promise((r) => setTimeout(r, 300));
    const d = await cacher.create('/registry/pods/default/d', pod('d'));
    const [only] = await nextEvents(noBookmarks, 1);
    expect(only).toMatchObject({ type: 'ADDED', object: { metadata: { resourceVersion: d.metadata.resourceVersion } } });
    w.stop();
    noBookmarks.stop();
  });

  it('ends a watcher that falls too far behind without affecting the others', async () => {
    const { cacher } = await newCacher({ watcherQueueCapacity: 3, slowWatcherGraceMs: 200 });
    const slow = await cacher.watch(PODS);
    const fast = await cacher.watch(PODS);
    const fastEvents: WatchEvent[] = [];
    const consuming = (async () => {
      for await (const ev of fast) {
        fastEvents.push(ev);
        if (fastEvents.length === 10) break;
      }
    })();
    for (let i = 0; i < 10; i++) await cacher.create(`/registry/pods/default/p${i}`, pod(`p${i}`));
    await consuming;
    expect(fastEvents).toHaveLength(10);
    await vi.waitFor(() => expect(cacher.watcherCount).toBe(0));
    // the slow watcher's stream ends and what it had queued is dropped (as upstream; its client re-watches)
    const slowEvents = await nextEvents(slow, 20, 1000);
    expect(slowEvents).toEqual([]);
    const later = await cacher.watch(PODS);
    await cacher.create('/registry/pods/default/late', pod('late'));
    expect((await nextEvents(later, 1))[0]!.object.metadata.name).toBe('late');
    later.stop();
  });
});

describe('Cacher indexed triggers (watchers by spec.nodeName)', () => {
  const podsInfo = findResource('', 'v1', 'pods')!;
  /** The registry's predicate for a kubelet's watch, counting how often the cache tests it. */
  function nodeSelector(node: string, calls: { n: number }): Predicate {
    const compiled = compileSelectors(podsInfo, undefined, `spec.nodeName=${node}`)!;
    const counted: Predicate = (obj) => {
      calls.n++;
      return compiled(obj);
    };
    counted.requiresExactMatch = compiled.requiresExactMatch;
    return counted;
  }
  const onNode = (name: string, nodeName: string) => pod(name, { spec: { nodeName, containers: [] } });

  it('delivers each pod only to its node’s watcher, testing only that watcher’s predicate', async () => {
    const { cacher } = await newCacher();
    const calls = { n: 0 };
    const nodes = Array.from({ length: 50 }, (_, i) => `node-${i}`);
    const watchers = await Promise.all(nodes.map((n) => cacher.watch(PODS, { predicate: nodeSelector(n, calls) })));
    const everything = await cacher.watch(PODS);
    const created: KubeObject[] = [];
    for (const i of [3, 17, 3, 49]) created.push(await cacher.create(`/registry/pods/default/p${created.length}`, onNode(`p${created.length}`, `node-${i}`)));
    const all = await nextEvents(everything, 4);
    expect(all.map((e) => e.object.metadata.name)).toEqual(['p0', 'p1', 'p2', 'p3']);
    // four events, one node watcher each: four predicate tests, not 4 x 50
    expect(calls.n).toBe(4);
    expect((await nextEvents(watchers[3]!, 2)).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'p0'],
      ['ADDED', 'p2'],
    ]);
    expect((await nextEvents(watchers[17]!, 1)).map((e) => e.object.metadata.name)).toEqual(['p1']);
    expect((await nextEvents(watchers[49]!, 1)).map((e) => e.object.metadata.name)).toEqual(['p3']);
    // nothing else reached any other watcher: a later event to node-0 is its first
    await cacher.create('/registry/pods/default/last', onNode('last', 'node-0'));
    expect((await nextEvents(watchers[0]!, 1))[0]!.object.metadata.name).toBe('last');
    for (const i of [1, 2, 16, 48]) {
      const w = watchers[i]!;
      const it = w[Symbol.asyncIterator]();
      w.stop();
      expect(await it.next()).toEqual({ value: undefined, done: true });
    }
    everything.stop();
    for (const w of watchers) w.stop();
    expect(cacher.watcherCount).toBe(0);
  });

  it('tells the old node’s watcher DELETED and the new one ADDED when a pod moves, and the node’s watcher of a binding ADDED', async () => {
    const { cacher } = await newCacher();
    const calls = { n: 0 };
    const a = await cacher.watch(PODS, { predicate: nodeSelector('node-a', calls) });
    const b = await cacher.watch(PODS, { predicate: nodeSelector('node-b', calls) });
    // created unscheduled, then bound to node-a (as the scheduler's binding does)
    await cacher.create('/registry/pods/default/p', pod('p', { spec: { containers: [] } }));
    const bound = await cacher.guaranteedUpdate('/registry/pods/default/p', (c) => ({ ...c!, spec: { ...c!.spec, nodeName: 'node-a' } }));
    const [added] = await nextEvents(a, 1);
    expect(added).toMatchObject({ type: 'ADDED', object: { metadata: { resourceVersion: bound.metadata.resourceVersion }, spec: { nodeName: 'node-a' } } });
    // moved (storage does not hold spec.nodeName immutable; the registry does)
    const moved = await cacher.guaranteedUpdate('/registry/pods/default/p', (c) => ({ ...c!, spec: { ...c!.spec, nodeName: 'node-b' } }));
    const [gone] = await nextEvents(a, 1);
    // as upstream: the previous state, at the event's resourceVersion
    expect(gone).toMatchObject({ type: 'DELETED', object: { spec: { nodeName: 'node-a' }, metadata: { resourceVersion: moved.metadata.resourceVersion } } });
    const [arrived] = await nextEvents(b, 1);
    expect(arrived).toMatchObject({ type: 'ADDED', object: { spec: { nodeName: 'node-b' }, metadata: { resourceVersion: moved.metadata.resourceVersion } } });
    const deleted = await cacher.delete('/registry/pods/default/p');
    const [last] = await nextEvents(b, 1);
    expect(last).toMatchObject({ type: 'DELETED', object: { metadata: { resourceVersion: deleted.metadata.resourceVersion } } });
    a.stop();
    b.stop();
  });
});

describe('Cacher when etcd is unreachable', () => {
  it('fails consistent reads fast, keeps watchers, and catches up after etcd restarts', async () => {
    const { cacher, etcdStorage } = await newCacher({ freshnessTimeoutMs: 3000, maxBackoffMs: 500 });
    await cacher.create('/registry/pods/default/a', pod('a'));
    await cacher.list(PODS);
    const w = await cacher.watch(PODS);

    etcd.kill('SIGKILL');
    const started = Date.now();
    const err = await cacher.list(PODS).catch((e: unknown) => e);
    expect((err as StorageError).code).toBe('Unreachable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await cacher.list(PODS, { resourceVersion: '0' })).items).toHaveLength(1); // stale but served

    await etcd.restart();
    const b = await cacher.create('/registry/pods/default/b', pod('b'));
    const list = await cacher.list(PODS);
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    const [ev] = await nextEvents(w, 1);
    expect(ev).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'b', resourceVersion: b.metadata.resourceVersion } } });
    expect(etcdStorage.stats.activeWatchStreams).toBe(1);
    w.stop();
  });
});

describe('Cacher after its resume revision was compacted', () => {
  it('relists and ends its watchers so they re-watch', async () => {
    // A long reconnect backoff leaves time to write and compact while the cache's etcd watch is down.
    const { cacher } = await newCacher({ minBackoffMs: 4000, maxBackoffMs: 4000 });
    await cacher.create('/registry/pods/default/a', pod('a'));
    await cacher.list(PODS);
    const w = await cacher.watch(PODS);
    etcd.kill('SIGKILL');
    await etcd.restart();
    await cacher.create('/registry/pods/default/b', pod('b'));
    await cacher.delete('/registry/pods/default/a');
    await cacher.storage.compact(await cacher.currentRevision());
    // The watcher cannot be told what it missed: its stream just ends.
    expect(await nextEvents(w, 1, 10_000)).toEqual([]);
    const list = await cacher.list(PODS, { resourceVersion: '0' });
    expect(list.items.map((i) => i.metadata.name)).toEqual(['b']);
    const again = await cacher.watch(PODS, { resourceVersion: list.resourceVersion });
    const c = await cacher.create('/registry/pods/default/c', pod('c'));
    expect((await nextEvents(again, 1))[0]!.object.metadata.resourceVersion).toBe(c.metadata.resourceVersion);
    again.stop();
  });
});

describe('createStorage', () => {
  it('returns a cached storage per resource prefix sharing one etcd client', async () => {
    const factory = createStorage({ endpoints: [etcd.endpoint], cacheResources: true, prefix: `/f${++seq}` });
    cleanups.push(() => factory.close());
    const pods = factory('/registry/pods/');
    const services = factory('/registry/services/');
    expect(factory('/registry/pods/')).toBe(pods);
    expect(pods).toBeInstanceOf(Cacher);
    await pods.create('/registry/pods/default/a', pod('a'));
    await services.create('/registry/services/default/s', pod('s'));
    expect((await pods.list('/registry/pods/')).items).toHaveLength(1);
    expect((await services.list('/registry/services/')).items).toHaveLength(1);
    expect(factory.etcd.stats.activeWatchStreams).toBe(2);

    const direct = createStorage({ endpoints: [etcd.endpoint], cacheResources: false, prefix: `/f${seq}` });
    cleanups.push(() => direct.close());
    const s = direct('/registry/pods/');
    await s.close(); // a per-resource close leaves the shared client usable
    expect((await s.list('/registry/pods/')).items).toHaveLength(1);
  });
});
