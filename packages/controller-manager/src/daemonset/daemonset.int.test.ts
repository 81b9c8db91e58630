// Issue 13: a node that stops reporting turns Unknown and gets the unreachable NoSchedule and NoExecute
// taints (node lifecycle controller); the DaemonSet controller keeps its pods there, because they
// tolerate those NoExecute taints, while a plain pod is evicted after its tolerationSeconds. A real
// apiserver and etcd; no kubelet or scheduler runs: the node posts its status once, the test binds pods itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { until } from '../../../../test/fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../../../../test/fixtures/apiserver.js';
import { defaults, validate } from '../config.js';
import { createControllerManager, type ControllerManager } from '../controller-manager.js';
import { targetNodeName } from './daemonset-controller.js';

const R = {
  pods: findResource('', 'v1', 'pods')!,
  nodes: findResource('', 'v1', 'nodes')!,
  daemonsets: findResource('apps', 'v1', 'daemonsets')!,
  serviceaccounts: findResource('', 'v1', 'serviceaccounts')!,
};

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;
/** A node that posts Ready once and then never again (no Lease): after the grace period it turns Unknown. */
async function createSilentNode(name: string): Promise<void> {
  const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t };
  await client.resource(R.nodes).create({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [ready] } } as KubeObject);
}

const daemonPods = async () => (await client.resource(R.pods, 'default').list({ labelSelector: 'app=agent' })).items as (Pod & KubeObject)[];

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({
    ...defaults(),
    leaderElect: false,
    securePort: 0,
    controllers: ['serviceaccount', 'daemonset', 'nodelifecycle', 'taint-eviction-controller'],
    nodeMonitorGracePeriodMs: 6_000,
    nodeMonitorPeriodMs: 500,
  });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
  await until('the default ServiceAccount', () => client.resource(R.serviceaccounts, 'default').get('default'));
});

afterAll(async () => {
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('DaemonSet controller with the node lifecycle controller', () => {
  it('keeps daemon pods on a node that becomes unreachable; a pod without the tolerations is evicted', async () => {
    await createSilentNode('node-b');
    await client.resource(R.daemonsets, 'default').create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox' }] } },
      },
    } as KubeObject);
    const pods = await until('a daemon pod for the node', async () => {
      const ps = await daemonPods();
      return ps.length === 1 && ps;
    });
    // The scheduler's part: bind each to the node its affinity names.
    for (const p of pods) {
      const name = p.metadata.name;
      await client.request({
        method: 'POST',
        path: `/api/v1/namespaces/default/pods/${name}/binding`,
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: targetNodeName(p) } },
      });
    }
    const onB = pods.find((p) => targetNodeName(p) === 'node-b')!;
    // A plain pod on node-b that tolerates unreachable for 1 s only: the control that eviction happens.
    await client.resource(R.pods, 'default').create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain' },
      spec: {
        nodeName: 'node-b',
        terminationGracePeriodSeconds: 0,
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }],
        containers: [{ name: 'c', image: 'busybox' }],
      },
    } as KubeObject);

    // The node's status is never posted again: it turns Unknown and gets the unreachable taints.
    await until('node-b tainted unreachable', async () => {
      const n = await client.resource(R.nodes).get('node-b');
      return n.spec?.taints?.some((t: { key: string; effect: string }) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
    });
    await until('the plain pod evicted', async () => !(await client.resource(R.pods, 'default').get('plain').catch(() => undefined)), 20_000);
    const ds = await until('the DaemonSet status to count node-b misscheduled', async () => {
      const d = await client.resource(R.daemonsets, 'default').get('agent');
      return d.status?.numberMisscheduled === 1 && d;
    });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 1 });
    const after = await daemonPods();
    expect(after.map((p) => p.metadata.uid).sort()).toEqual(pods.map((p) => p.metadata.uid).sort());
    expect(after.find((p) => p.metadata.uid === onB.metadata.uid)!.metadata.deletionTimestamp).toBeUndefined();
  });
});
