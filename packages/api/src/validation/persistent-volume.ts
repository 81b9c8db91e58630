// core/v1 PersistentVolume and PersistentVolumeClaim validation, as upstream's pkg/apis/core/validation
// (ValidatePersistentVolume*, ValidatePersistentVolumeClaim*), reduced to what users hit: access modes,
// capacity and requests, reclaim policy, volume mode, one volume source, local volumes' node affinity,
// and the update rules (a PV's source is fixed; a claim's spec is fixed except a bound claim's storage
// request, which may only grow, and the volumeName the binder sets).
import type { NodeSelector, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec } from 'kubernetes-types/core/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { Quantity } from '../quantity.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName } from './names.js';
import { asMap, deepEqual, immutable, msgsToInvalid, validateLabelSelector, validateResourceQuantityValue } from './util.js';

type Errs = FieldError[];

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;
export const PV_RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'] as const;
export const VOLUME_MODES = ['Block', 'Filesystem'] as const;
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const PV_PHASES = ['Available', 'Bound', 'Failed', 'Pending', 'Released'];
const PVC_PHASES = ['Bound', 'Lost', 'Pending'];

/** The fields of PersistentVolumeSource (exactly one must be set). */
const PV_SOURCES = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc', 'flocker',
  'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'local',
  'storageos', 'csi',
] as const;

const present = (spec: object): string[] =>
  PV_SOURCES.filter((s) => (spec as Record<string, unknown>)[s] !== undefined && (spec as Record<string, unknown>)[s] !== null);

function validateAccessModes(modes: string[] | undefined, path: string, required: string): Errs {
  if (!modes?.length) return [fieldErrors.required(path, required)];
  const errs: Errs = [];
  for (const m of modes) if (!(ACCESS_MODES as readonly string[]).includes(m)) errs.push(fieldErrors.notSupported(path, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(fieldErrors.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateStorageClassName(name: string | undefined, path: string): Errs {
  return name ? msgsToInvalid(nameIsDNSSubdomain(name, false), path, name) : [];
}

function validateVolumeMode(mode: string | undefined, path: string): Errs {
  return mode !== undefined && !(VOLUME_MODES as readonly string[]).includes(mode) ? [fieldErrors.notSupported(path, mode, VOLUME_MODES)] : [];
}

function validateNodeSelector(sel: NodeSelector | undefined, path: string): Errs {
  const terms = sel?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [fieldErrors.required(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  const errs: Errs = [];
  terms.forEach((t, i) => {
    (t.matchExpressions ?? []).forEach((req, j) => {
      const p = `${path}.nodeSelectorTerms[${i}].matchExpressions[${j}]`;
      errs.push(...msgsToInvalid(isQualifiedName(req.key ?? ''), `${p}.key`, req.key ?? ''));
      const n = req.values?.length ?? 0;
      if ((req.operator === 'In' || req.operator === 'NotIn') && n === 0) errs.push(fieldErrors.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
      else if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && n > 0) errs.push(fieldErrors.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
      else if (!['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'].includes(req.operator)) {
        errs.push(fieldErrors.notSupported(`${p}.operator`, req.operator, ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn']));
      }
    });
  });
  return errs;
}

/** Upstream's ValidatePersistentVolumeSpec (the parts for the volume types people create by hand). */
export function validatePersistentVolumeSpec(pv: PersistentVolume): Errs {
  const spec = pv.spec ?? {};
  const errs: Errs = [...validateAccessModes(spec.accessModes, 'spec.accessModes', 'must specify at least 1 access mode')];
  const capacity = spec.capacity ?? {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(fieldErrors.required('spec.capacity', ''));
  else if (!keys.includes('storage') || keys.length > 1) errs.push(fieldErrors.notSupported('spec.capacity', capacity, ['storage']));
  for (const k of keys) errs.push(...validateResourceQuantityValue(k, capacity[k], `spec.capacity[${k}]`).errs);
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !(PV_RECLAIM_POLICIES as readonly string[]).includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.persistentVolumeReclaimPolicy', policy, PV_RECLAIM_POLICIES));
  }
  errs.push(...validateStorageClassName(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  if (spec.nodeAffinity) {
    if (!spec.nodeAffinity.required) errs.push(fieldErrors.required('spec.nodeAffinity.required', 'must specify required node constraints'));
    else errs.push(...validateNodeSelector(spec.nodeAffinity.required, 'spec.nodeAffinity.required'));
  }
  const sources = present(spec);
  if (sources.length === 0) errs.push(fieldErrors.required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(fieldErrors.forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath) {
    const hp = spec.hostPath;
    if (!hp.path) errs.push(fieldErrors.required('spec.hostPath.path', ''));
    if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type)) errs.push(fieldErrors.notSupported('spec.hostPath.type', hp.type, HOST_PATH_TYPES.slice(1)));
    if (policy === 'Recycle' && hp.path && /^\/+$/.test(hp.path)) errs.push(fieldErrors.forbidden('spec.persistentVolumeReclaimPolicy', 'may not be \'recycle\' for a hostPath mount of \'/\''));
  }
  if (spec.local) {
    const path = spec.local.path;
    if (!path) errs.push(fieldErrors.required('spec.local.path', ''));
    else if (!path.startsWith('/')) errs.push(fieldErrors.invalid('spec.local.path', path, 'must be an absolute path'));
    else if (path.split('/').includes('..')) errs.push(fieldErrors.invalid('spec.local.path', path, "must not contain '..'"));
    if (!spec.nodeAffinity) errs.push(fieldErrors.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (spec.nfs) {
    if (!spec.nfs.server) errs.push(fieldErrors.required('spec.nfs.server', ''));
    if (!spec.nfs.path) errs.push(fieldErrors.required('spec.nfs.path', ''));
    else if (!spec.nfs.path.startsWith('/')) errs.push(fieldErrors.invalid('spec.nfs.path', spec.nfs.path, 'must be an absolute path'));
  }
  if (spec.csi) {
    if (!spec.csi.driver) errs.push(fieldErrors.required('spec.csi.driver', ''));
    if (!spec.csi.volumeHandle) errs.push(fieldErrors.required('spec.csi.volumeHandle', ''));
  }
  if (spec.claimRef && !spec.claimRef.name) errs.push(fieldErrors.required('spec.claimRef.name', ''));
  return errs;
}

export function validatePersistentVolume(pv: PersistentVolume): Errs {
  return [...validateObjectMeta(pv.metadata, { namespaced: false, nameValidator: nameIsDNSSubdomain }), ...validatePersistentVolumeSpec(pv)];
}

/** The volume source and volumeMode are fixed; node affinity may only be added. */
export function validatePersistentVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): Errs {
  const errs: Errs = [...validateObjectMetaUpdate(pv.metadata, old.metadata), ...validatePersistentVolumeSpec(pv)];
  const source = (s: PersistentVolume['spec']) => Object.fromEntries(present(s ?? {}).map((k) => [k, (s as Record<string, unknown>)[k]]));
  if (!deepEqual(source(pv.spec), source(old.spec))) errs.push(fieldErrors.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  errs.push(...immutable(pv.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
  if (old.spec?.nodeAffinity) errs.push(...immutable(pv.spec?.nodeAffinity, old.spec.nodeAffinity, 'nodeAffinity'));
  return errs;
}

export function validatePersistentVolumeStatusUpdate(pv: PersistentVolume, old: PersistentVolume): Errs {
  const errs: Errs = validateObjectMetaUpdate(pv.metadata, old.metadata);
  const phase = pv.status?.phase;
  if (phase && !PV_PHASES.includes(phase)) errs.push(fieldErrors.notSupported('status.phase', phase, PV_PHASES));
  return errs;
}

/** Upstream's ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec | undefined, path = 'spec'): Errs {
  const s = spec ?? {};
  const errs: Errs = [...validateAccessModes(s.accessModes, `${path}.accessModes`, 'at least 1 access mode is required')];
  if (s.selector) errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const requests = asMap(s.resources?.requests);
  if (requests.storage === undefined) errs.push(fieldErrors.required(`${path}.resources[storage]`, ''));
  for (const [k, v] of Object.entries(requests)) {
    const p = `${path}.resources.requests[${k}]`;
    const { q, errs: qErrs } = validateResourceQuantityValue(k, v, p);
    errs.push(...qErrs);
    if (k === 'storage' && q && qErrs.length === 0 && q.sign() <= 0) errs.push(fieldErrors.invalid(`${path}.resources[storage]`, q.toString(), 'must be greater than zero'));
  }
  errs.push(...validateStorageClassName(s.storageClassName, `${path}.storageClassName`));
  errs.push(...validateVolumeMode(s.volumeMode, `${path}.volumeMode`));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): Errs {
  return [...validateObjectMeta(pvc.metadata, { namespaced: true, nameValidator: nameIsDNSSubdomain }), ...validatePersistentVolumeClaimSpec(pvc.spec)];
}

export const PVC_SPEC_IMMUTABLE = 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

/**
 * A claim's spec is fixed, except: volumeName may be set once (the binder does), and a bound claim's
 * resources.requests may change, its storage request only upwards.
 */
export function validatePersistentVolumeClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): Errs {
  const errs: Errs = [...validateObjectMetaUpdate(pvc.metadata, old.metadata), ...validatePersistentVolumeClaimSpec(pvc.spec)];
  const next = structuredClone(pvc.spec ?? {});
  const prev = structuredClone(old.spec ?? {});
  if (!prev.volumeName) prev.volumeName = next.volumeName;
  if (old.status?.phase === 'Bound') {
    const was = prev.resources?.requests?.storage;
    const now = next.resources?.requests?.storage;
    if (was !== undefined && now !== undefined) {
      try {
        if (Quantity.parse(now).cmp(Quantity.parse(was)) < 0) errs.push(fieldErrors.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
      } catch {
        // A bad quantity was reported by the spec validation.
      }
    }
    prev.resources = { ...(prev.resources ?? {}), requests: next.resources?.requests };
    if (prev.resources.requests === undefined) delete prev.resources.requests;
    prev.volumeAttributesClassName = next.volumeAttributesClassName;
  }
  if (!deepEqual(stripEmpty(next), stripEmpty(prev))) errs.push(fieldErrors.forbidden('spec', PVC_SPEC_IMMUTABLE));
  return errs;
}

function stripEmpty(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? {}));
}

export function validatePersistentVolumeClaimStatusUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): Errs {
  const errs: Errs = validateObjectMetaUpdate(pvc.metadata, old.metadata);
  const phase = pvc.status?.phase;
  if (phase && !PVC_PHASES.includes(phase)) errs.push(fieldErrors.notSupported('status.phase', phase, PVC_PHASES));
  for (const [k, v] of Object.entries(pvc.status?.capacity ?? {})) errs.push(...validateResourceQuantityValue(k, v, `status.capacity[${k}]`).errs);
  return errs;
}
