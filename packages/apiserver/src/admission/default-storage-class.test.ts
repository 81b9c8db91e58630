import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { DefaultStorageClass } from './default-storage-class.js';
import { StorageObjectInUseProtection } from './storage-object-in-use-protection.js';
import { attrs } from './testing.js';

const sc = (name: string, created: string, isDefault: boolean): KubeObject =>
  ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
    provisioner: 'x.io/p',
  }) as KubeObject;
const pvc = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', annotations }, spec: { accessModes: ['ReadWriteOnce'], ...spec } }) as KubeObject;
const classOf = (o: KubeObject | null) => (o as unknown as PersistentVolumeClaim).spec?.storageClassName;

describe('DefaultStorageClass admission', () => {
  const classes = [sc('old', '2024-01-01T00:00:00Z', true), sc('new', '2024-02-01T00:00:00Z', true), sc('other', '2024-03-01T00:00:00Z', false)];
  const plugin = new DefaultStorageClass(async () => classes);

  it('gives a claim without a class the newest default class', async () => {
    const a = attrs('persistentvolumeclaims', 'CREATE', pvc());
    await plugin.admit(a);
    expect(classOf(a.object)).toBe('new');
  });

  it('leaves explicit classes, "" and the beta annotation alone, and updates', async () => {
    for (const [obj, want] of [
      [pvc({ storageClassName: 'other' }), 'other'],
      [pvc({ storageClassName: '' }), ''],
      [pvc({}, { 'volume.beta.kubernetes.io/storage-class': 'x' }), undefined],
    ] as const) {
      const a = attrs('persistentvolumeclaims', 'CREATE', obj);
      await plugin.admit(a);
      expect(classOf(a.object)).toBe(want);
    }
    const u = attrs('persistentvolumeclaims', 'UPDATE', pvc(), { oldObject: pvc() });
    await plugin.admit(u);
    expect(classOf(u.object)).toBeUndefined();
  });

  it('does nothing without a default class', async () => {
    const a = attrs('persistentvolumeclaims', 'CREATE', pvc());
    await new DefaultStorageClass(async () => [sc('other', '2024-03-01T00:00:00Z', false)]).admit(a);
    expect(classOf(a.object)).toBeUndefined();
  });
});

describe('StorageObjectInUseProtection admission', () => {
  it('adds the protection finalizers to new claims and volumes', async () => {
    const c = attrs('persistentvolumeclaims', 'CREATE', pvc());
    await new StorageObjectInUseProtection().admit(c);
    expect(c.object!.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const v = attrs('persistentvolumes', 'CREATE', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv', finalizers: ['x'] } } as KubeObject);
    await new StorageObjectInUseProtection().admit(v);
    expect(v.object!.metadata.finalizers).toEqual(['x', 'kubernetes.io/pv-protection']);
  });
});
