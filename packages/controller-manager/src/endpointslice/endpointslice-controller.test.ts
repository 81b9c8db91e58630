import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { seededInformer } from '../testing.js';
import { EndpointSliceController, StaleInformerCacheError } from './endpointslice-controller.js';

const T0 = '2025-01-01T00:00:00Z';

function newService(spec: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', creationTimestamp: T0, labels: { tier: 'front' } },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  };
}

function newPod(i: number, opts: { ready?: boolean; deleting?: boolean; node?: string; port?: number } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web' }, creationTimestamp: T0, deletionTimestamp: opts.deleting ? T0 : undefined },
    spec: { nodeName: opts.node ?? 'node-1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
    status: { phase: 'Running', podIP: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: T0 }] },
  };
}

const node = (name: string, zone?: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} } }) as KubeObject;

function setup(pods: Pod[], opts: { svc?: Service; slices?: EndpointSlice[]; nodes?: KubeObject[] } = {}) {
  const sliceInformer = seededInformer((opts.slices ?? []) as unknown as KubeObject[]);
  const created: EndpointSlice[] = [];
  const updated: EndpointSlice[] = [];
  const deleted: string[] = [];
  let seq = 0;
  const ctrl = new EndpointSliceController({
    serviceInformer: seededInformer([(opts.svc ?? newService()) as KubeObject]),
    podInformer: seededInformer(pods as KubeObject[]),
    nodeInformer: seededInformer(opts.nodes ?? [node('node-1', 'zone-a')]),
    endpointSliceInformer: sliceInformer,
    recorder: new FakeRecorder(),
    clock: new FakeClock(),
    client: {
      create: async (_ns, s) => {
        ++seq;
        const out: EndpointSlice = { ...structuredClone(s), metadata: { ...s.metadata, name: `${s.metadata!.generateName}${seq}`, uid: `slice-${seq}`, generation: 1 } };
        created.push(out);
        return out;
      },
      update: async (s) => {
        const out = { ...structuredClone(s), metadata: { ...s.metadata, generation: (s.metadata!.generation ?? 1) + 1 } };
        updated.push(out);
        return out;
      },
      delete: async (_ns, name) => deleted.push(name),
    },
  });
  /** Makes the cache show everything written so far. */
  const observe = () => {
    for (const s of [...created, ...updated]) sliceInformer.store.add(s as unknown as KubeObject);
    for (const n of deleted) sliceInformer.store.deleteKey(`default/${n}`);
  };
  return { ctrl, created, updated, deleted, observe };
}

describe('EndpointSliceController.sync', () => {
  it('creates an IPv4 slice owned by the service with labels, ports and ready/serving/terminating conditions', async () => {
    const { ctrl, created } = setup([newPod(0), newPod(1, { ready: false }), newPod(2, { deleting: true })]);
    await ctrl.sync('default/web');
    expect(created).toHaveLength(1);
    const s = created[0]!;
    expect(s.metadata!.generateName).toBe('web-');
    expect(s.metadata!.labels).toEqual({ tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(s.metadata!.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    expect(s.metadata!.annotations!['endpoints.kubernetes.io/last-change-trigger-time']).toBe(T0);
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(s.endpoints.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ['10.1.0.1', { ready: true, serving: true, terminating: false }],
      ['10.1.0.2', { ready: false, serving: false, terminating: false }],
      ['10.1.0.3', { ready: false, serving: true, terminating: true }],
    ]);
    expect(s.endpoints[0]).toMatchObject({ nodeName: 'node-1', zone: 'zone-a', targetRef: { kind: 'Pod', name: 'p0', uid: 'uid-0' } });
  });

  it('puts at most 100 endpoints in a slice, and separates pods with different resolved ports', async () => {
    const pods = Array.from({ length: 250 }, (_, i) => newPod(i));
    pods.push(newPod(900, { port: 9090 }));
    const { ctrl, created } = setup(pods);
    await ctrl.sync('default/web');
    const sizes = created.map((s) => [s.ports![0]!.port, s.endpoints.length]);
    expect(sizes).toEqual([
      [8080, 100],
      [8080, 100],
      [8080, 50],
      [9090, 1],
    ]);
  });

  it('updates the slice in place when readiness changes, writes nothing when up to date, and refuses to act on a stale cache', async () => {
    const pods = [newPod(0), newPod(1)];
    const first = setup(pods);
    await first.ctrl.sync('default/web');
    // Before the cache shows the created slice, a sync must not create a second one.
    await expect(first.ctrl.sync('default/web')).rejects.toBeInstanceOf(StaleInformerCacheError);
    first.observe();
    await first.ctrl.sync('default/web');
    expect(first.created).toHaveLength(1);
    expect(first.updated).toHaveLength(0);

    const slice = first.created[0]!;
    const second = setup([newPod(0, { ready: false }), newPod(1)], { slices: [slice] });
    await second.ctrl.sync('default/web');
    expect(second.created).toHaveLength(0);
    expect(second.updated).toHaveLength(1);
    expect(second.updated[0]!.metadata!.name).toBe(slice.metadata!.name);
    expect(second.updated[0]!.endpoints.map((e) => e.conditions!.ready)).toEqual([false, true]);
  });

  it('keeps one empty placeholder slice when no pod matches, deleting emptied slices', async () => {
    const { ctrl, created, observe } = setup([]);
    await ctrl.sync('default/web');
    expect(created).toHaveLength(1);
    expect(created[0]!.endpoints).toEqual([]);
    observe();
    await ctrl.sync('default/web');
    expect(created).toHaveLength(1);

    const full = setup([newPod(0)]);
    await full.ctrl.sync('default/web');
    const gone = setup([], { slices: [full.created[0]!] });
    await gone.ctrl.sync('default/web');
    expect(gone.deleted).toEqual([full.created[0]!.metadata!.name]);
    expect(gone.created.map((s) => s.endpoints.length)).toEqual([0]);
  });

  it('skips pods whose node is not in the cache yet and retries the service', async () => {
    const { ctrl, created } = setup([newPod(0), newPod(1, { node: 'node-new' })]);
    await expect(ctrl.sync('default/web')).rejects.toThrow(/skipped 1 pods/);
    expect(created[0]!.endpoints.map((e) => e.targetRef!.name)).toEqual(['p0']);
  });

  it('publishNotReadyAddresses makes every endpoint ready', async () => {
    const { ctrl, created } = setup([newPod(0, { ready: false })], { svc: newService({ publishNotReadyAddresses: true }) });
    await ctrl.sync('default/web');
    expect(created[0]!.endpoints[0]!.conditions).toEqual({ ready: true, serving: false, terminating: false });
  });
});
