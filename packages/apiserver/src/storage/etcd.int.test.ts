import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { freePort } from '../../../../test/fixtures/ports.js';
import type { KubeObject } from '@kubelab/api';
import { EtcdStorage } from './etcd.js';
import { expectStorageError, nextEvents, pod, storageContract } from '../../../../test/fixtures/storage-contract.js';

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

storageContract('EtcdStorage', newStorage);

describe('EtcdStorage with several members', () => {
  it('sends a call that cannot reach one member to the next: with one member down every call succeeds', async () => {
    const down = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const s = new EtcdStorage({ endpoints: [down, etcd.endpoint], prefix: `/t${++seq}`, requestTimeoutMs: 2000 });
    storages.push(s);
    for (let i = 0; i < 20; i++) {
      await s.create(`/registry/pods/default/p${i}`, pod(`p${i}`));
      expect((await s.get(`/registry/pods/default/p${i}`)).metadata.name).toBe(`p${i}`);
    }
    expect((await s.list('/registry/pods/')).items).toHaveLength(20);
  });

  it('skips a member that accepts connections but never answers (a host gone silent) instead of failing calls', async () => {
    // A TCP listener that never speaks HTTP/2: gRPC calls to it wait for a connection until their deadline.
    const sockets: Socket[] = [];
    const silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const s = new EtcdStorage({
        endpoints: [`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, etcd.endpoint],
        prefix: `/t${++seq}`,
        requestTimeoutMs: 1000,
      });
      storages.push(s);
      for (let i = 0; i < 20; i++) {
        await s.create(`/registry/pods/default/p${i}`, pod(`p${i}`));
        expect((await s.get(`/registry/pods/default/p${i}`)).metadata.name).toBe(`p${i}`);
      }
      expect((await s.list('/registry/pods/')).items).toHaveLength(20);
    } finally {
      for (const sock of sockets) sock.destroy();
      silent.close();
    }
  });
});

describe('EtcdStorage values', () => {
  it('stores JSON without metadata.resourceVersion (it is the mod_revision)', async () => {
    const s = newStorage();
    const created = await s.create('/registry/pods/default/a', pod('a', { metadata: { name: 'a', resourceVersion: '12345' } }));
    const raw = await s.client.get(`${s.prefix}/registry/pods/default/a`).string();
    expect(JSON.parse(raw!).metadata.resourceVersion).toBeUndefined();
    const kv = await s.client.get(`${s.prefix}/registry/pods/default/a`).exec();
    expect(created.metadata.resourceVersion).toBe(String(kv.kvs[0]!.mod_revision));
  });
});

describe('EtcdStorage guaranteedUpdate from a cached copy (upstream cachedExistingObject)', () => {
  const key = '/registry/pods/default/web';
  const frozen = (o: KubeObject) => Object.freeze(structuredClone(o)) as KubeObject;
  const withLabel = (value: string) => (cur: KubeObject | null) => ({ ...cur!, metadata: { ...cur!.metadata, labels: { v: value } } });

  it('writes without reading first when the copy is current', async () => {
    const s = newStorage();
    const created = await s.create(key, pod('web'));
    const range = vi.spyOn(s.client.kv, 'range');
    const seen: string[] = [];
    const tryUpdate = (cur: KubeObject | null) => {
      seen.push(cur!.metadata.resourceVersion!);
      return withLabel('1')(cur);
    };
    const out = await s.guaranteedUpdate(key, tryUpdate, { cachedExisting: frozen(created) });
    expect(range).not.toHaveBeenCalled();
    expect(seen).toEqual([created.metadata.resourceVersion]);
    expect(out.metadata.labels).toEqual({ v: '1' });
    expect((await s.get(key)).metadata).toMatchObject({ labels: { v: '1' }, resourceVersion: out.metadata.resourceVersion });
  });

  it('a stale copy loses the conditional write and the update is applied to the current object', async () => {
    const s = newStorage();
    const created = await s.create(key, pod('web'));
    const newer = await s.guaranteedUpdate(key, withLabel('1'));
    const seen: string[] = [];
    const out = await s.guaranteedUpdate(
      key,
      (cur) => {
        seen.push(cur!.metadata.resourceVersion!);
        return { ...cur!, metadata: { ...cur!.metadata, annotations: { from: String(cur!.metadata.labels?.v ?? 'none') } } };
      },
      { cachedExisting: frozen(created) },
    );
    expect(seen).toEqual([created.metadata.resourceVersion, newer.metadata.resourceVersion]);
    expect(out.metadata).toMatchObject({ labels: { v: '1' }, annotations: { from: '1' } });
  });

  it("tryUpdate's error on a stale copy is checked against a fresh read; on a current copy it stands", async () => {
    const s = newStorage();
    const created = await s.create(key, pod('web'));
    const newer = await s.guaranteedUpdate(key, withLabel('1'));
    // As the Store does with a client's resourceVersion: only the newer object is accepted.
    const onlyNewer = (cur: KubeObject | null) => {
      if (cur!.metadata.resourceVersion !== newer.metadata.resourceVersion) throw new Error('conflict');
      return withLabel('2')(cur);
    };
    expect((await s.guaranteedUpdate(key, onlyNewer, { cachedExisting: frozen(created) })).metadata.labels).toEqual({ v: '2' });
    const current = await s.get(key);
    const always = vi.fn(() => {
      throw new Error('invalid');
    });
    await expect(s.guaranteedUpdate(key, always, { cachedExisting: frozen(current) })).rejects.toThrow('invalid');
    expect(always).toHaveBeenCalledTimes(1);
    // A precondition on a stale copy is checked again on the current object.
    const out = await s.guaranteedUpdate(key, withLabel('3'), { cachedExisting: frozen(created), preconditions: { resourceVersion: current.metadata.resourceVersion } });
    expect(out.metadata.labels).toEqual({ v: '3' });
  });

  it('an update that changes nothing on a stale copy is redone on the current object, and writes nothing when current', async () => {
    const s = newStorage();
    const created = await s.create(key, pod('web'));
    const newer = await s.guaranteedUpdate(key, withLabel('1'));
    // Relative to the stale copy nothing changes; relative to etcd's object it does (the label goes).
    const out = await s.guaranteedUpdate(key, (cur) => ({ ...cur!, metadata: { ...cur!.metadata, labels: undefined } }), { cachedExisting: frozen(created) });
    expect(Number(out.metadata.resourceVersion)).toBeGreaterThan(Number(newer.metadata.resourceVersion));
    expect((await s.get(key)).metadata.labels).toBeUndefined();
    const txn = vi.spyOn(s.client.kv, 'txn');
    const same = await s.guaranteedUpdate(key, (cur) => cur!, { cachedExisting: frozen(await s.get(key)) });
    expect(txn).not.toHaveBeenCalled();
    expect(same.metadata.resourceVersion).toBe(out.metadata.resourceVersion);
  });

  it('a copy of an object deleted since is NotFound', async () => {
    const s = newStorage();
    const created = await s.create(key, pod('web'));
    await s.delete(key);
    await expect(s.guaranteedUpdate(key, withLabel('1'), { cachedExisting: frozen(created) })).rejects.toMatchObject({ code: 'KeyNotFound' });
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
