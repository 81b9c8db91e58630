// Two kube-controller-manager processes with --leader-elect: only the Lease holder acts, and when it
// is killed (no release) the other takes over within the lease duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { findResource } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { until } from '../fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, ROOT, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
const procs: Array<{ child: ChildProcess; out: () => string }> = [];

function startKCM(): { child: ChildProcess; out: () => string } {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      join(ROOT, 'packages/controller-manager/src/main.ts'),
      `--kubeconfig=${api.kubeconfig}`,
      '--leader-elect',
      '--secure-port=0',
      '--leader-elect-lease-duration=4s',
      '--leader-elect-renew-deadline=3s',
      '--leader-elect-retry-period=500ms',
      '--controllers=replicaset,garbagecollector',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const p = { child, out: () => out };
  procs.push(p);
  return p;
}

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  client?.close();
  await api?.stop();
  await etcd?.stop();
});


describe('kube-controller-manager leader election', () => {
  it('only the leader acts; killing it hands over within the lease duration', async () => {
    const a = startKCM();
    const b = startKCM();
    const leases = client.resource(findResource('coordination.k8s.io', 'v1', 'leases')!, 'kube-system');
    const lease = await until('a lease holder', async () => {
      const l = await leases.get('kube-controller-manager');
      return l.spec?.holderIdentity && l;
    });
    const holder: string = lease.spec.holderIdentity;
    const leader = await until('leader log', async () => [a, b].find((p) => p.out().includes('Started leading') && p.out().includes(holder)));
    const follower = leader === a ? b : a;
    expect(follower.out()).not.toContain('Started leading');

    const rss = client.resource(findResource('apps', 'v1', 'replicasets')!, 'default');
    const pods = client.resource(findResource('', 'v1', 'pods')!, 'default');
    const rs = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name },
      spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await rss.create(rs('one'));
    await until('pods of one', async () => (await pods.list({ labelSelector: 'app=one' })).items.length === 2);

    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until('the follower leads', async () => follower.out().includes('Started leading'), 20_000);
    const handover = Date.now() - killedAt;
    expect(handover).toBeLessThan(4000 + 3000); // lease duration plus retry jitter and start-up
    const after = await leases.get('kube-controller-manager');
    expect(after.spec.holderIdentity).not.toBe(holder);
    expect(after.spec.leaseTransitions).toBeGreaterThanOrEqual(1);

    await rss.create(rs('two'));
    await until('pods of two', async () => (await pods.list({ labelSelector: 'app=two' })).items.length === 2);
    // Exactly the wanted pods: the old leader did not leave duplicates behind.
    expect((await pods.list({ labelSelector: 'app=one' })).items).toHaveLength(2);
  });
});
