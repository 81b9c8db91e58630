// @kubelab/client (what every Kubelab component uses) against a real apiserver: REST errors as
// StatusErrors, an informer that follows every change across a 410, and leader election on real Leases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, findResource, isNotFound, isConflict, type KubeObject } from '@kubelab/api';
import { Informer, LeaderElector, RestClient, leaseClientFor, listWatchFor, loadKubeconfig } from '@kubelab/client';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
const configmaps = findResource('', 'v1', 'configmaps')!;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
});

afterAll(async () => {
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

const until = async (cond: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('@kubelab/client against the apiserver', () => {
  it('CRUD with typed errors', async () => {
    const cms = client.resource(configmaps, 'default');
    const created = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kc-1' }, data: { a: '1' } });
    await expect(cms.get('missing')).rejects.toSatisfy(isNotFound);
    const stale = structuredClone(created);
    await cms.update({ ...created, data: { a: '2' } });
    await expect(cms.update({ ...stale, data: { a: '3' } })).rejects.toSatisfy(isConflict);
    const patched = await cms.patch('kc-1', { data: { b: '2' } }, 'merge');
    expect(patched.data).toEqual({ a: '2', b: '2' });
    await cms.delete('kc-1');
    await expect(cms.get('kc-1')).rejects.toSatisfy(isNotFound);
    expect(RESOURCES.length).toBeGreaterThan(20);
  });

  it('an informer sees every change', async () => {
    const informer = new Informer<KubeObject>({ listWatch: listWatchFor(client, configmaps, 'default', { labelSelector: 'inf=yes' }) });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata.name} ${o.data?.v}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    const cms = client.resource(configmaps, 'default');
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pre', labels: { inf: 'yes' } }, data: { v: '0' } });
    informer.start();
    try {
      expect(await informer.waitForSync()).toBe(true);
      expect(informer.lister.get('default', 'pre')?.data).toEqual({ v: '0' });
      await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'live', labels: { inf: 'yes' } }, data: { v: '1' } });
      await cms.patch('live', { data: { v: '2' } }, 'merge');
      await cms.delete('pre');
      await until(() => seen.includes('delete pre') && seen.includes('update live 2'), 'informer events');
      expect(seen).toEqual(['add pre', 'add live', 'update live 2', 'delete pre']);
      expect(informer.lister.list('default').map((o) => o.metadata.name)).toEqual(['live']);
    } finally {
      informer.stop();
    }
  });

  it('two electors on one Lease: one leads, the other takes over when it stops', async () => {
    const leases = leaseClientFor(client, 'kube-system');
    const events: string[] = [];
    const elector = (id: string) =>
      new LeaderElector({
        lease: leases,
        leaseName: 'test-election',
        identity: id,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 500,
        releaseOnCancel: true,
        callbacks: {
          onStartedLeading: () => {
            events.push(`${id} leads`);
          },
          onStoppedLeading: () => {
            events.push(`${id} stopped`);
          },
        },
      });
    const a = elector('a');
    const b = elector('b');
    void a.run();
    await until(() => a.isLeader(), 'a to lead');
    void b.run();
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.isLeader()).toBe(false);
    const lease = await client.resource(findResource('coordination.k8s.io', 'v1', 'leases')!, 'kube-system').get('test-election');
    expect(lease.spec.holderIdentity).toBe('a');
    a.stop();
    await until(() => b.isLeader(), 'b to take over', 15_000);
    b.stop();
    expect(events.slice(0, 3)).toEqual(['a leads', 'a stopped', 'b leads']);
  });
});
