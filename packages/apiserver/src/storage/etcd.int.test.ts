import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KubeObject, WatchEvent } from '@kubelab/api';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { EtcdStorage } from './etcd.js';
import { StorageError, type Watcher } from './interface.js';

let etcd: EtcdInstance;
const storages: EtcdStorage[] = [];
let seq = 0;

beforeAll(async () => {
  etcd = await startEtcd();
});
afterEach(async () => {
  await Promise.all(storages.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await etcd?.stop();
});

/** A storage whose keys live under a prefix of their own, so tests do not see each other's keys. */
function newStorage(): EtcdStorage {
  const s = new EtcdStorage({ endpoints: [etcd.endpoint], prefix: `/t${++seq}`, requestTimeoutMs: 2000 });
  storages.push(s);
  return s;
}

function pod(name: string, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, ...extra };
}

async function nextEvents(w: Watcher, n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const it = w[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))),
    ]);
    if (r === 'timeout') throw new Error(`timed out after ${out.length}/${n} events: ${JSON.stringify(out.map((e) => e.type))}`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

async function expectStorageError(p: Promise<unknown>, code: StorageError['code']): Promise<StorageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

describe('EtcdStorage CRUD', () => {
  it('creates, gets, updates and deletes with resourceVersion = mod_revision', async () => {
    const s = newStorage();
    const created = await s.create('/registry/pods/default/a', pod('a', { metadata: { name: 'a', resourceVersion: '12345' } }));
    const rv1 = Number(created.metadata.resourceVersion);
    expect(rv1).toBeGreaterThan(0);
    expect(rv1).not.toBe(12345);

    // resourceVersion is not stored in etcd
    const raw = await s.client.get(`${s.prefix}/registry/pods/default/a`).string();
    expect(JSON.parse(raw!).metadata.resourceVersion).toBeUndefined();

    const got = await s.get('/registry/pods/default/a');
    expect(got).toEqual(created);

    const updated = await s.guaranteedUpdate('/registry/pods/default/a', (cur) => ({ ...cur!, spec: { nodeName: 'n1' } }));
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(rv1);
    expect(updated.spec).toEqual({ nodeName: 'n1' });

    const deleted = await s.delete('/registry/pods/default/a');
    expect(deleted.spec).toEqual({ nodeName: 'n1' });
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(Number(updated.metadata.resourceVersion));
    expect(Number(deleted.metadata.resourceVersion)).toBe(await s.currentRevision());

    await expectStorageError(s.get('/registry/pods/default/a'), 'KeyNotFound');
    await expectStorageError(s.delete('/registry/pods/default/a'), 'KeyNotFound');
    await expectStorageError(s.guaranteedUpdate('/registry/pods/default/a', (c) => c!), 'KeyNotFound');
  });

  it('rejects a second create with KeyExists and keeps the first object', async () => {
    const s = newStorage();
    await s.create('/registry/pods/default/a', pod('a', { spec: { v: 1 } }));
    await expectStorageError(s.create('/registry/pods/default/a', pod('a', { spec: { v: 2 } })), 'KeyExists');
    expect((await s.get('/registry/pods/default/a')).spec).toEqual({ v: 1 });
  });

  it('stores nothing when the update returns the same object', async () => {
    const s = newStorage();
    const created = await s.create('/registry/pods/default/a', pod('a'));
    const before = await s.currentRevision();
    const same = await s.guaranteedUpdate('/registry/pods/default/a', (cur) => ({ ...cur! }));
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(await s.currentRevision()).toBe(before);
  });

  it('retries guaranteedUpdate on conflicts so concurrent updaters lose no update', async () => {
    const s = newStorage();
    await s.create('/registry/pods/default/counter', pod('counter', { data: { n: 0 } }));
    let attempts = 0;
    const updaters = 8;
    const perUpdater = 5;
    await Promise.all(
      Array.from({ length: updaters }, async () => {
        for (let i = 0; i < perUpdater; i++) {
          await s.guaranteedUpdate('/registry/pods/default/counter', async (cur) => {
            attempts++;
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            return { ...cur!, data: { n: cur!.data.n + 1 } };
          });
        }
      }),
    );
    expect((await s.get('/registry/pods/default/counter')).data.n).toBe(updaters * perUpdater);
    expect(attempts).toBeGreaterThan(updaters * perUpdater); // some attempts conflicted and were retried
  });

  it('checks preconditions on update and delete', async () => {
    const s = newStorage();
    const created = await s.create('/registry/pods/default/a', pod('a'));
    const err = await expectStorageError(
      s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: {} }), { preconditions: { uid: 'other' } }),
      'ResourceVersionConflicts',
    );
    expect(err.message).toBe('Precondition failed: UID in precondition: other, UID in object meta: uid-a');
    await expectStorageError(s.delete('/registry/pods/default/a', { preconditions: { resourceVersion: '1' } }), 'ResourceVersionConflicts');
    const updated = await s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { ok: true } }), {
      preconditions: { uid: 'uid-a', resourceVersion: created.metadata.resourceVersion },
    });
    expect(updated.spec).toEqual({ ok: true });
    // validateDeletion can veto a delete
    await expect(
      s.delete('/registry/pods/default/a', {
        validateDeletion: () => {
          throw new Error('not now');
        },
      }),
    ).rejects.toThrow('not now');
    await s.delete('/registry/pods/default/a', { preconditions: { uid: 'uid-a' } });
  });

  it('creates on update with ignoreNotFound', async () => {
    const s = newStorage();
    const seen: Array<KubeObject | null> = [];
    const obj = await s.guaranteedUpdate(
      '/registry/pods/default/new',
      (cur) => {
        seen.push(cur);
        return pod('new');
      },
      { ignoreNotFound: true },
    );
    expect(seen).toEqual([null]);
    expect((await s.get('/registry/pods/default/new')).metadata.resourceVersion).toBe(obj.metadata.resourceVersion);
  });
});

describe('EtcdStorage list', () => {
  it('pages with limit/continue at the first page revision', async () => {
    const s = newStorage();
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) await s.create(`/registry/pods/default/${n}`, pod(n));
    const p1 = await s.list('/registry/pods/', { limit: 3 });
    expect(p1.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(p1.remainingItemCount).toBe(4);
    expect(p1.continue).toBeTruthy();
    const token = JSON.parse(Buffer.from(p1.continue!, 'base64url').toString());
    expect(token).toEqual({ v: 'meta.k8s.io/v1', rv: Number(p1.resourceVersion), start: 'default/c\u0000' });

    // writes between pages must not show up
    await s.create('/registry/pods/default/ee', pod('ee'));
    await s.guaranteedUpdate('/registry/pods/default/d', (c) => ({ ...c!, spec: { changed: true } }));
    await s.delete('/registry/pods/default/f');

    const p2 = await s.list('/registry/pods/', { limit: 3, continue: p1.continue });
    expect(p2.resourceVersion).toBe(p1.resourceVersion);
    expect(p2.items.map((i) => i.metadata.name)).toEqual(['d', 'e', 'f']);
    expect(p2.items[0]!.spec).toBeUndefined();
    expect(p2.remainingItemCount).toBe(1);
    const p3 = await s.list('/registry/pods/', { limit: 3, continue: p2.continue });
    expect(p3.items.map((i) => i.metadata.name)).toEqual(['g']);
    expect(p3.continue).toBeUndefined();
    expect(p3.remainingItemCount).toBeUndefined();

    const all = await s.list('/registry/pods/');
    expect(all.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'ee', 'g']);
    expect(Number(all.resourceVersion)).toBeGreaterThan(Number(p1.resourceVersion));
  });

  it('fills pages with predicate matches, without remainingItemCount', async () => {
    const s = newStorage();
    for (let i = 0; i < 12; i++) {
      await s.create(`/registry/pods/default/p${String(i).padStart(2, '0')}`, pod(`p${i}`, { spec: { even: i % 2 === 0 } }));
    }
    const predicate = (o: KubeObject) => o.spec.even === true;
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await s.list('/registry/pods/', { limit: 2, continue: cont, predicate });
      expect(page.remainingItemCount).toBeUndefined();
      if (page.continue) expect(page.items).toHaveLength(2);
      names.push(...page.items.map((i) => i.metadata.name!));
      cont = page.continue;
      pages++;
    } while (cont);
    expect(names).toEqual(['p0', 'p2', 'p4', 'p6', 'p8', 'p10']);
    expect(pages).toBeLessThanOrEqual(4);
  });

  it('honours resourceVersion and resourceVersionMatch', async () => {
    const s = newStorage();
    const a = await s.create('/registry/pods/default/a', pod('a'));
    await s.create('/registry/pods/default/b', pod('b'));
    const exact = await s.list('/registry/pods/', { resourceVersion: a.metadata.resourceVersion, resourceVersionMatch: 'Exact' });
    expect(exact.items.map((i) => i.metadata.name)).toEqual(['a']);
    expect(exact.resourceVersion).toBe(a.metadata.resourceVersion);
    const notOlder = await s.list('/registry/pods/', { resourceVersion: a.metadata.resourceVersion, resourceVersionMatch: 'NotOlderThan' });
    expect(notOlder.items).toHaveLength(2);
    const future = String((await s.currentRevision()) + 100);
    const err = await expectStorageError(s.list('/registry/pods/', { resourceVersion: future }), 'TooLargeResourceVersion');
    expect(err.message).toMatch(/^Too large resource version: \d+, current: \d+$/);
    expect(await s.count('/registry/pods/')).toBe(2);
    expect(await s.count('/registry/pods/other/')).toBe(0);
  });

  it('returns Expired for compacted revisions (list, continue and watch)', async () => {
    const s = newStorage();
    const a = await s.create('/registry/pods/default/a', pod('a'));
    await s.create('/registry/pods/default/b', pod('b'));
    await s.create('/registry/pods/default/c', pod('c'));
    const p1 = await s.list('/registry/pods/', { limit: 1 });
    await s.guaranteedUpdate('/registry/pods/default/b', (c) => ({ ...c!, spec: { x: 1 } }));
    const current = await s.currentRevision();
    await s.compact(current);
    const err = await expectStorageError(
      s.list('/registry/pods/', { resourceVersion: a.metadata.resourceVersion, resourceVersionMatch: 'Exact' }),
      'Expired',
    );
    expect(err.message).toBe('The resourceVersion for the provided list is too old.');
    const contErr = await expectStorageError(s.list('/registry/pods/', { limit: 1, continue: p1.continue }), 'Expired');
    expect(contErr.message).toMatch(/^The provided continue parameter is too old/);

    const w = await s.watch('/registry/pods/', { resourceVersion: a.metadata.resourceVersion });
    const events = await nextEvents(w, 2);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: `too old resource version: ${a.metadata.resourceVersion} (${current})`,
      },
    });
  });
});

describe('EtcdStorage compactor', () => {
  it('compacts periodically, keeping the history since the previous compaction', async () => {
    const s = newStorage();
    const old = await s.create('/registry/pods/default/a', pod('a'));
    const compactor = s.startCompactor(100);
    try {
      await vi.waitFor(
        async () => {
          await expectStorageError(
            s.list('/registry/pods/', { resourceVersion: old.metadata.resourceVersion, resourceVersionMatch: 'Exact' }),
            'Expired',
          );
        },
        { timeout: 5000, interval: 100 },
      );
    } finally {
      compactor.stop();
    }
    // the latest revision is never compacted
    const latest = await s.currentRevision();
    expect((await s.list('/registry/pods/', { resourceVersion: String(latest), resourceVersionMatch: 'Exact' })).items).toHaveLength(1);
  });
});

describe('EtcdStorage watch', () => {
  it('streams ADDED, MODIFIED and DELETED with their resourceVersions', async () => {
    const s = newStorage();
    const w = await s.watch('/registry/pods/');
    const created = await s.create('/registry/pods/default/a', pod('a'));
    const updated = await s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { x: 1 } }));
    const deleted = await s.delete('/registry/pods/default/a');
    await s.create('/registry/other/x', pod('x')); // outside the watched prefix
    const events = await nextEvents(w, 3);
    expect(events.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', created.metadata.resourceVersion],
      ['MODIFIED', updated.metadata.resourceVersion],
      ['DELETED', deleted.metadata.resourceVersion],
    ]);
    expect(events[2]!.object.spec).toEqual({ x: 1 }); // the last state
    w.stop();
    const after = await nextEvents(w, 1, 200);
    expect(after).toEqual([]);
  });

  it('watches a single key and applies predicate transitions', async () => {
    const s = newStorage();
    await s.create('/registry/pods/default/a', pod('a', { spec: { phase: 'x' } }));
    const single = await s.watch('/registry/pods/default/a', { resourceVersion: '0' });
    const filtered = await s.watch('/registry/pods/', { predicate: (o) => o.spec?.phase === 'match' });
    await s.create('/registry/pods/default/b', pod('b', { spec: { phase: 'x' } }));
    await s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { phase: 'match' } })); // enters -> ADDED
    await s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { phase: 'match', n: 1 } })); // MODIFIED
    const leaving = await s.guaranteedUpdate('/registry/pods/default/a', (c) => ({ ...c!, spec: { phase: 'gone' } })); // leaves -> DELETED
    const singleEvents = await nextEvents(single, 4);
    expect(singleEvents.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED']); // initial state first
    const filteredEvents = await nextEvents(filtered, 3);
    expect(filteredEvents.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(filteredEvents[2]!.object.spec).toEqual({ phase: 'match', n: 1 });
    expect(filteredEvents[2]!.object.metadata.resourceVersion).toBe(leaving.metadata.resourceVersion);
    single.stop();
    filtered.stop();
  });

  it('resumes from a resourceVersion without loss or repeats', async () => {
    const s = newStorage();
    const w1 = await s.watch('/registry/pods/');
    for (let i = 0; i < 5; i++) await s.create(`/registry/pods/default/p${i}`, pod(`p${i}`));
    const first = await nextEvents(w1, 3);
    w1.stop();
    const last = first[2]!.object.metadata.resourceVersion!;
    for (let i = 5; i < 8; i++) await s.create(`/registry/pods/default/p${i}`, pod(`p${i}`));
    const w2 = await s.watch('/registry/pods/', { resourceVersion: last });
    const rest = await nextEvents(w2, 5);
    w2.stop();
    expect([...first, ...rest].map((e) => e.object.metadata.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
    const rvs = [...first, ...rest].map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(new Set(rvs).size).toBe(8);
  });

  it('sends initial events and the initial-events-end bookmark', async () => {
    const s = newStorage();
    await s.create('/registry/pods/default/a', pod('a'));
    await s.create('/registry/pods/default/b', pod('b'));
    const w = await s.watch('/registry/pods/', { sendInitialEvents: true, allowBookmarks: true });
    const events = await nextEvents(w, 3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK']);
    expect(events[2]!.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(events[2]!.object.metadata.resourceVersion).toBe(String(await s.currentRevision()));
    w.stop();
  });
});

describe('EtcdStorage when etcd is unreachable', () => {
  it('fails fast with Unreachable and recovers after etcd restarts', async () => {
    const s = newStorage();
    await s.create('/registry/pods/default/a', pod('a'));
    const w = await s.watch('/registry/pods/');
    etcd.kill('SIGKILL');
    const started = Date.now();
    await expectStorageError(s.get('/registry/pods/default/a'), 'Unreachable');
    await expectStorageError(s.create('/registry/pods/default/b', pod('b')), 'Unreachable');
    await expectStorageError(s.list('/registry/pods/'), 'Unreachable');
    expect(Date.now() - started).toBeLessThan(5000);
    const ended = await nextEvents(w, 2);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.type).toBe('ERROR');
    expect(ended[0]!.object.code).toBe(500);

    await etcd.restart();
    expect((await s.get('/registry/pods/default/a')).metadata.name).toBe('a');
    await s.create('/registry/pods/default/b', pod('b'));
    expect((await s.list('/registry/pods/')).items).toHaveLength(2);
  });

  it('fails within the request deadline when etcd hangs', async () => {
    const s = newStorage(); // requestTimeoutMs: 2000
    await s.create('/registry/pods/default/a', pod('a'));
    etcd.kill('SIGSTOP');
    try {
      const started = Date.now();
      await expectStorageError(s.get('/registry/pods/default/a'), 'Unreachable');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1500);
      expect(elapsed).toBeLessThan(4000);
    } finally {
      etcd.kill('SIGCONT');
    }
    expect((await s.get('/registry/pods/default/a')).metadata.name).toBe('a');
  });
});
