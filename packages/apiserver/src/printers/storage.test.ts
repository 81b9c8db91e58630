import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { printerFor } from './index.js';

const now = new Date('2024-06-01T12:00:00Z');
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: '2024-05-29T12:00:00Z', ...extra });

describe('storage printers', () => {
  it('kubectl get pv: upstream columns, claim as namespace/name', () => {
    const p = printerFor('', 'persistentvolumes');
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']);
    const pv = {
      kind: 'PersistentVolume',
      metadata: meta('pvc-1'),
      spec: { capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'standard', volumeMode: 'Filesystem' },
      status: { phase: 'Bound' },
    } as unknown as KubeObject;
    expect(p.row(pv, now)).toEqual(['pvc-1', '1Gi', 'RWO,RWX', 'Delete', 'Bound', 'default/data', 'standard', '<unset>', '', '3d', 'Filesystem']);
  });

  it('kubectl get pvc: capacity and access modes only once bound', () => {
    const p = printerFor('', 'persistentvolumeclaims');
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode']);
    const pending = { kind: 'PersistentVolumeClaim', metadata: meta('data'), spec: { storageClassName: 'standard', resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } } as unknown as KubeObject;
    expect(p.row(pending, now).slice(0, 7)).toEqual(['data', 'Pending', '', '', '', 'standard', '<unset>']);
    const bound = { ...pending, spec: { ...(pending.spec as object), volumeName: 'pvc-1' }, status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } } as KubeObject;
    expect(p.row(bound, now).slice(0, 7)).toEqual(['data', 'Bound', 'pvc-1', '1Gi', 'RWO', 'standard', '<unset>']);
    expect(p.row({ ...bound, metadata: meta('data', { deletionTimestamp: '2024-06-01T11:00:00Z' }) } as KubeObject, now)[1]).toBe('Terminating');
  });

  it('kubectl get sc: "(default)" after the default class', () => {
    const p = printerFor('storage.k8s.io', 'storageclasses');
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
    const sc = {
      kind: 'StorageClass',
      metadata: meta('standard', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
      provisioner: 'kubelab.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    } as unknown as KubeObject;
    expect(p.row(sc, now)).toEqual(['standard (default)', 'kubelab.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '3d']);
    expect(p.row({ ...sc, metadata: meta('slow') } as KubeObject, now)[0]).toBe('slow');
  });
});
