// The table of every API resource Kubelab serves: one row per resource, as upstream's discovery
// documents describe them. The apiserver registers storage, routes and discovery from it; clients use
// it to build paths.

export interface SubresourceInfo {
  name: string; // 'status', 'scale', 'binding', ...
  /** The kind the subresource reads and writes (Scale for scale; the parent kind for status). */
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface ResourceInfo {
  group: string; // '' for the legacy core group
  version: string;
  kind: string;
  listKind: string;
  /** The plural, lower-case resource name used in paths. */
  resource: string;
  singularName: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  subresources: SubresourceInfo[];
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

function r(
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  extra: { shortNames?: string[]; categories?: string[]; verbs?: string[]; status?: boolean; scale?: boolean; sub?: SubresourceInfo[] } = {},
): ResourceInfo {
  const subresources: SubresourceInfo[] = [];
  if (extra.status) subresources.push({ name: 'status', kind, verbs: STATUS_VERBS });
  if (extra.scale) subresources.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS });
  subresources.push(...(extra.sub ?? []));
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    resource,
    singularName: kind.toLowerCase(),
    namespaced,
    shortNames: extra.shortNames,
    categories: extra.categories,
    verbs: extra.verbs ?? CRUD,
    subresources,
  };
}

const ALL = ['all'];

export const RESOURCES: readonly ResourceInfo[] = [
  // core/v1
  r('', 'v1', 'Binding', 'bindings', true, { verbs: ['create'] }),
  // Deprecated upstream (v1.19+), still served: health of the scheduler, controller-manager and etcd, probed on request.
  r('', 'v1', 'ComponentStatus', 'componentstatuses', false, { shortNames: ['cs'], verbs: ['get', 'list'] }),
  r('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  r('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  r('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  r('', 'v1', 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  r('', 'v1', 'Namespace', 'namespaces', false, {
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    status: true,
    sub: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  }),
  r('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], status: true }),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, { shortNames: ['pvc'], status: true }),
  r('', 'v1', 'PersistentVolume', 'persistentvolumes', false, { shortNames: ['pv'], status: true }),
  r('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'],
    categories: ALL,
    status: true,
    sub: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    ],
  }),
  r('', 'v1', 'PodTemplate', 'podtemplates', true),
  r('', 'v1', 'ReplicationController', 'replicationcontrollers', true, { shortNames: ['rc'], categories: ALL, status: true, scale: true }),
  r('', 'v1', 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], status: true }),
  r('', 'v1', 'Secret', 'secrets', true),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, {
    shortNames: ['sa'],
    sub: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  }),
  r('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ALL, status: true }),
  // apps/v1
  r('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  r('apps', 'v1', 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], categories: ALL, status: true }),
  r('apps', 'v1', 'Deployment', 'deployments', true, { shortNames: ['deploy'], categories: ALL, status: true, scale: true }),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', true, { shortNames: ['rs'], categories: ALL, status: true, scale: true }),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', true, { shortNames: ['sts'], categories: ALL, status: true, scale: true }),
  // autoscaling/v2
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, { shortNames: ['hpa'], categories: ALL, status: true }),
  // autoscaling/v1: served from the stored v2 objects (v2 stays the preferred version: listed first).
  r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, { shortNames: ['hpa'], categories: ALL, status: true }),
  // batch/v1
  r('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], categories: ALL, status: true }),
  r('batch', 'v1', 'Job', 'jobs', true, { categories: ALL, status: true }),
  // rbac.authorization.k8s.io/v1
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  // coordination.k8s.io/v1
  r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  // discovery.k8s.io/v1
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  // networking.k8s.io/v1
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, { shortNames: ['ing'], status: true }),
  // events.k8s.io/v1
  r('events.k8s.io', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  // authentication.k8s.io/v1 (create-only reviews: answered, never stored)
  r('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', false, { verbs: ['create'] }),
  r('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', false, { verbs: ['create'] }),
  // authorization.k8s.io/v1
  r('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false, { verbs: ['create'] }),
  // certificates.k8s.io/v1
  r('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', false, {
    shortNames: ['csr'],
    status: true,
    sub: [{ name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] }],
  }),
  // metrics.k8s.io/v1beta1 (upstream's metrics-server API, served by the apiserver from the kubelets' stats): read-only.
  r('metrics.k8s.io', 'v1beta1', 'NodeMetrics', 'nodes', false, { verbs: ['get', 'list'] }),
  r('metrics.k8s.io', 'v1beta1', 'PodMetrics', 'pods', true, { verbs: ['get', 'list'] }),
  // policy/v1
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, { shortNames: ['pdb'], status: true }),
  // scheduling.k8s.io/v1
  r('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, { shortNames: ['pc'] }),
  // storage.k8s.io/v1
  r('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, { shortNames: ['sc'] }),
];

/** Groups in the order discovery lists them (upstream's priority order, core first). */
export const GROUP_ORDER = [
  '',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'metrics.k8s.io',
];

export function apiVersionOf(info: { group: string; version: string }): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/**
 * One row per group and resource, in its preferred version (the first listed), as clients see through discovery's
 * preferred versions: what controllers that watch "every resource" (GC, namespace deletion, quota) iterate.
 */
export function preferredResources(all: readonly ResourceInfo[] = RESOURCES): ResourceInfo[] {
  const seen = new Set<string>();
  return all.filter((r) => {
    const key = `${r.group}/${r.resource}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.version === version && x.resource === resource);
}

export function findKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
}

/** The REST path of a collection or an object: /api/v1/namespaces/ns/pods[/name][/sub]. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  let p = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  if (info.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${info.resource}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
