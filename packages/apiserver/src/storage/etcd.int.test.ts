import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { freePort } from '../../../../test/fixtures/ports.js';
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
