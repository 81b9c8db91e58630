import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { fieldErrorString, type FieldError } from '../field-error.js';
import { applyDefaults } from '../defaults/index.js';
import { validateObject, validateObjectUpdate, validateStatusUpdate } from './index.js';

const strs = (errs: FieldError[]) => errs.map(fieldErrorString);

function defaulted(obj: object): KubeObject {
  const o = structuredClone(obj) as KubeObject;
  applyDefaults(o);
  return o;
}

const pv = (spec: Record<string, unknown> = {}) =>
  defaulted({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' }, ...spec } });
const pvc = (spec: Record<string, unknown> = {}) =>
  defaulted({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
const sc = (over: Record<string, unknown> = {}) =>
  defaulted({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'kubelab.io/local-path', ...over });

describe('PersistentVolume', () => {
  it('defaults reclaim policy, volume mode and phase', () => {
    const o = pv() as unknown as { spec: Record<string, unknown>; status: Record<string, unknown> };
    expect(o.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(o.spec.volumeMode).toBe('Filesystem');
    expect(o.status.phase).toBe('Pending');
    expect(strs(validateObject(pv() as KubeObject))).toEqual([]);
  });

  it('refuses what upstream refuses', () => {
    expect(strs(validateObject(pv({ accessModes: [], capacity: {}, hostPath: undefined })))).toEqual([
      'spec.accessModes: Required value: must specify at least 1 access mode',
      'spec.capacity: Required value',
      'spec: Required value: must specify a volume type',
    ]);
    expect(strs(validateObject(pv({ accessModes: ['ReadWriteAll'], persistentVolumeReclaimPolicy: 'Keep', capacity: { storage: '1Gi', cpu: '1' } })))).toEqual([
      'spec.accessModes: Unsupported value: "ReadWriteAll": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.capacity: Unsupported value: {"storage":"1Gi","cpu":"1"}: supported values: "storage"',
      'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
    ]);
    expect(strs(validateObject(pv({ hostPath: undefined, local: { path: '/mnt/disk' } })))).toEqual(['spec.nodeAffinity: Required value: Local volume requires node affinity']);
    expect(strs(validateObject(pv({ nfs: { server: 'x', path: '/e' } })))).toEqual(['spec.nfs: Forbidden: may not specify more than 1 volume type']);
  });

  it('keeps the volume source fixed on update; status phases are upstream\'s', () => {
    const old = { ...pv(), metadata: { name: 'pv1', resourceVersion: '1' } } as KubeObject;
    const next = structuredClone(old) as KubeObject & { spec: Record<string, unknown> };
    next.spec.hostPath = { path: '/other', type: '' };
    expect(strs(validateObjectUpdate(next, old))).toEqual(['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
    const st = structuredClone(old) as KubeObject;
    st.status = { phase: 'Gone' };
    expect(strs(validateStatusUpdate(st, old))).toEqual(['status.phase: Unsupported value: "Gone": supported values: "Available", "Bound", "Failed", "Pending", "Released"']);
  });
});

describe('PersistentVolumeClaim', () => {
  it('needs access modes and a positive storage request', () => {
    expect(strs(validateObject(pvc()))).toEqual([]);
    expect(strs(validateObject(pvc({ accessModes: [], resources: {} })))).toEqual([
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
    expect(strs(validateObject(pvc({ resources: { requests: { storage: '0' } }, storageClassName: 'Bad_Name' })))).toEqual([
      'spec.resources[storage]: Invalid value: "0": must be greater than zero',
      'spec.storageClassName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
    ]);
  });

  it('spec is immutable except volumeName once and a bound claim growing', () => {
    const old = { ...pvc(), metadata: { name: 'c', namespace: 'default', resourceVersion: '1' } } as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
    const bind = structuredClone(old);
    bind.spec.volumeName = 'pv1';
    expect(strs(validateObjectUpdate(bind, old))).toEqual([]);
    const grow = structuredClone(old);
    grow.spec.resources = { requests: { storage: '2Gi' } };
    expect(strs(validateObjectUpdate(grow, old))).toEqual(['spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims']);
    const bound = structuredClone(old);
    bound.status = { phase: 'Bound' };
    bound.spec.volumeName = 'pv1';
    const bigger = structuredClone(bound);
    bigger.spec.resources = { requests: { storage: '2Gi' } };
    expect(strs(validateObjectUpdate(bigger, bound))).toEqual([]);
    const smaller = structuredClone(bound);
    smaller.spec.resources = { requests: { storage: '512Mi' } };
    expect(strs(validateObjectUpdate(smaller, bound))).toEqual(['spec.resources.requests.storage: Forbidden: field can not be less than previous value']);
    const modes = structuredClone(bound);
    modes.spec.accessModes = ['ReadWriteMany'];
    expect(strs(validateObjectUpdate(modes, bound))).toHaveLength(1);
  });
});

describe('StorageClass', () => {
  it('defaults reclaimPolicy Delete and volumeBindingMode Immediate', () => {
    expect(sc()).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    expect(strs(validateObject(sc()))).toEqual([]);
  });

  it('requires a provisioner and upstream\'s enums', () => {
    expect(strs(validateObject(sc({ provisioner: '', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' })))).toEqual([
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
  });

  it('forbids changing provisioner, parameters, reclaimPolicy and binding mode', () => {
    const old = { ...sc(), metadata: { name: 'standard', resourceVersion: '1' } } as KubeObject;
    const next = { ...structuredClone(old), provisioner: 'other.io/x', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' } as KubeObject;
    expect(strs(validateObjectUpdate(next, old))).toEqual([
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
    const labelled = { ...structuredClone(old), metadata: { ...old.metadata, labels: { a: 'b' } } } as KubeObject;
    expect(strs(validateObjectUpdate(labelled, old))).toEqual([]);
  });
});

describe('StatefulSet volumeClaimTemplates', () => {
  it('containers may mount a claim template by name', () => {
    const sts = defaulted({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'www', mountPath: '/d' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    expect(strs(validateObject(sts))).toEqual([]);
    const other = structuredClone(sts) as KubeObject & { spec: { volumeClaimTemplates: { metadata: { name: string } }[] } };
    other.spec.volumeClaimTemplates[0]!.metadata.name = 'other';
    expect(strs(validateObject(other))).toEqual(['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "www"']);
  });
});
