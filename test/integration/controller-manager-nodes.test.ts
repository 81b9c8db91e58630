// Endpoints, EndpointSlices, node IPAM, node lifecycle and NoExecute eviction against a real
// apiserver + etcd. No kubelet runs: the test renews node Leases and sets pod status itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { until as pollUntil } from '../fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;
let heartbeat: NodeJS.Timeout | undefined;
/** Nodes whose "kubelet" renews their Lease. */
const alive = new Set<string>();

const R = {
  pods: findResource('', 'v1', 'pods')!,
  nodes: findResource('', 'v1', 'nodes')!,
  services: findResource('', 'v1', 'services')!,
  endpoints: findResource('', 'v1', 'endpoints')!,
  events: findResource('', 'v1', 'events')!,
  slices: findResource('discovery.k8s.io', 'v1', 'endpointslices')!,
  leases: findResource('coordination.k8s.io', 'v1', 'leases')!,
};

const microTime = () => new Date().toISOString().replace('Z', '000Z');
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

async function renewLeases() {
  for (const name of alive) {
    const lc = client.resource(R.leases, 'kube-node-lease');
    const lease = await lc.get(name).catch(() => undefined);
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() };
    if (lease) await lc.update({ ...lease, spec }).catch(() => undefined);
    else await lc.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec } as KubeObject).catch(() => undefined);
  }
}

async function createNode(name: string) {
  const t = now();
  await client.resource(R.nodes).create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t }] },
  } as KubeObject);
  alive.add(name);
  await renewLeases();
}

async function createPod(name: string, node: string, extra: Record<string, unknown> = {}) {
  await client.resource(R.pods, 'default').create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra },
  } as KubeObject);
}

async function setPodStatus(name: string, ip: string, ready: boolean) {
  const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() }] };
  await client.resource(R.pods, 'default').patch(name, { status }, 'merge', { subresource: 'status' });
}

/** Polls with this file's shorter default timeout. */
const until = <T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => pollUntil(what, f, timeoutMs);

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({
    ...defaults(),
    leaderElect: false,
    securePort: 0,
    controllers: ['serviceaccount', 'endpoint', 'endpointslice', 'nodeipam', 'nodelifecycle', 'taint-eviction-controller', 'podgc'],
    allocateNodeCIDRs: true,
    clusterCIDR: '10.244.0.0/16',
    nodeMonitorGracePeriodMs: 3_000,
    nodeMonitorPeriodMs: 500,
  });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
  heartbeat = setInterval(() => void renewLeases(), 700);
  // Pod admission needs the default ServiceAccount.
  await until('default ServiceAccount', () => client.resource(findResource('', 'v1', 'serviceaccounts')!, 'default').get('default'));
});

afterAll(async () => {
  if (heartbeat) clearInterval(heartbeat);
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('kube-controller-manager: endpoints and nodes', () => {
  it('gives every node its own /24 podCIDR from --cluster-cidr', async () => {
    await createNode('node-a');
    await createNode('node-b');
    const cidrs = await until('podCIDRs', async () => {
      const nodes = await Promise.all(['node-a', 'node-b'].map((n) => client.resource(R.nodes).get(n)));
      return nodes.every((n) => n.spec?.podCIDR) && nodes.map((n) => [n.spec.podCIDR, n.spec.podCIDRs]);
    });
    expect(cidrs[0]![0]).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect(cidrs[0]![1]).toEqual([cidrs[0]![0]]);
    expect(cidrs[1]![0]).not.toBe(cidrs[0]![0]);
  });

  it('gives a Service Endpoints and an EndpointSlice that follow pod readiness', async () => {
    await client.resource(R.services, 'default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    } as KubeObject);
    await createPod('web-1', 'node-a');
    await createPod('web-2', 'node-a');
    await setPodStatus('web-1', '10.244.0.11', true);
    await setPodStatus('web-2', '10.244.0.12', false);

    const ep = await until('endpoints', async () => {
      const e = await client.resource(R.endpoints, 'default').get('web');
      return e.subsets?.[0]?.addresses?.length === 1 && e.subsets[0].notReadyAddresses?.length === 1 && e;
    });
    expect(ep.metadata.labels).toEqual({ tier: 'front' });
    expect(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toBeTruthy();
    expect(ep.subsets[0]).toMatchObject({
      addresses: [{ ip: '10.244.0.11', nodeName: 'node-a', targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' } }],
      notReadyAddresses: [{ ip: '10.244.0.12', nodeName: 'node-a', targetRef: { kind: 'Pod', name: 'web-2' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });

    const sliceOf = async () => {
      const list = await client.resource(R.slices, 'default').list({ labelSelector: 'kubernetes.io/service-name=web' });
      return list.items.length === 1 ? (list.items[0] as any) : undefined;
    };
    const slice = await until('slice', async () => {
      const s = await sliceOf();
      return s?.endpoints?.length === 2 && s;
    });
    expect(slice.metadata.name).toMatch(/^web-/);
    expect(slice.metadata.labels).toMatchObject({ 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', tier: 'front' });
    expect(slice.metadata.ownerReferences[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const conds = Object.fromEntries(slice.endpoints.map((e: any) => [e.targetRef.name, e.conditions]));
    expect(conds).toEqual({ 'web-1': { ready: true, serving: true, terminating: false }, 'web-2': { ready: false, serving: false, terminating: false } });

    await setPodStatus('web-2', '10.244.0.12', true);
    await until('both ready in endpoints', async () => {
      const e = await client.resource(R.endpoints, 'default').get('web');
      return e.subsets?.[0]?.addresses?.length === 2 && !e.subsets[0].notReadyAddresses;
    });
    await until('both ready in the slice', async () => (await sliceOf())?.endpoints?.every((e: any) => e.conditions.ready));

    // The kubernetes service stays the apiserver's.
    const kep = await client.resource(R.endpoints, 'default').get('kubernetes');
    expect(kep.subsets[0].ports[0].name).toBe('https');
  });

  it('marks a node whose Lease stops Unknown, taints it, and evicts its pods after their toleration', async () => {
    const tolerations = (seconds?: number) => [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) }];
    await createPod('victim', 'node-b', { tolerations: tolerations(2) });
    await createPod('stayer', 'node-b', { tolerations: tolerations() });
    await setPodStatus('victim', '10.244.1.5', true);
    await setPodStatus('stayer', '10.244.1.6', true);

    alive.delete('node-b');
    const stoppedAt = Date.now();
    const node = await until(
      'node-b Unknown and tainted',
      async () => {
        const n = await client.resource(R.nodes).get('node-b');
        const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
        return ready.status === 'Unknown' && n.spec?.taints?.length === 2 && n;
      },
      15_000,
    );
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2_500);
    expect(node.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(node.spec.taints.map((t: any) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    const taintedAt = Date.parse(node.spec.taints.find((t: any) => t.effect === 'NoExecute').timeAdded);

    // Its pods are marked not ready meanwhile, and drop out of the ready endpoints.
    await until('stayer not ready', async () => {
      const p = await client.resource(R.pods, 'default').get('stayer');
      return p.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'False';
    });

    await until('victim evicted', async () => {
      const p = await client.resource(R.pods, 'default').get('victim').catch(() => undefined);
      return !p || !!p.metadata.deletionTimestamp;
    });
    expect(Date.now() - taintedAt).toBeGreaterThanOrEqual(1_000);
    const events = await client.resource(R.events, 'default').list();
    expect(events.items.some((e: any) => e.involvedObject.name === 'victim' && e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/victim')).toBe(true);
    // Tolerating forever means staying.
    await new Promise((r) => setTimeout(r, 1000));
    const stayer = await client.resource(R.pods, 'default').get('stayer');
    expect(stayer.metadata.deletionTimestamp).toBeUndefined();

    // The lease coming back lifts nothing by itself until the kubelet posts Ready again; then the taints go.
    alive.add('node-b');
    const n = await client.resource(R.nodes).get('node-b');
    const t = now();
    n.status.conditions = n.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'True', reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t } : c));
    await client.resource(R.nodes).updateStatus(n);
    await until('taints removed', async () => !(await client.resource(R.nodes).get('node-b')).spec?.taints?.length);
  });
});
