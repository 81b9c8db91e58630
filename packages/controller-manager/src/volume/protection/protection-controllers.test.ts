import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { seededInformer } from '../../testing.js';
import { PVCProtectionController, PVProtectionController } from './protection-controllers.js';

const deleting = { deletionTimestamp: '2025-01-01T00:00:00Z' };
const claim = (name: string): PersistentVolumeClaim => ({ metadata: { name, namespace: 'default', finalizers: ['kubernetes.io/pvc-protection', 'other'], ...deleting } });
const pod = (name: string, claimName: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName: 'n1', containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName } }] },
  status: { phase: 'Running' },
  ...extra,
});

describe('PVCProtectionController', () => {
  it('keeps the finalizer while a scheduled, running pod uses the claim; removes it once none does', async () => {
    const updated: PersistentVolumeClaim[] = [];
    const pods = seededInformer([pod('web', 'data') as KubeObject, pod('done', 'old', { status: { phase: 'Succeeded' } }) as KubeObject]);
    const ctrl = new PVCProtectionController({
      claimInformer: seededInformer([claim('data') as KubeObject, claim('old') as KubeObject]),
      podInformer: pods,
      listPods: async () => pods.lister.list('default') as unknown as Pod[],
      updateClaim: async (c) => updated.push(c),
    });
    await ctrl.sync('default/data');
    expect(updated).toEqual([]);
    await ctrl.sync('default/old');
    expect(updated.map((c) => [c.metadata!.name, c.metadata!.finalizers])).toEqual([['old', ['other']]]);
    pods.store.delete(pods.lister.get('default', 'web')!);
    await ctrl.sync('default/data');
    expect(updated.map((c) => c.metadata!.name)).toEqual(['old', 'data']);
  });
});

describe('PVProtectionController', () => {
  it('removes the finalizer of a volume being deleted once it is not Bound', async () => {
    const updated: PersistentVolume[] = [];
    const pv = (phase: string): PersistentVolume => ({ metadata: { name: 'pv1', finalizers: ['kubernetes.io/pv-protection'], ...deleting }, status: { phase } });
    const volumes = seededInformer([pv('Bound') as KubeObject]);
    const ctrl = new PVProtectionController({ volumeInformer: volumes, updateVolume: async (v) => updated.push(v) });
    await ctrl.sync('pv1');
    expect(updated).toEqual([]);
    volumes.store.update(pv('Released') as KubeObject);
    await ctrl.sync('pv1');
    expect(updated[0]!.metadata!.finalizers).toEqual([]);
  });
});
