// kube-controller-manager (in-process) against a real apiserver + etcd. No kubelet runs: a small
// "fake kubelet" in the test marks pods Running and Ready, as upstream's integration tests do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { findResource, isNotFound, type KubeObject } from '@kubelab/api';
import { Informer, listWatchFor, loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { until } from '../fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;
const kubelets: Informer<KubeObject>[] = [];

const pods = findResource('', 'v1', 'pods')!;
const namespaces = findResource('', 'v1', 'namespaces')!;
const configmaps = findResource('', 'v1', 'configmaps')!;
const serviceaccounts = findResource('', 'v1', 'serviceaccounts')!;
const deployments = findResource('apps', 'v1', 'deployments')!;
const replicasets = findResource('apps', 'v1', 'replicasets')!;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({ ...defaults(), leaderElect: false, securePort: 0, rootCAFile: join(api.pkiDir, 'ca.crt') });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
});

afterAll(async () => {
  for (const k of kubelets) await k.stop();
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});


/** Marks every pod of a namespace Running and Ready shortly after it appears. */
function fakeKubelet(namespace: string): Informer<KubeObject> {
  const inf = new Informer<KubeObject>({ listWatch: listWatchFor(client, pods, namespace) });
  const markReady = (pod: KubeObject) => {
    if (pod.metadata.deletionTimestamp || pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    setTimeout(() => {
      client
        .resource(pods, namespace)
        .patch(pod.metadata.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' })
        .catch(() => undefined);
    }, 150);
  };
  inf.addEventHandler({ onAdd: markReady, onUpdate: (_o, p) => markReady(p) });
  inf.start();
  kubelets.push(inf);
  return inf;
}

async function createNamespace(name: string) {
  await client.resource(namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function deployment(name: string, replicas: number, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, annotations: { 'kubernetes.io/change-cause': `create ${image}` } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}

const isReady = (p: KubeObject) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

describe('kube-controller-manager', () => {
  it('rolls a Deployment of 3 from v1 to v2 within maxSurge/maxUnavailable, and rolls it back', async () => {
    const ns = 'rollout';
    await createNamespace(ns);
    fakeKubelet(ns);
    const dc = client.resource(deployments, ns);
    await dc.create(deployment('web', 3, 'nginx:v1'));
    const rolledOut = await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(rolledOut.stdout).toContain('deployment "web" successfully rolled out');
    expect(rolledOut.code).toBe(0);

    // Watch every pod change from here on; the live set must stay within the bounds at every event.
    const watcher = new Informer<KubeObject>({ listWatch: listWatchFor(client, pods, ns) });
    const live = new Map<string, KubeObject>();
    let maxTotal = 0;
    let minReady = Infinity;
    let synced = false;
    const observe = () => {
      if (!synced) return;
      const active = [...live.values()].filter((p) => !p.metadata.deletionTimestamp);
      maxTotal = Math.max(maxTotal, active.length);
      minReady = Math.min(minReady, active.filter(isReady).length);
    };
    watcher.addEventHandler({
      onAdd: (p) => {
        live.set(p.metadata.name!, p);
        observe();
      },
      onUpdate: (_o, p) => {
        live.set(p.metadata.name!, p);
        observe();
      },
      onDelete: (p) => {
        live.delete(p.metadata.name!);
        observe();
      },
    });
    watcher.start();
    await watcher.waitForSync();
    synced = true;
    observe();
    expect(live.size).toBe(3);
    expect(minReady).toBe(3);

    await dc.patch('web', { metadata: { annotations: { 'kubernetes.io/change-cause': 'image v2' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:v2' }] } } } }, 'merge');
    const status = await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(status.code).toBe(0);
    await until('only v2 pods', async () => {
      const active = [...live.values()].filter((p) => !p.metadata.deletionTimestamp);
      return active.length === 3 && active.every((p) => p.spec.containers[0].image === 'nginx:v2');
    });
    await watcher.stop();
    expect(maxTotal).toBe(4); // 3 + maxSurge, and the surge was used
    expect(minReady).toBe(3); // 3 - maxUnavailable

    const rss = (await client.resource(replicasets, ns).list()).items;
    expect(rss).toHaveLength(2);
    const v2 = rss.find((rs) => rs.spec.template.spec.containers[0].image === 'nginx:v2')!;
    expect(v2.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'image v2' });
    expect(v2.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 });
    const d = await dc.get('web');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3, observedGeneration: d.metadata.generation });
    expect(d.status.conditions.find((c: any) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(d.status.conditions.find((c: any) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });

    const history = await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'history', 'deployment/web']);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history.stdout).toMatch(/1\s+create nginx:v1/);
    expect(history.stdout).toMatch(/2\s+image v2/);

    const undo = await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'undo', 'deployment/web']);
    expect(undo.stderr).toBe('');
    expect(undo.stdout.trim()).toBe('deployment.apps/web rolled back');
    expect((await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 })).code).toBe(0);
    const images = await until('v1 pods again', async () => {
      const list = (await client.resource(pods, ns).list()).items.filter((p) => !p.metadata.deletionTimestamp);
      return list.length === 3 && list.every((p) => p.spec.containers[0].image === 'nginx:v1') && list;
    });
    expect(images).toHaveLength(3);
    const after = await kubectl(api.kubeconfig, ['-n', ns, 'rollout', 'history', 'deployment/web']);
    expect(after.stdout).toMatch(/2\s+image v2/);
    expect(after.stdout).toMatch(/3\s+create nginx:v1/);
    expect((await dc.get('web')).metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');

    const events = (await client.resource(findResource('', 'v1', 'events')!, ns).list()).items;
    const reasons = new Set(events.map((e) => e.reason));
    expect(reasons).toContain('ScalingReplicaSet');
    expect(reasons).toContain('SuccessfulCreate');
    expect(reasons).toContain('SuccessfulDelete');
    expect(events.some((e) => e.reason === 'ScalingReplicaSet' && /^Scaled up replica set web-\w+ from 0 to 1$/.test(e.message))).toBe(true);
  });

  it('deleting a Deployment removes its ReplicaSets and pods (background and foreground); orphaning keeps them', async () => {
    const ns = 'gc';
    await createNamespace(ns);
    fakeKubelet(ns);
    const dc = client.resource(deployments, ns);
    const podsOf = async (app: string) => (await client.resource(pods, ns).list({ labelSelector: `app=${app}` })).items;
    const rsOf = async (app: string) => (await client.resource(replicasets, ns).list({ labelSelector: `app=${app}` })).items;
    for (const name of ['bg', 'fg', 'orphan']) await dc.create(deployment(name, 2, 'nginx:v1'));
    for (const name of ['bg', 'fg', 'orphan']) await until(`${name} pods`, async () => (await podsOf(name)).length === 2);

    await dc.delete('bg', { propagationPolicy: 'Background' });
    await until('bg gone', async () => (await rsOf('bg')).length === 0 && (await podsOf('bg')).length === 0);

    await dc.delete('fg', { propagationPolicy: 'Foreground' });
    // The owner stays (with the foregroundDeletion finalizer) until its dependents are gone.
    const waiting = await dc.get('fg');
    expect(waiting.metadata.finalizers).toContain('foregroundDeletion');
    await until('fg deployment gone', async () => {
      try {
        await dc.get('fg');
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    });
    expect(await rsOf('fg')).toHaveLength(0);
    expect(await podsOf('fg')).toHaveLength(0);

    await dc.delete('orphan', { propagationPolicy: 'Orphan' });
    await until('orphan deployment gone', async () => dc.get('orphan').then(() => false, isNotFound));
    const [rs] = await until('orphaned rs without owner', async () => {
      const list = await rsOf('orphan');
      return list.length === 1 && !list[0]!.metadata.ownerReferences?.length && list;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await rsOf('orphan')).toHaveLength(1);
    const left = await podsOf('orphan');
    expect(left).toHaveLength(2);
    expect(left.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs!.metadata.uid)).toBe(true);
  });

  it('a ReplicaSet replaces a deleted pod and adopts a matching orphan', async () => {
    const ns = 'rs';
    await createNamespace(ns);
    const rc = client.resource(replicasets, ns);
    await rc.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'fe' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'fe' } }, template: { metadata: { labels: { app: 'fe' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const list = () => client.resource(pods, ns).list({ labelSelector: 'app=fe' }).then((l) => l.items);
    const first = await until('2 pods', async () => ((await list()).length === 2 ? list() : undefined));
    expect(first.every((p) => p.metadata.name!.startsWith('fe-'))).toBe(true);
    await client.resource(pods, ns).delete(first[0]!.metadata.name!);
    await until('replacement', async () => {
      const l = await list();
      return l.length === 2 && !l.some((p) => p.metadata.name === first[0]!.metadata.name);
    });
    // Scale to 3 with an orphan already there: it is adopted. The orphan is bound to a node so that, should the
    // ReplicaSet see it before the scale-up (3 pods for 2 replicas), the pod it deletes is an unscheduled one, as
    // upstream ranks them, and never the orphan.
    await client.resource(pods, ns).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'fe' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
    });
    await rc.patch('fe', { spec: { replicas: 3 } }, 'merge');
    const adopted = await until('adopted', async () => {
      const p = await client.resource(pods, ns).get('stray');
      return p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet' && p;
    });
    expect(adopted.metadata.ownerReferences![0]).toMatchObject({ name: 'fe', controller: true, blockOwnerDeletion: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(await list()).toHaveLength(3);
    const rs = await until('status', async () => {
      const r = await rc.get('fe');
      return r.status?.replicas === 3 && r.status.observedGeneration === r.metadata.generation && r;
    });
    expect(rs.status.fullyLabeledReplicas).toBe(3);
  });

  it('every namespace gets the default ServiceAccount and kube-root-ca.crt; deleting a namespace empties and removes it', async () => {
    const ns = 'doomed';
    await createNamespace(ns);
    const sa = await until('default SA', () => client.resource(serviceaccounts, ns).get('default'));
    expect(sa.metadata.name).toBe('default');
    const ca = await until('root CA', () => client.resource(configmaps, ns).get('kube-root-ca.crt'));
    expect(ca.data['ca.crt']).toBe(readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8'));
    expect(ca.metadata.annotations!['kubernetes.io/description']).toMatch(/^Contains a CA bundle/);
    // Deleted, it comes back.
    await client.resource(serviceaccounts, ns).delete('default');
    await until('default SA again', () => client.resource(serviceaccounts, ns).get('default'));

    await client.resource(configmaps, ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine' }, data: { a: '1' } });
    await client.resource(deployments, ns).create(deployment('app', 2, 'nginx:v1'));
    await until('pods in doomed', async () => (await client.resource(pods, ns).list()).items.length === 2);

    await client.resource(namespaces).delete(ns);
    const terminating = await client.resource(namespaces).get(ns);
    expect(terminating.status.phase).toBe('Terminating');
    await until('namespace gone', async () => client.resource(namespaces).get(ns).then(() => false, isNotFound), 45_000);
    expect((await client.resource(configmaps, ns).list()).items).toHaveLength(0);
    expect((await client.resource(pods, ns).list()).items).toHaveLength(0);
    expect((await client.resource(deployments, ns).list()).items).toHaveLength(0);
  });
});
