// Upstream's API defaulting (pkg/apis/*/v1/defaults.go and the generated recursion into nested types),
// applied to stored v1 objects. `applyDefaults` dispatches on apiVersion + kind; kinds without
// defaults are left untouched. What upstream sets in its registries or admission plugins instead
// (ClusterIPs and IP families, namespace finalizers, pod status.phase, generated Job selectors, ...)
// is not done here.
import type { KubeObject } from '../types.js';
import { defaultHorizontalPodAutoscaler, defaultHorizontalPodAutoscalerV2 } from './autoscaling.js';
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from './apps.js';
import { defaultCronJob, defaultJob } from './batch.js';
import { convertNodePodCIDRs, convertPodStatusIPs, convertSecretStringData } from './conversion.js';
import {
  defaultEndpoints,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPod,
  defaultPodTemplate,
  defaultReplicationController,
  defaultSecret,
  defaultService,
} from './core.js';
import { defaultEndpointSlice } from './discovery.js';
import { defaultIngressClass } from './networking.js';
import { defaultRoleBinding } from './rbac.js';
import { defaultStorageClass } from './storage.js';

export * from './apps.js';
export * from './autoscaling.js';
export * from './batch.js';
export * from './conversion.js';
export * from './core.js';
export * from './discovery.js';
export * from './image.js';
export * from './networking.js';
export * from './rbac.js';
export * from './storage.js';

// biome-ignore lint/suspicious/noExplicitAny: a defaulter fills fields of one kind's decoded object.
type Defaulter = (obj: any) => void;

const DEFAULTERS: Record<string, Defaulter> = {
  'v1/Pod': (pod) => {
    defaultPod(pod);
    convertPodStatusIPs(pod);
  },
  'v1/PodTemplate': defaultPodTemplate,
  'v1/ReplicationController': defaultReplicationController,
  'v1/Service': defaultService,
  'v1/Endpoints': defaultEndpoints,
  'v1/Namespace': defaultNamespace,
  'v1/Node': (node) => {
    defaultNode(node);
    convertNodePodCIDRs(node);
  },
  'v1/Secret': (secret) => {
    convertSecretStringData(secret);
    defaultSecret(secret);
  },
  'v1/LimitRange': defaultLimitRange,
  'v1/PersistentVolume': defaultPersistentVolume,
  'v1/PersistentVolumeClaim': defaultPersistentVolumeClaim,
  'apps/v1/Deployment': defaultDeployment,
  'apps/v1/ReplicaSet': defaultReplicaSet,
  'apps/v1/DaemonSet': defaultDaemonSet,
  'apps/v1/StatefulSet': defaultStatefulSet,
  'batch/v1/Job': defaultJob,
  'batch/v1/CronJob': defaultCronJob,
  'rbac.authorization.k8s.io/v1/RoleBinding': defaultRoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': defaultRoleBinding,
  'discovery.k8s.io/v1/EndpointSlice': defaultEndpointSlice,
  'storage.k8s.io/v1/StorageClass': defaultStorageClass,
  'networking.k8s.io/v1/IngressClass': defaultIngressClass,
  'autoscaling/v1/HorizontalPodAutoscaler': defaultHorizontalPodAutoscaler,
  'autoscaling/v2/HorizontalPodAutoscaler': defaultHorizontalPodAutoscalerV2,
};

/** The defaulter for an apiVersion and kind, if upstream defines one. */
export function defaulterFor(apiVersion: string, kind: string): ((obj: KubeObject) => void) | undefined {
  return DEFAULTERS[`${apiVersion}/${kind}`];
}

/**
 * Applies upstream's defaults to `obj` in place. A `<Kind>List` has each item defaulted as `<Kind>`
 * (items may omit apiVersion and kind). Unknown kinds are left untouched.
 */
export function applyDefaults(obj: KubeObject): void {
  const apiVersion = obj.apiVersion ?? '';
  const kind = obj.kind ?? '';
  const direct = defaulterFor(apiVersion, kind);
  if (direct) {
    direct(obj);
    return;
  }
  if (kind.endsWith('List') && Array.isArray(obj.items)) {
    const itemDefaulter = defaulterFor(apiVersion, kind.slice(0, -'List'.length));
    if (itemDefaulter) for (const item of obj.items as KubeObject[]) itemDefaulter(item);
  }
}
