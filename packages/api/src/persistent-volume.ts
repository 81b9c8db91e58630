// PersistentVolume helpers the binder, the scheduler's VolumeBinding plugin and the kubelet share
// (upstream's pkg/volume/util, component-helpers/storage/volume and pkg/apis/core/v1/helper): the
// binding annotations, classes, a volume's node affinity, and FindMatchingVolume.
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { selectorFromLabelSelector } from './labels.js';
import { Quantity } from './quantity.js';
import { nodeSelectorMatches, type NodeFields } from './scheduling.js';

/** On a claim: the binder finished binding it (value "yes"). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a claim or volume: the binder (not a user) set volumeName / claimRef. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a dynamically provisioned volume: its provisioner. */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** On a claim: the provisioner expected to provision it. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a claim of a WaitForFirstConsumer class: the node the scheduler chose for its first pod. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** Finalizers of StorageObjectInUseProtection: a claim a pod uses, or a bound volume, is not removed. */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName. */
export function persistentVolumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? pv.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName. */
export function persistentVolumeClaimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? pvc.spec?.storageClassName ?? '';
}

/** The volume's claimRef names this claim (and its uid, when the claimRef has one). */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** CheckNodeAffinity: a volume without node affinity fits every node. */
export function volumeNodeAffinityMatches(pv: PersistentVolume, node: NodeFields): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  return !required || nodeSelectorMatches(required, node);
}

/** Every access mode the claim asks for is one the volume offers. */
export function volumeHasAccessModes(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const offered = pv.spec?.accessModes ?? [];
  return (pvc.spec?.accessModes ?? []).every((m) => offered.includes(m));
}

function storageOf(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  try {
    return Quantity.parse(v);
  } catch {
    return undefined;
  }
}

/**
 * Upstream's FindMatchingVolume: a volume pre-bound to the claim wins (if it fits the node); otherwise
 * the smallest Available, unclaimed volume of the claim's class with the access modes, volume mode,
 * labels (claim selector), node affinity (when a node is given) and at least the requested storage.
 * With delayBinding and no node (the binder for a WaitForFirstConsumer class), only pre-bound volumes match.
 */
export function findMatchingVolume(
  pvc: PersistentVolumeClaim,
  volumes: PersistentVolume[],
  node: NodeFields | undefined,
  delayBinding: boolean,
  excluded: ReadonlySet<string> = new Set(),
): PersistentVolume | undefined {
  const requested = storageOf(pvc.spec?.resources?.requests?.storage);
  const selector = pvc.spec?.selector ? selectorFromLabelSelector(pvc.spec.selector) : undefined;
  const cls = persistentVolumeClaimClass(pvc);
  const claimMode = pvc.spec?.volumeMode ?? 'Filesystem';
  let best: PersistentVolume | undefined;
  let bestQty: Quantity | undefined;
  for (const pv of volumes) {
    if (excluded.has(pv.metadata?.name ?? '')) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== claimMode) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const affinityOK = !node || volumeNodeAffinityMatches(pv, node);
    if (isVolumeBoundToClaim(pv, pvc)) return affinityOK ? pv : undefined;
    if (!node && delayBinding) continue;
    if (pv.status?.phase !== 'Available' || pv.spec?.claimRef) continue;
    if (selector && !selector.matches(pv.metadata?.labels ?? {})) continue;
    if (persistentVolumeClass(pv) !== cls) continue;
    if (!affinityOK || !volumeHasAccessModes(pv, pvc)) continue;
    const qty = storageOf(pv.spec?.capacity?.storage);
    if (!qty || (requested && qty.cmp(requested) < 0)) continue;
    if (!bestQty || bestQty.cmp(qty) > 0) {
      best = pv;
      bestQty = qty;
    }
  }
  return best;
}
