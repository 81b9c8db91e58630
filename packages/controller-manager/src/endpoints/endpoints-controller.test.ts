import { describe, expect, it } from 'vitest';
import { notFound, type KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import { seededInformer } from '../testing.js';
import { EndpointsController } from './endpoints-controller.js';
import { findPort, LAST_CHANGE_TRIGGER_TIME_ANNOTATION } from './endpoints-util.js';

const T0 = '2025-01-01T00:00:00Z';

function newService(name: string, spec: Partial<Service['spec']> = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `svc-${name}`, creationTimestamp: T0, labels },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  };
}

interface PodOptions {
  ready?: boolean;
  node?: string;
  port?: number;
  deleting?: boolean;
  phase?: string;
  hostname?: string;
  subdomain?: string;
  readySince?: string;
}

function newPod(name: string, ip: string | undefined, opts: PodOptions = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, resourceVersion: '1', creationTimestamp: T0, deletionTimestamp: opts.deleting ? T0 : undefined },
    spec: {
      nodeName: opts.node ?? 'node-1',
      hostname: opts.hostname,
      subdomain: opts.subdomain,
      containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: opts.port ?? 8080, protocol: 'TCP' }] }],
    },
    status: {
      phase: (opts.phase ?? 'Running') as 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: opts.readySince ?? T0 }],
    },
  };
}

function setup(services: Service[], pods: Pod[], endpoints: Endpoints[] = []) {
  const serviceInformer = seededInformer(services as KubeObject[]);
  const podInformer = seededInformer(pods as KubeObject[]);
  const endpointsInformer = seededInformer(endpoints as KubeObject[]);
  const writes: Array<{ op: string; ep?: Endpoints; name?: string }> = [];
  const ctrl = new EndpointsController({
    serviceInformer,
    podInformer,
    endpointsInformer,
    recorder: new FakeRecorder(),
    clock: new FakeClock(),
    client: {
      create: async (_ns, ep) => writes.push({ op: 'create', ep }),
      update: async (ep) => writes.push({ op: 'update', ep }),
      delete: async (_ns, name) => {
        writes.push({ op: 'delete', name });
        throw notFound({ group: '', resource: 'endpoints' }, name);
      },
    },
  });
  return { ctrl, writes, podInformer, endpointsInformer };
}

describe('EndpointsController.sync', () => {
  it('lists ready pods in addresses and unready ones in notReadyAddresses, resolving named ports per pod', async () => {
    const pods = [
      newPod('b', '10.0.0.2', { port: 9090, node: 'node-2' }),
      newPod('a', '10.0.0.1'),
      newPod('c', '10.0.0.3', { ready: false, readySince: '2025-01-01T00:05:00Z' }),
      newPod('no-ip', undefined),
      newPod('done', '10.0.0.9', { phase: 'Succeeded' }),
      newPod('going', '10.0.0.8', { deleting: true }),
    ];
    const { ctrl, writes } = setup([newService('web', {}, { tier: 'front' })], pods);
    await ctrl.sync('default/web');
    expect(writes).toHaveLength(1);
    const ep = writes[0]!.ep!;
    expect(writes[0]!.op).toBe('create');
    expect(ep.metadata!.labels).toEqual({ tier: 'front' });
    expect(ep.metadata!.annotations![LAST_CHANGE_TRIGGER_TIME_ANNOTATION]).toBe(T0);
    expect(ep.subsets).toEqual([
      {
        addresses: [{ ip: '10.0.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '10.0.0.3', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.2', nodeName: 'node-2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
      },
    ]);
  });

  it('writes nothing when the Endpoints object is already right, and updates when readiness changes', async () => {
    const svc = newService('web');
    const { ctrl, writes, podInformer, endpointsInformer } = setup([svc], [newPod('a', '10.0.0.1')]);
    await ctrl.sync('default/web');
    const created = { ...writes[0]!.ep!, metadata: { ...writes[0]!.ep!.metadata, resourceVersion: '5' } };
    endpointsInformer.store.add(created as KubeObject);
    await ctrl.sync('default/web');
    expect(writes).toHaveLength(1);

    podInformer.store.add(newPod('a', '10.0.0.1', { ready: false, readySince: '2025-01-01T00:10:00Z' }) as KubeObject);
    await ctrl.sync('default/web');
    expect(writes).toHaveLength(2);
    expect(writes[1]!.op).toBe('update');
    expect(writes[1]!.ep!.subsets![0]!.addresses).toBeUndefined();
    expect(writes[1]!.ep!.subsets![0]!.notReadyAddresses![0]!.ip).toBe('10.0.0.1');
    expect(writes[1]!.ep!.metadata!.annotations![LAST_CHANGE_TRIGGER_TIME_ANNOTATION]).toBe('2025-01-01T00:10:00Z');
  });

  it('publishNotReadyAddresses puts unready and terminating pods in addresses', async () => {
    const { ctrl, writes } = setup([newService('web', { publishNotReadyAddresses: true })], [newPod('a', '10.0.0.1', { ready: false }), newPod('b', '10.0.0.2', { deleting: true })]);
    await ctrl.sync('default/web');
    expect(writes[0]!.ep!.subsets![0]!.addresses!.map((a) => a.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(writes[0]!.ep!.subsets![0]!.notReadyAddresses).toBeUndefined();
  });

  it('headless services without ports get portless addresses with hostnames for their subdomain, and the headless label', async () => {
    const svc = newService('db', { clusterIP: 'None', ports: [] });
    const pods = [newPod('db-0', '10.0.0.5', { hostname: 'db-0', subdomain: 'db' }), newPod('x', '10.0.0.6', { hostname: 'x', subdomain: 'other' })];
    const { ctrl, writes } = setup([svc], pods);
    await ctrl.sync('default/db');
    const ep = writes[0]!.ep!;
    expect(ep.metadata!.labels).toEqual({ 'service.kubernetes.io/headless': '' });
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets![0]!.ports).toBeUndefined();
    expect(ep.subsets![0]!.addresses!.map((a) => [a.ip, a.hostname])).toEqual([
      ['10.0.0.5', 'db-0'],
      ['10.0.0.6', undefined],
    ]);
  });

  it('leaves selectorless services and default/kubernetes alone, and deletes the Endpoints of a deleted service', async () => {
    const { ctrl, writes } = setup([newService('manual', { selector: undefined }), { ...newService('kubernetes'), spec: { ...newService('kubernetes').spec } }], [newPod('a', '10.0.0.1')]);
    await ctrl.sync('default/manual');
    await ctrl.sync('default/kubernetes');
    expect(writes).toEqual([]);
    await ctrl.sync('default/gone');
    expect(writes).toEqual([{ op: 'delete', name: 'gone' }]);
  });

  it('findPort resolves names by protocol and passes numbers through', () => {
    const pod = newPod('a', '10.0.0.1', { port: 7000 });
    expect(findPort(pod, { port: 80, targetPort: 'http', protocol: 'TCP' })).toBe(7000);
    expect(findPort(pod, { port: 80, targetPort: 'http', protocol: 'UDP' })).toBeUndefined();
    expect(findPort(pod, { port: 80, targetPort: 'nope' })).toBeUndefined();
    expect(findPort(pod, { port: 80, targetPort: 81 })).toBe(81);
    expect(findPort(pod, { port: 80 })).toBe(80);
  });
});
