// kube-controller-manager under upstream's identities against a real apiserver with RBAC: its own user
// (system:kube-controller-manager, the client certificate of controller-manager.conf) holds only the
// bootstrap role system:kube-controller-manager; with --use-service-account-credentials each controller
// acts as its kube-system ServiceAccount, authorized by system:controller:<name>. No kubelet runs: the
// test marks pods Running and Ready itself, as upstream's integration tests do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findResource, isNotFound, type KubeObject } from '@kubelab/api';
import { Informer, listWatchFor, loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { CONTROLLER_SERVICE_ACCOUNTS, configFromFlags, createControllerManager, type ControllerManager } from '@kubelab/controller-manager';
import { until } from '../fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let admin: RestClient;
const kubelets: Informer<KubeObject>[] = [];

const pods = findResource('', 'v1', 'pods')!;
const namespaces = findResource('', 'v1', 'namespaces')!;
const configmaps = findResource('', 'v1', 'configmaps')!;
const events = findResource('', 'v1', 'events')!;
const serviceaccounts = findResource('', 'v1', 'serviceaccounts')!;
const deployments = findResource('apps', 'v1', 'deployments')!;
const replicasets = findResource('apps', 'v1', 'replicasets')!;
const clusterrolebindings = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC'] });
  admin = new RestClient(loadKubeconfig(api.kubeconfig));
});

afterAll(async () => {
  for (const k of kubelets) await k.stop();
  admin?.close();
  await api?.stop();
  await etcd?.stop();
});

/** A controller-manager authenticated as system:kube-controller-manager (controller-manager.conf of the PKI). */
async function startControllerManager(extraFlags: string[]): Promise<ControllerManager> {
  const kubeconfig = join(api.pkiDir, 'controller-manager.conf');
  const config = configFromFlags([`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', `--root-ca-file=${join(api.pkiDir, 'ca.crt')}`, ...extraFlags]);
  const rc = loadKubeconfig(kubeconfig);
  const cm = createControllerManager(config, { client: new RestClient({ ...rc, server: api.url, userAgent: 'kube-controller-manager' }), logger: silentLogger() });
  await cm.start();
  return cm;
}

/** Marks every pod of a namespace Running and Ready shortly after it appears. */
function fakeKubelet(namespace: string): void {
  const inf = new Informer<KubeObject>({ listWatch: listWatchFor(admin, pods, namespace) });
  const markReady = (pod: KubeObject) => {
    if (pod.metadata.deletionTimestamp || pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    admin
      .resource(pods, namespace)
      .patch(pod.metadata.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, 'merge', { subresource: 'status' })
      .catch(() => undefined);
  };
  inf.addEventHandler({ onAdd: markReady, onUpdate: (_o, p) => markReady(p) });
  inf.start();
  kubelets.push(inf);
}

function deployment(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

async function createNamespace(name: string): Promise<void> {
  await admin.resource(namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

const livePods = async (ns: string) => (await admin.resource(pods, ns).list()).items.filter((p) => !p.metadata.deletionTimestamp);

/** Waits until the Deployment's status reports `replicas` updated, ready and available pods. */
async function rolledOut(ns: string, name: string, replicas: number): Promise<KubeObject> {
  return until(
    `deployment ${ns}/${name} rolled out to ${replicas}`,
    async () => {
      const d = await admin.resource(deployments, ns).get(name);
      const s = d.status ?? {};
      return d.status?.observedGeneration === d.metadata.generation && s.updatedReplicas === replicas && s.readyReplicas === replicas && s.availableReplicas === replicas && d;
    },
    30_000,
  );
}

describe('the bootstrap policy', () => {
  it("binds every controller's kube-system ServiceAccount to its system:controller: role, and gives the controller-manager no cluster-admin", async () => {
    for (const account of new Set(Object.values(CONTROLLER_SERVICE_ACCOUNTS))) {
      const b = await admin.resource(clusterrolebindings).get(`system:controller:${account}`);
      expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `system:controller:${account}` });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'kube-system' }]);
    }
    const bound = (await admin.resource(clusterrolebindings).list()).items.filter((b) => b.subjects?.some((s: any) => s.kind === 'User' && s.name === 'system:kube-controller-manager'));
    expect(bound.map((b) => b.roleRef.name)).toEqual(['system:kube-controller-manager']);
  });
});

describe('kube-controller-manager with --use-service-account-credentials', () => {
  let cm: ControllerManager;
  beforeAll(async () => {
    cm = await startControllerManager(['--use-service-account-credentials']);
  });
  afterAll(async () => {
    await cm?.stop();
  });

  it('runs each controller as its kube-system ServiceAccount: a Deployment rolls out, and a controller without its binding is forbidden', async () => {
    const ns = 'identity';
    await createNamespace(ns);
    fakeKubelet(ns);
    await admin.resource(deployments, ns).create(deployment('web', 2));
    await rolledOut(ns, 'web', 2);
    const [rs] = (await admin.resource(replicasets, ns).list()).items;
    expect(rs?.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(await livePods(ns)).toHaveLength(2);

    // The controllers' accounts were made in kube-system.
    const accounts = (await admin.resource(serviceaccounts, 'kube-system').list()).items.map((sa) => sa.metadata.name);
    expect(accounts).toEqual(expect.arrayContaining(['deployment-controller', 'replicaset-controller', 'namespace-controller', 'generic-garbage-collector']));
    // Events are written too (system:controller:deployment-controller may create them).
    await until('the ScalingReplicaSet event', async () =>
      (await admin.resource(events, ns).list()).items.find((e) => e.reason === 'ScalingReplicaSet' && e.involvedObject.name === 'web'),
    );

    // Without the binding of system:controller:replicaset-controller the ReplicaSet controller may neither
    // create pods nor write events (the controller-manager's own user may not create pods either), while
    // the deployment controller, under its own account, still scales the ReplicaSet.
    const binding = await admin.resource(clusterrolebindings).get('system:controller:replicaset-controller');
    await admin.resource(clusterrolebindings).delete('system:controller:replicaset-controller');
    await admin.resource(deployments, ns).patch('web', { spec: { replicas: 3 } }, 'merge');
    await until('the ReplicaSet scaled to 3', async () =>
      (await admin.resource(events, ns).list()).items.find((e) => e.reason === 'ScalingReplicaSet' && /from 2 to 3/.test(e.message)),
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(await livePods(ns)).toHaveLength(2);
    expect((await admin.resource(events, ns).list()).items.filter((e) => e.reason === 'SuccessfulCreate')).toHaveLength(2);

    // Bound again, the controller catches up.
    await admin.resource(clusterrolebindings).create({ apiVersion: binding.apiVersion, kind: binding.kind, metadata: { name: binding.metadata.name, labels: binding.metadata.labels, annotations: binding.metadata.annotations }, roleRef: binding.roleRef, subjects: binding.subjects });
    await rolledOut(ns, 'web', 3);
  });

  it('deletes a namespace with everything in it', async () => {
    const ns = 'identity-gone';
    await createNamespace(ns);
    fakeKubelet(ns);
    await admin.resource(deployments, ns).create(deployment('web', 1));
    await rolledOut(ns, 'web', 1);
    await admin.resource(configmaps, ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } });
    await admin.resource(namespaces).delete(ns);
    await until(
      `namespace ${ns} gone`,
      async () => admin.resource(namespaces).get(ns).then(() => false, (err) => isNotFound(err)),
      30_000,
    );
    expect((await admin.resource(pods, ns).list()).items).toHaveLength(0);
  });

  it('collects garbage: a dependent goes with its owner', async () => {
    const ns = 'identity-gc';
    await createNamespace(ns);
    const owner = await admin.resource(configmaps, ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
    await admin.resource(configmaps, ns).create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! }] },
    });
    await admin.resource(configmaps, ns).delete('owner');
    await until('the dependent collected', async () => admin.resource(configmaps, ns).get('dependent').then(() => false, (err) => isNotFound(err)), 30_000);
  });
});

describe('kube-controller-manager without --use-service-account-credentials', () => {
  let cm: ControllerManager;
  beforeAll(async () => {
    cm = await startControllerManager([]);
  });
  afterAll(async () => {
    await cm?.stop();
  });

  it('runs every controller as system:kube-controller-manager, which (as upstream) may watch everything but not make ReplicaSets', async () => {
    const ns = 'own-identity';
    await createNamespace(ns);
    await admin.resource(deployments, ns).create(deployment('web', 1));
    // The deployment controller sees the Deployment (list/watch on everything) but its create is refused;
    // it says so in an event (events it may write).
    const failed = await until('a ReplicaSet create refused', async () =>
      (await admin.resource(events, ns).list()).items.find((e) => e.reason === 'ReplicaSetCreateError' && e.involvedObject.name === 'web'),
    );
    expect(failed.message).toContain('User "system:kube-controller-manager" cannot create resource "replicasets"');
    expect((await admin.resource(replicasets, ns).list()).items).toHaveLength(0);
  });
});
