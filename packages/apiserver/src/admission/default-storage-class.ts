// DefaultStorageClass: a PersistentVolumeClaim created without a class (no spec.storageClassName, not
// even "", and no beta storage-class annotation) gets the cluster's default StorageClass, the one
// annotated storageclass.kubernetes.io/is-default-class=true (the newest when several are).
import { BETA_STORAGE_CLASS_ANNOTATION, type KubeObject } from '@kubelab/api';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { isCore } from './util.js';

export const IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

export function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[IS_DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_IS_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** Upstream's GetDefaultClass: of the default-annotated classes, the newest, then the first by name. */
export function defaultClass(classes: KubeObject[]): KubeObject | undefined {
  const ts = (o: KubeObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
  const name = (o: KubeObject) => o.metadata.name ?? '';
  return classes.filter(isDefaultClass).sort((a, b) => ts(b) - ts(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))[0];
}

export class DefaultStorageClass implements AdmissionPlugin {
  readonly name = 'DefaultStorageClass';

  /** listStorageClasses: every StorageClass (from the watch cache). */
  constructor(private readonly listStorageClasses: () => Promise<KubeObject[]>) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !isCore(a, 'persistentvolumeclaims') || !a.object) return;
    const pvc = a.object as unknown as PersistentVolumeClaim;
    if (pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return;
    if (pvc.spec?.storageClassName !== undefined && pvc.spec.storageClassName !== null) return;
    const def = defaultClass(await this.listStorageClasses());
    if (!def) return;
    (pvc.spec ??= {}).storageClassName = def.metadata.name;
  }
}
