// Defaulting for core/v1 objects, following upstream pkg/apis/core/v1/defaults.go (SetDefaults_*) and
// the recursion its generated zz_generated.defaults.go performs (including the declarative `+default`
// markers of k8s.io/api/core/v1). Every function mutates its argument and is idempotent.
//
// Upstream's split: Pod-only defaults (requests from limits, enableServiceLinks, host-network ports)
// apply to Pods, never to pod templates; everything under a PodSpec applies to both.
import type {
  Container,
  EndpointPort,
  Endpoints,
  EphemeralContainer,
  HTTPGetAction,
  LimitRange,
  LimitRangeItem,
  Lifecycle,
  Namespace,
  Node,
  ObjectFieldSelector,
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PersistentVolumeClaimStatus,
  PersistentVolumeStatus,
  Pod,
  PodSpec,
  PodTemplate,
  Probe,
  ReplicationController,
  Secret,
  Service,
  Volume,
} from 'kubernetes-types/core/v1';
import { convertPodSpecServiceAccount } from './conversion.js';
import { defaultImagePullPolicy } from './image.js';
import { hasOwn, setOwn } from '../own.js';

/** File mode 0644, the default of secret, configMap, downwardAPI and projected volumes. */
export const DEFAULT_VOLUME_FILE_MODE = 0o644; // 420
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const TERMINATION_MESSAGE_PATH_DEFAULT = '/dev/termination-log';
/** sessionAffinityConfig.clientIP.timeoutSeconds when sessionAffinity is ClientIP (3 hours). */
export const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800;
/** Label every namespace carries with its own name. */
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

// ---------------------------------------------------------------------------------------------
// Pods and pod templates

/** Defaults of a Pod object: Pod-only defaults, then everything {@link podTemplateDefaults} does. */
export function defaultPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    defaultRequestsFromLimits(c);
  }
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort) p.hostPort = p.containerPort;
      }
    }
  }
  podTemplateDefaults(spec);
}

/** Requests default to limits, key by key, when a container states limits only (Pods only). */
function defaultRequestsFromLimits(c: Container): void {
  const limits = c.resources?.limits;
  if (!limits) return;
  const requests = { ...(c.resources!.requests ?? {}) };
  let added = false;
  for (const [name, q] of Object.entries(limits)) {
    if (!hasOwn(requests, name)) {
      setOwn(requests, name, q);
      added = true;
    }
  }
  if (added) c.resources!.requests = requests;
}

/**
 * Defaults everything under a PodSpec, as upstream applies them to a Pod's spec and to the pod
 * template of every workload (ReplicationController, PodTemplate, ReplicaSet, Deployment, DaemonSet,
 * StatefulSet, Job, CronJob): SetDefaults_PodSpec plus volumes and (init/ephemeral) containers.
 * Also mirrors the deprecated serviceAccount field as upstream's conversion does.
 */
export function podTemplateDefaults(spec: PodSpec): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  spec.schedulerName ||= DEFAULT_SCHEDULER_NAME;
  convertPodSpecServiceAccount(spec);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
}

/** SetDefaults_Container plus the nested defaults of ports, env, probes and lifecycle handlers. */
export function defaultContainer(c: Container | EphemeralContainer): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultImagePullPolicy(c.image);
  c.terminationMessagePath ||= TERMINATION_MESSAGE_PATH_DEFAULT;
  c.terminationMessagePolicy ||= 'File';
  for (const p of c.ports ?? []) p.protocol ||= 'TCP';
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) defaultObjectFieldSelector(e.valueFrom.fieldRef);
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (probe) defaultProbe(probe);
  }
  if (c.lifecycle) defaultLifecycle(c.lifecycle);
}

export function defaultProbe(p: Probe): void {
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  if (p.httpGet) defaultHTTPGetAction(p.httpGet);
  if (p.grpc) p.grpc.service ??= '';
}

function defaultLifecycle(l: Lifecycle): void {
  if (l.postStart?.httpGet) defaultHTTPGetAction(l.postStart.httpGet);
  if (l.preStop?.httpGet) defaultHTTPGetAction(l.preStop.httpGet);
}

export function defaultHTTPGetAction(a: HTTPGetAction): void {
  a.path ||= '/';
  a.scheme ||= 'HTTP';
}

export function defaultObjectFieldSelector(s: ObjectFieldSelector): void {
  s.apiVersion ||= 'v1';
}

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: Volume): void {
  const hasSource = Object.entries(v).some(([k, val]) => k !== 'name' && val !== undefined && val !== null);
  if (!hasSource) v.emptyDir = {};
  if (v.hostPath) v.hostPath.type ??= '';
  if (v.secret) v.secret.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
  if (v.configMap) v.configMap.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
    for (const item of v.downwardAPI.items ?? []) {
      if (item.fieldRef) defaultObjectFieldSelector(item.fieldRef);
    }
  }
  if (v.projected) {
    v.projected.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
    for (const src of v.projected.sources ?? []) {
      for (const item of src.downwardAPI?.items ?? []) {
        if (item.fieldRef) defaultObjectFieldSelector(item.fieldRef);
      }
      if (src.serviceAccountToken) src.serviceAccountToken.expirationSeconds ??= 3600;
    }
  }
  if (v.iscsi) v.iscsi.iscsiInterface ||= 'default';
  if (v.rbd) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (v.azureDisk) {
    v.azureDisk.cachingMode ??= 'ReadWrite';
    v.azureDisk.fsType ??= 'ext4';
    v.azureDisk.readOnly ??= false;
    v.azureDisk.kind ??= 'Shared';
  }
  if (v.scaleIO) {
    v.scaleIO.storageMode ||= 'ThinProvisioned';
    v.scaleIO.fsType ||= 'xfs';
  }
  const claimSpec = v.ephemeral?.volumeClaimTemplate?.spec;
  if (claimSpec) defaultPersistentVolumeClaimSpec(claimSpec);
}

export function defaultPodTemplate(pt: PodTemplate): void {
  if (pt.template) podTemplateDefaults((pt.template.spec ??= { containers: [] }));
}

// ---------------------------------------------------------------------------------------------
// Workloads in core/v1

/**
 * ReplicationController: selector and object labels come from the template's labels when empty;
 * replicas 1.
 */
export function defaultReplicationController(rc: ReplicationController): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!rc.metadata?.labels || Object.keys(rc.metadata.labels).length === 0) {
      rc.metadata = { ...rc.metadata, labels: { ...labels } };
    }
  }
  spec.replicas ??= 1;
  if (spec.template) podTemplateDefaults((spec.template.spec ??= { containers: [] }));
}

// ---------------------------------------------------------------------------------------------
// Services and endpoints

/** True for services reachable from outside the cluster (upstream service.ExternallyAccessible). */
function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/**
 * SetDefaults_Service. ClusterIP(s), ipFamilies, ipFamilyPolicy, nodePorts and healthCheckNodePort
 * are not defaults: upstream's Service registry allocates and sets them.
 */
export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS } };
  }
  spec.type ||= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') {
      p.targetPort = p.port;
    }
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer') {
    spec.allocateLoadBalancerNodePorts ??= true;
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      if (ing.ip && ing.ipMode == null) ing.ipMode = 'VIP';
    }
  }
}

export function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) {
    for (const p of ss.ports ?? ([] as EndpointPort[])) p.protocol ||= 'TCP';
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster-scoped and configuration objects

/**
 * Namespace: the kubernetes.io/metadata.name label always mirrors the name; status.phase Active.
 * spec.finalizers ["kubernetes"] is not a default: the namespace registry adds it on create.
 */
export function defaultNamespace(ns: Namespace): void {
  const name = ns.metadata?.name;
  if (name) {
    ns.metadata!.labels = { ...(ns.metadata!.labels ?? {}), [LABEL_METADATA_NAME]: name };
  }
  const status = (ns.status ??= {});
  status.phase ||= 'Active';
}

/** Node: status.allocatable defaults to status.capacity. */
export function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

export function defaultSecret(secret: Secret): void {
  secret.type ||= 'Opaque';
}

/** LimitRangeItem of type Container: default <- max, defaultRequest <- default, then <- min. */
export function defaultLimitRangeItem(item: LimitRangeItem): void {
  if (item.type !== 'Container') return;
  const def = { ...(item.default ?? {}) };
  const defReq = { ...(item.defaultRequest ?? {}) };
  for (const [k, q] of Object.entries(item.max ?? {})) if (!hasOwn(def, k)) setOwn(def, k, q);
  for (const [k, q] of Object.entries(def)) if (!hasOwn(defReq, k)) setOwn(defReq, k, q);
  for (const [k, q] of Object.entries(item.min ?? {})) if (!hasOwn(defReq, k)) setOwn(defReq, k, q);
  // Empty maps are omitted when upstream serialises, so only set non-empty ones.
  if (Object.keys(def).length > 0) item.default = def;
  if (Object.keys(defReq).length > 0) item.defaultRequest = defReq;
}

export function defaultLimitRange(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) defaultLimitRangeItem(item);
}

// ---------------------------------------------------------------------------------------------
// Storage

export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  spec.volumeMode ??= 'Filesystem';
}

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  // kubernetes-types marks status read-only; the defaulter owns this object.
  const m = pvc as { status?: PersistentVolumeClaimStatus };
  (m.status ??= {}).phase ||= 'Pending';
  defaultPersistentVolumeClaimSpec((pvc.spec ??= {}));
}

export function defaultPersistentVolume(pv: PersistentVolume): void {
  const m = pv as { status?: PersistentVolumeStatus };
  (m.status ??= {}).phase ||= 'Pending';
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ||= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  if (spec.hostPath) spec.hostPath.type ??= '';
  if (spec.iscsi) spec.iscsi.iscsiInterface ||= 'default';
  if (spec.rbd) {
    spec.rbd.pool ||= 'rbd';
    spec.rbd.user ||= 'admin';
    spec.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (spec.azureDisk) {
    spec.azureDisk.cachingMode ??= 'ReadWrite';
    spec.azureDisk.fsType ??= 'ext4';
    spec.azureDisk.readOnly ??= false;
    spec.azureDisk.kind ??= 'Shared';
  }
  if (spec.scaleIO) {
    spec.scaleIO.storageMode ||= 'ThinProvisioned';
    spec.scaleIO.fsType ||= 'xfs';
  }
}
