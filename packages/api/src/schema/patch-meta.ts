// Patch and list metadata of the served types: which lists merge by which key under strategic merge
// patch (patchStrategy/patchMergeKey struct tags upstream) and how server-side apply treats lists and
// maps (+listType, +listMapKey, +mapType, +structType markers). Looked up field by field in the
// release-1.32 types.go of each group. hack/gen-schema.ts merges this table into
// generated/definitions.json as the x-kubernetes-* extensions upstream's OpenAPI carries.

export interface PatchMeta {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: readonly string[];
  mapType?: 'atomic' | 'granular';
}

/** A list merged by `key` under SMP, a map-list keyed by `keys` (default: the merge key) under SSA. */
function mergeBy(key: string, keys: readonly string[] = [key], strategy = 'merge'): PatchMeta {
  return { patchStrategy: strategy, patchMergeKey: key, listType: 'map', listMapKeys: keys };
}
/** A list replaced as a whole. */
const atomic: PatchMeta = { listType: 'atomic' };
/** A list of scalars, a set under SSA. */
const set: PatchMeta = { listType: 'set' };
/** A map replaced as a whole. */
const atomicMap: PatchMeta = { mapType: 'atomic' };
/** A list map keyed by `keys` under SSA, replaced under SMP. */
function listMap(...keys: string[]): PatchMeta {
  return { listType: 'map', listMapKeys: keys };
}

const CORE = 'io.k8s.api.core.v1';
const APPS = 'io.k8s.api.apps.v1';
const BATCH = 'io.k8s.api.batch.v1';
const RBAC = 'io.k8s.api.rbac.v1';
const DISCOVERY = 'io.k8s.api.discovery.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const conditionsByType = mergeBy('type');

// Container and EphemeralContainer share their field list upstream (EphemeralContainerCommon).
const containerFields: Record<string, PatchMeta> = {
  args: atomic,
  command: atomic,
  env: mergeBy('name'),
  envFrom: atomic,
  ports: mergeBy('containerPort', ['containerPort', 'protocol']),
  resizePolicy: atomic,
  volumeDevices: mergeBy('devicePath'),
  volumeMounts: mergeBy('mountPath'),
};

/** (definition, field) -> metadata. */
export const PATCH_META: Readonly<Record<string, Readonly<Record<string, PatchMeta>>>> = {
  // meta/v1
  [`${META}.ObjectMeta`]: {
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    managedFields: atomic,
    ownerReferences: mergeBy('uid'),
  },
  [`${META}.LabelSelector`]: { matchExpressions: atomic },
  [`${META}.LabelSelectorRequirement`]: { values: atomic },
  [`${META}.DeleteOptions`]: { dryRun: atomic },
  [`${META}.StatusDetails`]: { causes: atomic },

  // core/v1: pods
  [`${CORE}.PodSpec`]: {
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    imagePullSecrets: mergeBy('name'),
    initContainers: mergeBy('name'),
    nodeSelector: atomicMap,
    readinessGates: atomic,
    resourceClaims: mergeBy('name', ['name'], 'merge,retainKeys'),
    schedulingGates: mergeBy('name'),
    tolerations: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    volumes: mergeBy('name', ['name'], 'merge,retainKeys'),
  },
  [`${CORE}.Container`]: containerFields,
  [`${CORE}.EphemeralContainer`]: containerFields,
  [`${CORE}.PodStatus`]: {
    conditions: conditionsByType,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: atomic,
    podIPs: mergeBy('ip'),
    resourceClaimStatuses: mergeBy('name', ['name'], 'merge,retainKeys'),
  },
  [`${CORE}.ContainerStatus`]: {
    allocatedResourcesStatus: mergeBy('name'),
    volumeMounts: mergeBy('mountPath'),
  },
  [`${CORE}.ResourceStatus`]: { resources: listMap('resourceID') },
  [`${CORE}.LinuxContainerUser`]: { supplementalGroups: atomic },
  [`${CORE}.ResourceRequirements`]: { claims: listMap('name') },
  [`${CORE}.PodSecurityContext`]: { supplementalGroups: atomic, sysctls: atomic },
  [`${CORE}.PodDNSConfig`]: { nameservers: atomic, options: atomic, searches: atomic },
  [`${CORE}.HostAlias`]: { hostnames: atomic },
  [`${CORE}.TopologySpreadConstraint`]: { matchLabelKeys: atomic },
  [`${CORE}.Capabilities`]: { add: atomic, drop: atomic },
  [`${CORE}.ExecAction`]: { command: atomic },
  [`${CORE}.HTTPGetAction`]: { httpHeaders: atomic },
  [`${CORE}.NodeAffinity`]: { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}.NodeSelector`]: { nodeSelectorTerms: atomic },
  [`${CORE}.NodeSelectorTerm`]: { matchExpressions: atomic, matchFields: atomic },
  [`${CORE}.NodeSelectorRequirement`]: { values: atomic },
  [`${CORE}.PodAffinity`]: { preferredDuringSchedulingIgnoredDuringExecution: atomic, requiredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}.PodAntiAffinity`]: { preferredDuringSchedulingIgnoredDuringExecution: atomic, requiredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}.PodAffinityTerm`]: { matchLabelKeys: atomic, mismatchLabelKeys: atomic, namespaces: atomic },
  [`${CORE}.TopologySelectorTerm`]: { matchLabelExpressions: atomic },
  [`${CORE}.TopologySelectorLabelRequirement`]: { values: atomic },
  // core/v1: volumes
  [`${CORE}.ConfigMapVolumeSource`]: { items: atomic },
  [`${CORE}.ConfigMapProjection`]: { items: atomic },
  [`${CORE}.SecretVolumeSource`]: { items: atomic },
  [`${CORE}.SecretProjection`]: { items: atomic },
  [`${CORE}.DownwardAPIVolumeSource`]: { items: atomic },
  [`${CORE}.DownwardAPIProjection`]: { items: atomic },
  [`${CORE}.ProjectedVolumeSource`]: { sources: atomic },
  [`${CORE}.CephFSVolumeSource`]: { monitors: atomic },
  [`${CORE}.CephFSPersistentVolumeSource`]: { monitors: atomic },
  [`${CORE}.RBDVolumeSource`]: { monitors: atomic },
  [`${CORE}.RBDPersistentVolumeSource`]: { monitors: atomic },
  [`${CORE}.ISCSIVolumeSource`]: { portals: atomic },
  [`${CORE}.ISCSIPersistentVolumeSource`]: { portals: atomic },
  [`${CORE}.FCVolumeSource`]: { targetWWNs: atomic, wwids: atomic },
  [`${CORE}.PersistentVolumeSpec`]: { accessModes: atomic, mountOptions: atomic },
  [`${CORE}.PersistentVolumeClaimSpec`]: { accessModes: atomic },
  [`${CORE}.PersistentVolumeClaimStatus`]: { accessModes: atomic, allocatedResourceStatuses: { mapType: 'granular' }, conditions: conditionsByType },
  // core/v1: services and endpoints
  [`${CORE}.ServiceSpec`]: {
    clusterIPs: atomic,
    externalIPs: atomic,
    ipFamilies: atomic,
    loadBalancerSourceRanges: atomic,
    ports: mergeBy('port', ['port', 'protocol']),
    selector: atomicMap,
  },
  [`${CORE}.ServiceStatus`]: { conditions: conditionsByType },
  [`${CORE}.LoadBalancerStatus`]: { ingress: atomic },
  [`${CORE}.LoadBalancerIngress`]: { ports: atomic },
  [`${CORE}.Endpoints`]: { subsets: atomic },
  [`${CORE}.EndpointSubset`]: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  // core/v1: the rest
  [`${CORE}.ServiceAccount`]: { imagePullSecrets: atomic, secrets: mergeBy('name') },
  [`${CORE}.NodeSpec`]: { podCIDRs: { patchStrategy: 'merge', listType: 'set' }, taints: atomic },
  [`${CORE}.NodeStatus`]: {
    addresses: mergeBy('type'),
    conditions: conditionsByType,
    images: atomic,
    runtimeHandlers: atomic,
    volumesAttached: atomic,
    volumesInUse: atomic,
  },
  [`${CORE}.ContainerImage`]: { names: atomic },
  [`${CORE}.NamespaceSpec`]: { finalizers: atomic },
  [`${CORE}.NamespaceStatus`]: { conditions: conditionsByType },
  [`${CORE}.ReplicationControllerSpec`]: { selector: atomicMap },
  [`${CORE}.ReplicationControllerStatus`]: { conditions: conditionsByType },
  [`${CORE}.LimitRangeSpec`]: { limits: atomic },
  [`${CORE}.ResourceQuotaSpec`]: { scopes: atomic },
  [`${CORE}.ScopeSelector`]: { matchExpressions: atomic },
  [`${CORE}.ScopedResourceSelectorRequirement`]: { values: atomic },
  [`${CORE}.ComponentStatus`]: { conditions: conditionsByType },

  // apps/v1
  [`${APPS}.DeploymentSpec`]: { strategy: { patchStrategy: 'retainKeys' } },
  [`${APPS}.DeploymentStatus`]: { conditions: conditionsByType },
  [`${APPS}.ReplicaSetStatus`]: { conditions: conditionsByType },
  [`${APPS}.DaemonSetStatus`]: { conditions: conditionsByType },
  [`${APPS}.StatefulSetSpec`]: { volumeClaimTemplates: atomic },
  [`${APPS}.StatefulSetStatus`]: { conditions: conditionsByType },

  // batch/v1
  [`${BATCH}.JobStatus`]: { conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' } },
  [`${BATCH}.UncountedTerminatedPods`]: { failed: set, succeeded: set },
  [`${BATCH}.PodFailurePolicy`]: { rules: atomic },
  [`${BATCH}.PodFailurePolicyRule`]: { onPodConditions: atomic },
  [`${BATCH}.PodFailurePolicyOnExitCodesRequirement`]: { values: set },
  [`${BATCH}.SuccessPolicy`]: { rules: atomic },
  [`${BATCH}.CronJobStatus`]: { active: atomic },

  // rbac.authorization.k8s.io/v1
  [`${RBAC}.PolicyRule`]: { apiGroups: atomic, nonResourceURLs: atomic, resourceNames: atomic, resources: atomic, verbs: atomic },
  [`${RBAC}.Role`]: { rules: atomic },
  [`${RBAC}.ClusterRole`]: { rules: atomic },
  [`${RBAC}.AggregationRule`]: { clusterRoleSelectors: atomic },
  [`${RBAC}.RoleBinding`]: { subjects: atomic },
  [`${RBAC}.ClusterRoleBinding`]: { subjects: atomic },

  // discovery.k8s.io/v1
  [`${DISCOVERY}.EndpointSlice`]: { endpoints: atomic, ports: atomic },
  [`${DISCOVERY}.Endpoint`]: { addresses: set },
  [`${DISCOVERY}.EndpointHints`]: { forZones: atomic },
};

/** Structs upstream marks `+structType=atomic` (x-kubernetes-map-type: atomic on the definition). */
export const ATOMIC_STRUCTS: readonly string[] = [
  `${META}.LabelSelector`,
  `${META}.OwnerReference`,
  `${CORE}.ConfigMapKeySelector`,
  `${CORE}.EndpointAddress`,
  `${CORE}.EndpointPort`,
  `${CORE}.LocalObjectReference`,
  `${CORE}.NodeSelector`,
  `${CORE}.NodeSelectorTerm`,
  `${CORE}.ObjectFieldSelector`,
  `${CORE}.ObjectReference`,
  `${CORE}.ResourceFieldSelector`,
  `${CORE}.ScopeSelector`,
  `${CORE}.SecretKeySelector`,
  `${CORE}.SecretReference`,
  `${CORE}.TopologySelectorTerm`,
  `${CORE}.TypedLocalObjectReference`,
  `${DISCOVERY}.EndpointPort`,
  `${RBAC}.RoleRef`,
  `${RBAC}.Subject`,
  'io.k8s.api.autoscaling.v1.CrossVersionObjectReference',
];
