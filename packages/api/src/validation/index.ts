// Entry points the apiserver calls: validate an object on create, on update, and on a status update,
// dispatching on apiVersion and kind. Unknown kinds get metadata validation only. Validators return
// FieldError[] (empty = valid) and never throw.
import type { KubeObject } from '../types.js';
import { fieldErrors, type FieldError } from '../field-error.js';
import { findKind } from '../resources.js';
import { validateObjectMeta, validateObjectMetaUpdate, validatePathSegmentName } from './meta.js';
import { validatePod, validatePodStatusUpdate, validatePodUpdate } from './pod.js';
import * as core from './core.js';
import * as apps from './apps.js';
import * as batch from './batch.js';
import * as rbac from './rbac.js';
import * as misc from './misc.js';
import * as policy from './policy.js';
import * as pv from './persistent-volume.js';
import * as storage from './storage.js';
import * as autoscaling from './autoscaling.js';
import { horizontalPodAutoscalerV2FromV1 } from '../defaults/autoscaling.js';
import * as networking from './networking.js';

export * from './names.js';
export {
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateAnnotations,
  validateFinalizers,
  validateOwnerReferences,
  nameIsDNSSubdomain,
  nameIsDNSLabel,
  nameIsDNS1035Label,
  validatePathSegmentName,
  TOTAL_ANNOTATION_SIZE_LIMIT,
  type NameValidator,
  type ObjectMetaOptions,
} from './meta.js';
export { validatePodSpec, validatePodTemplateSpec, validateResourceRequirements, validateTolerations, POD_UPDATE_FORBIDDEN } from './pod.js';
export { selectorMatches } from './util.js';
export { checkCronSchedule } from './cron.js';
export { validatePersistentVolumeClaimSpec } from './persistent-volume.js';

// biome-ignore lint/suspicious/noExplicitAny: validators read decoded objects of every kind, field by field.
type Obj = any;

interface KindValidators {
  create: (o: Obj) => FieldError[];
  update: (o: Obj, old: Obj) => FieldError[];
  /** Status-subresource checks beyond metadata; the status strategy keeps the old spec. */
  status?: (o: Obj, old: Obj) => FieldError[];
}

const withMeta =
  (statusFn: (o: Obj) => FieldError[]) =>
  (o: Obj, old: Obj): FieldError[] => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...statusFn(o)];

const TABLE: Record<string, KindValidators> = {
  'v1/Pod': { create: validatePod, update: validatePodUpdate, status: validatePodStatusUpdate },
  'v1/Service': { create: core.validateService, update: core.validateServiceUpdate, status: core.validateServiceStatusUpdate },
  'v1/Endpoints': { create: core.validateEndpoints, update: (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...core.validateEndpoints(o).filter(notMeta)] },
  'v1/Namespace': { create: core.validateNamespace, update: core.validateNamespaceUpdate, status: core.validateNamespaceStatusUpdate },
  'v1/Node': { create: core.validateNode, update: core.validateNodeUpdate, status: core.validateNodeUpdate },
  'v1/ConfigMap': { create: core.validateConfigMap, update: core.validateConfigMapUpdate },
  'v1/Secret': { create: core.validateSecret, update: core.validateSecretUpdate },
  'v1/ServiceAccount': { create: core.validateServiceAccount, update: (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...core.validateServiceAccount(o).filter(notMeta)] },
  'v1/Event': { create: core.validateCoreEvent, update: core.validateCoreEventUpdate },
  'v1/ReplicationController': {
    create: core.validateReplicationController,
    update: core.validateReplicationControllerUpdate,
    status: withMeta((o) => core.validateReplicaCounts(o.status)),
  },
  'v1/LimitRange': { create: core.validateLimitRange, update: (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...core.validateLimitRange(o).filter(notMeta)] },
  'v1/ResourceQuota': { create: core.validateResourceQuota, update: core.validateResourceQuotaUpdate, status: core.validateResourceQuotaStatusUpdate },
  'v1/Binding': { create: core.validateBinding, update: (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...core.validateBinding(o).filter(notMeta)] },
  'apps/v1/Deployment': { create: apps.validateDeployment, update: apps.validateDeploymentUpdate, status: withMeta(apps.validateDeploymentStatus) },
  'apps/v1/ReplicaSet': { create: apps.validateReplicaSet, update: apps.validateReplicaSetUpdate, status: withMeta(apps.validateReplicaSetStatus) },
  'apps/v1/DaemonSet': { create: apps.validateDaemonSet, update: apps.validateDaemonSetUpdate, status: withMeta(apps.validateDaemonSetStatus) },
  'apps/v1/StatefulSet': { create: apps.validateStatefulSet, update: apps.validateStatefulSetUpdate, status: withMeta(apps.validateStatefulSetStatus) },
  'apps/v1/ControllerRevision': { create: apps.validateControllerRevision, update: apps.validateControllerRevisionUpdate },
  'batch/v1/Job': { create: batch.validateJob, update: batch.validateJobUpdate, status: withMeta(batch.validateJobStatus) },
  'batch/v1/CronJob': { create: batch.validateCronJob, update: batch.validateCronJobUpdate },
  'rbac.authorization.k8s.io/v1/Role': { create: rbac.validateRole, update: rbac.validateRoleUpdate },
  'rbac.authorization.k8s.io/v1/ClusterRole': { create: rbac.validateClusterRole, update: rbac.validateClusterRoleUpdate },
  'rbac.authorization.k8s.io/v1/RoleBinding': { create: rbac.validateRoleBinding, update: rbac.validateRoleBindingUpdate },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { create: rbac.validateClusterRoleBinding, update: rbac.validateClusterRoleBindingUpdate },
  'v1/PersistentVolume': { create: pv.validatePersistentVolume, update: pv.validatePersistentVolumeUpdate, status: pv.validatePersistentVolumeStatusUpdate },
  'v1/PersistentVolumeClaim': { create: pv.validatePersistentVolumeClaim, update: pv.validatePersistentVolumeClaimUpdate, status: pv.validatePersistentVolumeClaimStatusUpdate },
  'storage.k8s.io/v1/StorageClass': { create: storage.validateStorageClass, update: storage.validateStorageClassUpdate },
  // Upstream does not care what certificate requests are called (the kubelet's names are base64url digests); only
  // what cannot be a path segment is refused.
  'certificates.k8s.io/v1/CertificateSigningRequest': {
    create: (o) => validateObjectMeta(o.metadata, { namespaced: false, nameValidator: validatePathSegmentName }),
    update: (o, old) => validateObjectMetaUpdate(o.metadata, old.metadata),
  },
  'coordination.k8s.io/v1/Lease': { create: misc.validateLease, update: misc.validateLeaseUpdate },
  'discovery.k8s.io/v1/EndpointSlice': { create: misc.validateEndpointSlice, update: misc.validateEndpointSliceUpdate },
  'events.k8s.io/v1/Event': { create: misc.validateEventsV1Event, update: misc.validateEventsV1EventUpdate },
  'policy/v1/PodDisruptionBudget': {
    create: policy.validatePodDisruptionBudget,
    update: policy.validatePodDisruptionBudgetUpdate,
    status: withMeta(policy.validatePodDisruptionBudgetStatus),
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    create: autoscaling.validateHorizontalPodAutoscaler,
    update: autoscaling.validateHorizontalPodAutoscalerUpdate,
    status: withMeta(autoscaling.validateHorizontalPodAutoscalerStatus),
  },
  // autoscaling/v1 is a view of the stored v2 object: validated in its v2 form, as upstream validates the internal one.
  'autoscaling/v1/HorizontalPodAutoscaler': {
    create: (o) => autoscaling.validateHorizontalPodAutoscaler(horizontalPodAutoscalerV2FromV1(o)),
    update: (o, old) => autoscaling.validateHorizontalPodAutoscalerUpdate(horizontalPodAutoscalerV2FromV1(o), horizontalPodAutoscalerV2FromV1(old)),
    status: withMeta((o) => autoscaling.validateHorizontalPodAutoscalerStatus(horizontalPodAutoscalerV2FromV1(o))),
  },
  'networking.k8s.io/v1/Ingress': { create: networking.validateIngress, update: networking.validateIngressUpdate, status: networking.validateIngressStatusUpdate },
  'networking.k8s.io/v1/IngressClass': { create: networking.validateIngressClass, update: networking.validateIngressClassUpdate },
};

function notMeta(e: FieldError): boolean {
  return !e.field.startsWith('metadata');
}

function lookup(obj: KubeObject): KindValidators | undefined {
  return TABLE[`${obj.apiVersion ?? ''}/${obj.kind ?? ''}`];
}

/** Unknown kinds: metadata only, scoped as the resource table says (namespaced when unknown there too). */
function namespacedOf(obj: KubeObject): boolean {
  return findKind(obj.apiVersion ?? '', obj.kind ?? '')?.namespaced ?? true;
}

function guard(fn: () => FieldError[]): FieldError[] {
  try {
    return fn();
  } catch (e) {
    return [fieldErrors.internal('', e instanceof Error ? e.message : String(e))];
  }
}

/** Validation on create. */
export function validateObject(obj: KubeObject): FieldError[] {
  return guard(() => {
    const v = lookup(obj);
    if (v) return v.create(obj);
    return validateObjectMeta(obj.metadata, { namespaced: namespacedOf(obj) });
  });
}

/** Validation on update (the main resource): the new object's rules plus upstream's update rules. */
export function validateObjectUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return guard(() => {
    const v = lookup(obj);
    if (v) return v.update(obj, old);
    return validateObjectMetaUpdate(obj.metadata, old.metadata);
  });
}

/** Validation on an update through the `status` subresource: metadata rules plus status sanity checks. */
export function validateStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return guard(() => {
    const v = lookup(obj);
    if (v?.status) return v.status(obj, old);
    return validateObjectMetaUpdate(obj.metadata, old.metadata);
  });
}
