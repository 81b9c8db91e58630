// PodDisruptionBudgets end to end: a real apiserver + etcd, the controller-manager's disruption-controller,
// fake nodes (Node objects, no kubelet) and a small fake kubelet that finishes the deletion of pods on them.
// `kubectl drain` evicts a node's pods through pods/eviction and stops at the budget; once the budget allows
// it again, the drain completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { Informer, listWatchFor, loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';
import { until } from '../fixtures/wait.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;
let kubelet: Informer<KubeObject>;

const R = {
  pods: findResource('', 'v1', 'pods')!,
  nodes: findResource('', 'v1', 'nodes')!,
  namespaces: findResource('', 'v1', 'namespaces')!,
  replicasets: findResource('apps', 'v1', 'replicasets')!,
  pdbs: findResource('policy', 'v1', 'poddisruptionbudgets')!,
};
const ns = 'drain';

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({ ...defaults(), leaderElect: false, securePort: 0, controllers: ['disruption-controller'] });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
  // The fake kubelet: a pod being deleted on one of our nodes is gone at once (grace period 0).
  kubelet = new Informer<KubeObject>({ listWatch: listWatchFor(client, R.pods, ns) });
  const finish = (p: KubeObject) => {
    if (p.metadata.deletionTimestamp) client.resource(R.pods, ns).delete(p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
  };
  kubelet.addEventHandler({ onAdd: finish, onUpdate: (_o, p) => finish(p) });
  kubelet.start();
});

afterAll(async () => {
  await kubelet?.stop();
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

const k = (args: string[], input?: string, timeoutMs?: number) => kubectl(api.kubeconfig, args, { input, timeoutMs });

async function readyPod(name: string, node: string, rs: KubeObject): Promise<void> {
  await client.resource(R.pods, ns).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true }],
    },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }] },
  });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.resource(R.pods, ns).patch(name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' });
}

describe('PodDisruptionBudget and kubectl drain', () => {
  it('is listed by api-resources with its short name', async () => {
    const out = await k(['api-resources', '--api-group=policy']);
    expect(out.stdout).toMatch(/^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/m);
  });

  it('refuses a budget with both minAvailable and maxUnavailable', async () => {
    const out = await k(['apply', '-f', '-'], 'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: both, namespace: default}\nspec: {minAvailable: 1, maxUnavailable: 1, selector: {matchLabels: {app: x}}}\n');
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('The PodDisruptionBudget "both" is invalid: spec: Invalid value: ');
    expect(out.stderr).toContain('minAvailable and maxUnavailable cannot be both set');
  });

  it('evicts pods but stops at the budget, and finishes once the budget allows it', async () => {
    for (const n of ['node-a', 'node-b']) {
      await client.resource(R.nodes).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'kubernetes.io/hostname': n } } });
    }
    expect((await k(['create', 'namespace', ns])).code).toBe(0);
    // The pods' ReplicaSet (no ReplicaSet controller runs: the pods are placed by hand).
    const rs = await client.resource(R.replicasets, ns).create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    await readyPod('web-a1', 'node-a', rs);
    await readyPod('web-a2', 'node-a', rs);
    await readyPod('web-b1', 'node-b', rs);
    expect((await k(['-n', ns, 'create', 'pdb', 'web', '--selector=app=web', '--min-available=2'])).code).toBe(0);
    await until('the budget to allow one disruption', async () => (await k(['-n', ns, 'get', 'pdb', 'web', '--no-headers'])).stdout.match(/^web\s+2\s+N\/A\s+1\s+/));

    const drain = await k(['drain', 'node-a', '--ignore-daemonsets', '--timeout=8s'], undefined, 30_000);
    expect(drain.code).not.toBe(0);
    expect(drain.stdout).toContain('node/node-a cordoned');
    expect(drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    const left = (await client.resource(R.pods, ns).list()).items.map((p) => p.metadata.name).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain('web-b1');
    const pdb = await client.resource(R.pdbs, ns).get('web');
    expect(pdb.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
    expect((await client.resource(R.nodes).get('node-a')).spec?.unschedulable).toBe(true);

    // A replacement elsewhere (as the ReplicaSet controller and scheduler would make) lets the drain finish.
    await readyPod('web-b2', 'node-b', rs);
    await until('the budget to allow one disruption again', async () => (await client.resource(R.pdbs, ns).get('web')).status?.disruptionsAllowed === 1);
    const again = await k(['drain', 'node-a', '--ignore-daemonsets', '--timeout=20s'], undefined, 40_000);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('node/node-a drained');
    const onA = (await client.resource(R.pods, ns).list()).items.filter((p) => p.spec.nodeName === 'node-a');
    expect(onA).toEqual([]);
    expect((await k(['uncordon', 'node-a'])).stdout).toContain('node/node-a uncordoned');
  });
});
