// @kubernetes/client-node (the official JavaScript client) as a second real client: CRUD and an
// informer that sees every change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfig);
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

const until = async (cond: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('@kubernetes/client-node', () => {
  it('creates, reads, replaces, lists and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn-1', labels: { via: 'client-node' } }, data: { a: '1' } } });
    expect(created.metadata?.uid).toBeTruthy();
    const read = await core.readNamespacedConfigMap({ name: 'cn-1', namespace: 'default' });
    expect(read.data).toEqual({ a: '1' });
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cn-1', namespace: 'default', body: read });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'via=client-node' });
    expect(list.items.map((c) => c.metadata?.name)).toEqual(['cn-1']);

    const dep = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'cn-web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'cn-web' } }, template: { metadata: { labels: { app: 'cn-web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
      },
    });
    expect(dep.spec?.revisionHistoryLimit).toBe(10);
    expect(dep.spec?.template.spec?.containers[0]?.terminationMessagePath).toBe('/dev/termination-log');

    await core.deleteNamespacedConfigMap({ name: 'cn-1', namespace: 'default' });
    await expect(core.readNamespacedConfigMap({ name: 'cn-1', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  it('an informer sees adds, updates and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o: k8s.V1ConfigMap) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o: k8s.V1ConfigMap) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o: k8s.V1ConfigMap) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf-1' }, data: { v: '1' } } });
      await until(() => seen.includes('add inf-1'), 'add');
      await core.patchNamespacedConfigMap({ name: 'inf-1', namespace: 'default', body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await until(() => seen.includes('update inf-1 2'), 'update');
      await core.deleteNamespacedConfigMap({ name: 'inf-1', namespace: 'default' });
      await until(() => seen.includes('delete inf-1'), 'delete');
      expect(informer.list().map((o) => o.metadata?.name)).not.toContain('inf-1');
    } finally {
      await informer.stop();
    }
  });
});
