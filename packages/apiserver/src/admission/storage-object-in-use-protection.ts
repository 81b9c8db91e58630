// StorageObjectInUseProtection: every new PersistentVolumeClaim gets the kubernetes.io/pvc-protection finalizer
// and every new PersistentVolume kubernetes.io/pv-protection, so that deleting a claim a pod still uses, or a
// bound volume, waits (Terminating) until the protection controllers see them unused.
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from '@kubelab/api';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { isCore } from './util.js';

export class StorageObjectInUseProtection implements AdmissionPlugin {
  readonly name = 'StorageObjectInUseProtection';

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !a.object) return;
    const finalizer = isCore(a, 'persistentvolumeclaims') ? PVC_PROTECTION_FINALIZER : isCore(a, 'persistentvolumes') ? PV_PROTECTION_FINALIZER : '';
    if (!finalizer) return;
    const meta = a.object.metadata;
    if (!meta.finalizers?.includes(finalizer)) meta.finalizers = [...(meta.finalizers ?? []), finalizer];
  }
}
