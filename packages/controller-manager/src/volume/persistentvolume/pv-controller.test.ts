import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeRecorder } from '@kubelab/client';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { seededInformer } from '../../testing.js';
import { LocalPathProvisioner, type LocalPathClient } from './local-path.js';
import { PersistentVolumeController, type VolumeClient } from './pv-controller.js';

const k = (o: object) => o as KubeObject;

function pv(name: string, storage: string, extra: Partial<PersistentVolume['spec']> = {}, phase = 'Available'): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, resourceVersion: '1', labels: { disk: name } },
    spec: { capacity: { storage }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/data/${name}` }, volumeMode: 'Filesystem', ...extra },
    status: { phase },
  };
}

function pvc(name: string, storage: string, extra: Partial<PersistentVolumeClaim['spec']> = {}, annotations?: Record<string, string>): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1', annotations },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, volumeMode: 'Filesystem', storageClassName: '', ...extra },
    status: { phase: 'Pending' },
  };
}

const sc = (name: string, mode: string, reclaimPolicy = 'Delete'): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  provisioner: 'kubelab.io/local-path',
  reclaimPolicy,
  volumeBindingMode: mode,
});

function setup(objs: { volumes?: PersistentVolume[]; claims?: PersistentVolumeClaim[]; classes?: StorageClass[] }) {
  const volumeInformer = seededInformer((objs.volumes ?? []).map(k));
  const claimInformer = seededInformer((objs.claims ?? []).map(k));
  const classInformer = seededInformer((objs.classes ?? []).map(k));
  const deleted: string[] = [];
  let rv = 10;
  const store = <T extends { metadata?: { resourceVersion?: string } }>(inf: typeof volumeInformer, o: T): T => {
    const c = structuredClone(o);
    c.metadata!.resourceVersion = String(++rv);
    if (inf.lister.get((c as KubeObject).metadata.namespace ?? '', (c as KubeObject).metadata.name ?? '')) inf.store.update(k(c));
    else inf.store.add(k(c));
    return c;
  };
  const client: VolumeClient = {
    createVolume: async (v) => store(volumeInformer, v),
    updateVolume: async (v) => store(volumeInformer, v),
    updateVolumeStatus: async (v) => store(volumeInformer, v),
    deleteVolume: async (name) => {
      deleted.push(name);
      const v = volumeInformer.lister.get('', name);
      if (v) volumeInformer.store.delete(v);
    },
    updateClaim: async (c) => store(claimInformer, c),
    updateClaimStatus: async (c) => store(claimInformer, c),
    getClaim: async (ns, name) => claimInformer.lister.get(ns, name) as PersistentVolumeClaim | undefined,
  };
  const pods: Pod[] = [];
  const lp: LocalPathClient = {
    getNode: async (name) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } }),
    createPod: async (_ns, p) => {
      pods.push(p);
      return p;
    },
    getPod: async (_ns, name) => {
      const p = pods.find((x) => x.metadata!.name === name);
      return p && { ...p, status: { phase: 'Succeeded' } };
    },
    deletePod: async () => {},
  };
  const recorder = new FakeRecorder();
  const ctrl = new PersistentVolumeController({ volumeInformer, claimInformer, classInformer, client, plugins: [new LocalPathProvisioner(lp, { pollMs: 1 })], recorder });
  const claim = (name: string) => claimInformer.lister.get('default', name) as PersistentVolumeClaim;
  const volume = (name: string) => volumeInformer.lister.get('', name) as PersistentVolume | undefined;
  return { ctrl, client, claim, volume, recorder, deleted, pods, claimInformer };
}

describe('PersistentVolumeController', () => {
  it('binds a claim to the smallest matching volume, both ways', async () => {
    const s = setup({ volumes: [pv('big', '10Gi'), pv('small', '2Gi'), pv('tiny', '512Mi'), pv('rwx', '2Gi', { accessModes: ['ReadWriteMany'] })], claims: [pvc('data', '1Gi')] });
    await s.ctrl.syncClaimKey('default/data');
    const c = s.claim('data');
    expect(c.spec!.volumeName).toBe('small');
    expect(c.metadata!.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(c.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    const v = s.volume('small')!;
    expect(v.spec!.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'uid-data' });
    expect(v.metadata!.annotations).toEqual({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(v.status!.phase).toBe('Bound');
  });

  it('honours the claim selector and class; without a match the claim stays Pending', async () => {
    const s = setup({ volumes: [pv('a', '1Gi'), pv('b', '1Gi', { storageClassName: 'fast' })], claims: [pvc('sel', '1Gi', { selector: { matchLabels: { disk: 'b' } } }), pvc('fast', '1Gi', { storageClassName: 'fast' })] });
    await s.ctrl.syncClaimKey('default/sel');
    expect(s.claim('sel').spec!.volumeName).toBeUndefined();
    expect(s.recorder.events).toEqual(['Normal FailedBinding no persistent volumes available for this claim and no storage class is set']);
    await s.ctrl.syncClaimKey('default/fast');
    expect(s.claim('fast').spec!.volumeName).toBe('b');
  });

  it('releases a volume whose claim is gone: Retain keeps it', async () => {
    const s = setup({ volumes: [pv('v', '1Gi')], claims: [pvc('data', '1Gi')] });
    await s.ctrl.syncClaimKey('default/data');
    s.claimInformer.store.delete(k(s.claim('data')));
    await s.ctrl.syncVolumeKey('v');
    expect(s.volume('v')!.status!.phase).toBe('Released');
    expect(s.deleted).toEqual([]);
  });

  it('marks a bound claim Lost when its volume is deleted', async () => {
    const s = setup({ volumes: [pv('v', '1Gi')], claims: [pvc('data', '1Gi')] });
    await s.ctrl.syncClaimKey('default/data');
    await s.client.deleteVolume('v');
    await s.ctrl.syncClaimKey('default/data');
    expect(s.claim('data').status!.phase).toBe('Lost');
    expect(s.recorder.events).toContain('Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!');
  });

  it('WaitForFirstConsumer: waits for selected-node, then provisions a local-path volume on that node', async () => {
    const s = setup({ classes: [sc('standard', 'WaitForFirstConsumer')], claims: [pvc('data', '1Gi', { storageClassName: 'standard' })] });
    await s.ctrl.syncClaimKey('default/data');
    expect(s.recorder.events).toEqual(['Normal WaitForFirstConsumer waiting for first consumer to be created before binding']);
    expect(s.volume('pvc-uid-data')).toBeUndefined();

    const c = s.claim('data');
    s.claimInformer.store.update(k({ ...c, metadata: { ...c.metadata, annotations: { 'volume.kubernetes.io/selected-node': 'node-2' } } }));
    await s.ctrl.syncClaimKey('default/data');
    const v = s.volume('pvc-uid-data')!;
    expect(v.metadata!.annotations).toMatchObject({ 'pv.kubernetes.io/provisioned-by': 'kubelab.io/local-path', 'pv.kubernetes.io/bound-by-controller': 'yes', 'kubelab.io/local-path-node': 'node-2' });
    expect(v.spec).toMatchObject({
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'standard',
      hostPath: { path: '/var/lib/kubelab/local-path/pvc-uid-data', type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] }] } },
      claimRef: { name: 'data', namespace: 'default', uid: 'uid-data' },
    });
    expect(s.claim('data').metadata!.annotations!['volume.kubernetes.io/storage-provisioner']).toBe('kubelab.io/local-path');
    expect(s.recorder.events).toContain('Normal ProvisioningSucceeded Successfully provisioned volume pvc-uid-data using kubelab.io/local-path');

    // The next pass binds the pre-bound volume.
    await s.ctrl.syncClaimKey('default/data');
    expect(s.claim('data')).toMatchObject({ spec: { volumeName: 'pvc-uid-data' }, status: { phase: 'Bound', capacity: { storage: '1Gi' } } });

    // Claim deleted: Delete policy removes the directory with a helper pod on the node, then the volume.
    s.claimInformer.store.delete(k(s.claim('data')));
    await s.ctrl.syncVolumeKey('pvc-uid-data');
    expect(s.pods).toHaveLength(1);
    expect(s.pods[0]!.spec).toMatchObject({ nodeName: 'node-2', containers: [{ command: ['rm', '-rf', '/volumes/pvc-uid-data'] }], volumes: [{ hostPath: { path: '/var/lib/kubelab/local-path' } }] });
    expect(s.deleted).toEqual(['pvc-uid-data']);
  });
});
