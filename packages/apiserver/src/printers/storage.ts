// Printers for PersistentVolumes, PersistentVolumeClaims and StorageClasses (upstream's
// printPersistentVolume, printPersistentVolumeClaim and printStorageClass).
import { BETA_STORAGE_CLASS_ANNOTATION, Quantity, type KubeObject } from '@kubelab/api';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { isDefaultClass } from '../admission/default-storage-class.js';
import type { TablePrinter } from './types.js';
import { translateTimestampSince } from './duration.js';
import { ageColumn, col, nameColumn, wide } from './format.js';


function age(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata.creationTimestamp, now);
}

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, comma-separated. */
export function accessModesString(modes: string[] | undefined): string {
  const m = modes ?? [];
  const out: string[] = [];
  if (m.includes('ReadWriteOnce')) out.push('RWO');
  if (m.includes('ReadOnlyMany')) out.push('ROX');
  if (m.includes('ReadWriteMany')) out.push('RWX');
  if (m.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** A quantity's canonical string; a missing one prints as Go's zero Quantity, "0". */
function quantity(v: string | number | undefined): string {
  if (v === undefined) return '0';
  try {
    return Quantity.parse(v).toString();
  } catch {
    return String(v);
  }
}

function className(obj: KubeObject, specClass: string | undefined): string {
  return obj.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? specClass ?? '';
}

export const persistentVolumePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity."),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageColumn(),
    wide('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
  ],
  row(obj, now) {
    const pv = obj as PersistentVolume;
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    return [
      obj.metadata.name ?? '',
      quantity(spec.capacity?.storage),
      accessModesString(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      className(obj, spec.storageClassName),
      spec.volumeAttributesClassName || '<unset>',
      pv.status?.reason ?? '',
      age(obj, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

export const persistentVolumeClaimPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    wide('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.'),
  ],
  row(obj, now) {
    const pvc = obj as PersistentVolumeClaim;
    const spec = pvc.spec ?? {};
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    const bound = !!spec.volumeName;
    return [
      obj.metadata.name ?? '',
      phase,
      spec.volumeName ?? '',
      bound ? quantity(pvc.status?.capacity?.storage) : '',
      bound ? accessModesString(pvc.status?.accessModes) : '',
      className(obj, spec.storageClassName),
      spec.volumeAttributesClassName || '<unset>',
      age(obj, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

export const storageClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageColumn(),
  ],
  row(obj, now) {
    const sc = obj as StorageClass;
    return [
      isDefaultClass(obj) ? `${obj.metadata.name ?? ''} (default)` : (obj.metadata.name ?? ''),
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(obj, now),
    ];
  },
};
