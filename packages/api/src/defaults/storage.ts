// Defaulting for storage.k8s.io/v1 (upstream pkg/apis/storage/v1/defaults.go). PersistentVolume and
// PersistentVolumeClaim defaults are in core.ts, beside the other core/v1 kinds.
import type { StorageClass } from 'kubernetes-types/storage/v1';

/** reclaimPolicy Delete, volumeBindingMode Immediate. */
export function defaultStorageClass(sc: StorageClass): void {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}
