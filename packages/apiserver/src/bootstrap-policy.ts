// Upstream's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): the default
// ClusterRoles, ClusterRoleBindings, Roles and RoleBindings every cluster starts with, reconciled at
// startup: created when missing; when present (and not annotated autoupdate "false"), missing rules,
// subjects, labels and annotations are added, nothing is taken away.
import { StatusError, type KubeObject } from '@kubelab/api';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1';
import type { Registry } from './registry/index.js';
import { uncoveredRules } from './auth/rbac/rules.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...READ, ...WRITE];

const LEGACY = '';
const RBAC = 'rbac.authorization.k8s.io';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

function rule(verbs: string[], groups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups: groups, resources };
  if (resourceNames) r.resourceNames = resourceNames;
  return r;
}
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });
const events = (): PolicyRule[] => [rule(['create', 'patch', 'update'], [LEGACY, 'events.k8s.io'], ['events'])];
const leaderLease = (name: string): PolicyRule[] => [
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], [name]),
  rule(['create'], [LEGACY], ['endpoints']),
  rule(['get', 'update'], [LEGACY], ['endpoints'], [name]),
];
const delegation = (): PolicyRule[] => [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])];

const BOOTSTRAP_META = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): ClusterRole {
  const role: ClusterRole = {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_META.labels, ...(extra.labels ?? {}) }, annotations: { ...BOOTSTRAP_META.annotations } },
    rules,
  };
  if (extra.aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: 'true' } }] };
  return role;
}

/** The rules of system:node, which the Node authorizer also applies to kubelets (upstream's NodeRules). */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
    rule(READ, [LEGACY], ['services']),
    rule(['create', 'get', 'list', 'watch'], [LEGACY], ['nodes']),
    rule(['patch', 'update'], [LEGACY], ['nodes/status']),
    rule(['patch', 'update'], [LEGACY], ['nodes']),
    rule(['create', 'patch', 'update'], [LEGACY], ['events']),
    rule(READ, [LEGACY], ['pods']),
    rule(['create', 'delete'], [LEGACY], ['pods']),
    rule(['patch', 'update'], [LEGACY], ['pods/status']),
    rule(['create'], [LEGACY], ['pods/eviction']),
    rule(READ, [LEGACY], ['configmaps', 'secrets']),
    rule(['get'], [LEGACY], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [LEGACY], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
    rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
    rule(['create'], [LEGACY], ['serviceaccounts/token']),
    rule(['get', 'patch', 'update'], [LEGACY], ['persistentvolumeclaims/status']),
    rule(READ, ['storage.k8s.io'], ['csidrivers']),
    rule(READ_WRITE, ['storage.k8s.io'], ['csinodes']),
    rule(READ, ['node.k8s.io'], ['runtimeclasses']),
  ];
}

function aggregateToView(): PolicyRule[] {
  return [
    rule(
      READ,
      [LEGACY],
      [
        'pods',
        'replicationcontrollers',
        'replicationcontrollers/scale',
        'serviceaccounts',
        'services',
        'services/status',
        'endpoints',
        'persistentvolumeclaims',
        'persistentvolumeclaims/status',
        'configmaps',
      ],
    ),
    rule(READ, [LEGACY], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
    rule(READ, [LEGACY], ['namespaces']),
    rule(READ, ['discovery.k8s.io'], ['endpointslices']),
    // What metrics-server's system:aggregated-metrics-reader adds to view, edit and admin.
    rule(READ, ['metrics.k8s.io'], ['pods', 'nodes']),
    rule(
      READ,
      ['apps'],
      [
        'controllerrevisions',
        'statefulsets',
        'statefulsets/status',
        'statefulsets/scale',
        'daemonsets',
        'daemonsets/status',
        'deployments',
        'deployments/status',
        'deployments/scale',
        'replicasets',
        'replicasets/status',
        'replicasets/scale',
      ],
    ),
    rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
    rule(
      READ,
      ['extensions'],
      [
        'daemonsets',
        'daemonsets/status',
        'deployments',
        'deployments/scale',
        'deployments/status',
        'ingresses',
        'ingresses/status',
        'networkpolicies',
        'replicasets',
        'replicasets/scale',
        'replicasets/status',
        'replicationcontrollers/scale',
      ],
    ),
    rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  ];
}

function aggregateToEdit(): PolicyRule[] {
  return [
    rule(['impersonate'], [LEGACY], ['serviceaccounts']),
    rule(WRITE, [LEGACY], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
    rule(['create'], [LEGACY], ['pods/eviction']),
    rule(WRITE, [LEGACY], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
    rule(['create'], [LEGACY], ['serviceaccounts/token']),
    rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
    rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
    rule(
      WRITE,
      ['extensions'],
      ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'],
    ),
    rule(WRITE, ['policy'], ['poddisruptionbudgets']),
    rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
    rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
    rule(READ, [LEGACY], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  ];
}

function aggregateToAdmin(): PolicyRule[] {
  return [rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), rule(READ_WRITE, [RBAC], ['rolebindings', 'roles'])];
}

/** A controller's role, bound to its service account in kube-system (upstream's controller_policy.go). */
function controllerRoles(): ClusterRole[] {
  const c = (name: string, rules: PolicyRule[]) => clusterRole(`system:controller:${name}`, [...rules, ...events()]);
  return [
    c('clusterrole-aggregation-controller', [rule(['escalate', 'get', 'list', 'patch', 'update', 'watch'], [RBAC], ['clusterroles'])]),
    c('deployment-controller', [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['deployments']),
      rule(['update'], ['apps', 'extensions'], ['deployments/status']),
      rule(['update'], ['apps', 'extensions'], ['deployments/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'update', 'watch'], [LEGACY], ['pods']),
    ]),
    c('replicaset-controller', [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/status']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [LEGACY], ['pods']),
    ]),
    c('replication-controller', [
      rule(['get', 'list', 'update', 'watch'], [LEGACY], ['replicationcontrollers']),
      rule(['update'], [LEGACY], ['replicationcontrollers/status']),
      rule(['update'], [LEGACY], ['replicationcontrollers/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [LEGACY], ['pods']),
    ]),
    c('namespace-controller', [
      rule(['delete', 'get', 'list', 'watch'], [LEGACY], ['namespaces']),
      rule(['update'], [LEGACY], ['namespaces/finalize', 'namespaces/status']),
      rule(['delete', 'deletecollection', 'get', 'list'], ['*'], ['*']),
    ]),
    c('disruption-controller', [
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['deployments', 'replicasets']),
      rule(['get', 'list', 'watch'], [LEGACY], ['replicationcontrollers']),
      rule(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
      rule(['patch', 'update'], [LEGACY], ['pods/status']),
      rule(['get'], ['*'], ['*/scale']),
    ]),
    c('horizontal-pod-autoscaler', [
      rule(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
      rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list'], [LEGACY], ['pods']),
      rule(['get'], [LEGACY], ['services'], ['https:heapster:', 'http:heapster:']),
      rule(['list'], ['metrics.k8s.io'], ['pods']),
      rule(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
      rule(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
    ]),
    c('generic-garbage-collector', [rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], ['*'], ['*'])]),
    c('service-account-controller', [rule(['create'], [LEGACY], ['serviceaccounts'])]),
    c('root-ca-cert-publisher', [rule(['create', 'update'], [LEGACY], ['configmaps'])]),
    c('endpointslice-controller', [
      rule(['get', 'list', 'watch'], [LEGACY], ['nodes', 'pods', 'services']),
      rule(['update'], [LEGACY], ['services/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    c('endpoint-controller', [
      rule(['get', 'list', 'watch'], [LEGACY], ['pods', 'services']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [LEGACY], ['endpoints']),
      rule(['create'], [LEGACY], ['endpoints/restricted']),
    ]),
    c('node-controller', [
      rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], [LEGACY], ['nodes']),
      rule(['patch', 'update'], [LEGACY], ['nodes/status']),
      rule(['patch', 'update'], [LEGACY], ['pods/status']),
      rule(['delete', 'get', 'list', 'watch'], [LEGACY], ['pods']),
    ]),
    c('job-controller', [
      rule(['get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']),
      rule(['update'], ['batch'], ['jobs/status']),
      rule(['update'], ['batch'], ['jobs/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [LEGACY], ['pods']),
    ]),
    c('cronjob-controller', [
      rule(['get', 'list', 'update', 'watch'], ['batch'], ['cronjobs']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']),
      rule(['update'], ['batch'], ['cronjobs/status']),
      rule(['update'], ['batch'], ['cronjobs/finalizers']),
      rule(['delete', 'list'], [LEGACY], ['pods']),
    ]),
    c('daemon-set-controller', [
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['daemonsets']),
      rule(['update'], ['apps', 'extensions'], ['daemonsets/status']),
      rule(['update'], ['apps', 'extensions'], ['daemonsets/finalizers']),
      rule(['list', 'watch'], [LEGACY], ['nodes']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [LEGACY], ['pods']),
      rule(['create'], [LEGACY], ['pods/binding']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['controllerrevisions']),
    ]),
    c('statefulset-controller', [
      rule(['list', 'watch'], [LEGACY], ['pods']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['apps'], ['statefulsets/status']),
      rule(['update'], ['apps'], ['statefulsets/finalizers']),
      rule(['create', 'delete', 'get', 'patch', 'update'], [LEGACY], ['pods']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['controllerrevisions']),
      rule(['create', 'get', 'list', 'watch'], [LEGACY], ['persistentvolumeclaims']),
      rule(['delete', 'update'], [LEGACY], ['persistentvolumeclaims']),
      rule(['update'], [LEGACY], ['pods/finalizers']),
    ]),
    c('resourcequota-controller', [rule(['list', 'watch'], ['*'], ['*']), rule(['update'], [LEGACY], ['resourcequotas/status'])]),
    c('certificate-controller', [
      rule(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
      rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(
        ['sign'],
        ['certificates.k8s.io'],
        ['signers'],
        ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown'],
      ),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    c('token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [LEGACY], ['secrets'])]),
    // Upstream grants these by Roles in kube-system (secrets) and kube-public (configmaps); here cluster-wide.
    c('bootstrap-signer', [rule(['get', 'list', 'watch'], [LEGACY], ['secrets']), rule(['get', 'list', 'update', 'watch'], [LEGACY], ['configmaps'])]),
    c('ttl-controller', [rule(['list', 'patch', 'update', 'watch'], [LEGACY], ['nodes'])]),
    c('pod-garbage-collector', [rule(['delete', 'list', 'watch'], [LEGACY], ['pods']), rule(['get', 'list', 'watch'], [LEGACY], ['nodes']), rule(['patch'], [LEGACY], ['pods/status'])]),
    c('ttl-after-finished-controller', [rule(['delete', 'get', 'list', 'watch'], ['batch'], ['jobs'])]),
    c('persistent-volume-binder', [
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [LEGACY], ['persistentvolumes']),
      rule(['update'], [LEGACY], ['persistentvolumes/status']),
      rule(['get', 'list', 'update', 'watch'], [LEGACY], ['persistentvolumeclaims']),
      rule(['update'], [LEGACY], ['persistentvolumeclaims/status']),
      rule(['create', 'delete', 'get', 'list', 'watch'], [LEGACY], ['pods']),
      rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      rule(['create', 'delete', 'get', 'update'], [LEGACY], ['endpoints']),
      rule(['create', 'delete', 'get'], [LEGACY], ['services']),
      rule(['get'], [LEGACY], ['secrets']),
      rule(['get', 'list'], [LEGACY], ['nodes']),
      rule(['watch'], [LEGACY], ['events']),
    ]),
    c('pvc-protection-controller', [rule(['get', 'list', 'update', 'watch'], [LEGACY], ['persistentvolumeclaims']), rule(['get', 'list', 'watch'], [LEGACY], ['pods'])]),
    c('pv-protection-controller', [rule(['get', 'list', 'update', 'watch'], [LEGACY], ['persistentvolumes'])]),
  ];
}

/** The controllers whose roles above are bound to kube-system service accounts of the same name. */
const CONTROLLER_ACCOUNTS: Record<string, string> = {
  'clusterrole-aggregation-controller': 'clusterrole-aggregation-controller',
  'deployment-controller': 'deployment-controller',
  'replicaset-controller': 'replicaset-controller',
  'replication-controller': 'replication-controller',
  'namespace-controller': 'namespace-controller',
  'generic-garbage-collector': 'generic-garbage-collector',
  'service-account-controller': 'service-account-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'endpointslice-controller': 'endpointslice-controller',
  'endpoint-controller': 'endpoint-controller',
  'node-controller': 'node-controller',
  'job-controller': 'job-controller',
  'cronjob-controller': 'cronjob-controller',
  'daemon-set-controller': 'daemon-set-controller',
  'statefulset-controller': 'statefulset-controller',
  'resourcequota-controller': 'resourcequota-controller',
  'certificate-controller': 'certificate-controller',
  'token-cleaner': 'token-cleaner',
  'bootstrap-signer': 'bootstrap-signer',
  'ttl-controller': 'ttl-controller',
  'pod-garbage-collector': 'pod-garbage-collector',
  'disruption-controller': 'disruption-controller',
  'horizontal-pod-autoscaler': 'horizontal-pod-autoscaler',
  'ttl-after-finished-controller': 'ttl-after-finished-controller',
  'persistent-volume-binder': 'persistent-volume-binder',
  'pvc-protection-controller': 'pvc-protection-controller',
  'pv-protection-controller': 'pv-protection-controller',
};

export function bootstrapClusterRoles(): ClusterRole[] {
  const roles: ClusterRole[] = [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/'])]),
    clusterRole('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/metrics', '/metrics/slis'])]),
    clusterRole(
      'system:basic-user',
      [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])],
    ),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    // The user-facing roles: rules come from the system:aggregate-to-* roles (aggregated by the
    // controller-manager); they start with the union so they work before it runs.
    clusterRole('admin', [...aggregateToAdmin(), ...aggregateToEdit(), ...aggregateToView()], { aggregateFrom: AGGREGATE_TO_ADMIN }),
    clusterRole('edit', [...aggregateToEdit(), ...aggregateToView()], { labels: { [AGGREGATE_TO_ADMIN]: 'true' }, aggregateFrom: AGGREGATE_TO_EDIT }),
    clusterRole('view', aggregateToView(), { labels: { [AGGREGATE_TO_ADMIN]: 'true', [AGGREGATE_TO_EDIT]: 'true' }, aggregateFrom: AGGREGATE_TO_VIEW }),
    clusterRole('system:aggregate-to-admin', aggregateToAdmin(), { labels: { [AGGREGATE_TO_ADMIN]: 'true' } }),
    clusterRole('system:aggregate-to-edit', aggregateToEdit(), { labels: { [AGGREGATE_TO_EDIT]: 'true' } }),
    clusterRole('system:aggregate-to-view', aggregateToView(), { labels: { [AGGREGATE_TO_VIEW]: 'true' } }),
    clusterRole('system:heapster', [rule(READ, [LEGACY], ['events', 'pods', 'nodes', 'namespaces']), rule(READ, ['extensions'], ['deployments'])]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [rule(['get'], [LEGACY], ['nodes']), rule(['patch'], [LEGACY], ['nodes/status']), ...events()]),
    clusterRole(
      'system:kubelet-api-admin',
      [rule(['get', 'list', 'watch'], [LEGACY], ['nodes']), rule(['proxy'], [LEGACY], ['nodes']), rule(['*'], [LEGACY], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'])],
    ),
    clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    clusterRole('system:auth-delegator', delegation()),
    clusterRole('system:kube-aggregator', [rule(READ, [LEGACY], ['endpoints', 'services'])]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['create', 'delete', 'get', 'list', 'watch'], [LEGACY], ['persistentvolumes']),
      rule(['get', 'list', 'update', 'watch'], [LEGACY], ['persistentvolumeclaims']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      rule(['list', 'watch'], [LEGACY], ['events']),
      ...events(),
    ]),
    clusterRole('system:kube-controller-manager', [
      ...events(),
      ...leaderLease('kube-controller-manager'),
      rule(['create'], [LEGACY], ['secrets', 'serviceaccounts']),
      rule(['delete'], [LEGACY], ['secrets']),
      rule(['get'], [LEGACY], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [LEGACY], ['secrets', 'serviceaccounts']),
      ...delegation(),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [LEGACY], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [LEGACY], ['endpoints', 'services'])]),
    clusterRole('system:kube-scheduler', [
      ...events(),
      ...leaderLease('kube-scheduler'),
      rule(READ, [LEGACY], ['nodes']),
      rule(['delete', 'get', 'list', 'watch'], [LEGACY], ['pods']),
      rule(['create'], [LEGACY], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [LEGACY], ['pods/status']),
      rule(READ, [LEGACY], ['replicationcontrollers', 'services']),
      rule(READ, ['apps', 'extensions'], ['replicasets']),
      rule(READ, ['apps'], ['statefulsets']),
      rule(READ, ['policy'], ['poddisruptionbudgets']),
      rule(READ, [LEGACY], ['persistentvolumeclaims', 'persistentvolumes']),
      ...delegation(),
      rule(READ, ['storage.k8s.io'], ['csinodes']),
      rule(READ, [LEGACY], ['namespaces']),
      rule(READ, ['storage.k8s.io'], ['csidrivers']),
      rule(READ, ['storage.k8s.io'], ['csistoragecapacities']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [LEGACY], ['persistentvolumes']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [LEGACY], ['persistentvolumeclaims']),
    ]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [LEGACY], ['endpoints', 'services']),
      rule(['get', 'list', 'watch'], [LEGACY], ['nodes']),
      ...events(),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client'])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
    clusterRole('system:certificates.k8s.io:kubelet-serving-approver', [rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kubelet-serving'])]),
    clusterRole('system:certificates.k8s.io:legacy-unknown-approver', [rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/legacy-unknown'])]),
    ...controllerRoles(),
  ];
  return roles;
}

const group = (name: string): Subject => ({ apiGroup: RBAC, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC, kind: 'User', name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function clusterBinding(name: string, subjects: Subject[], roleName = name): ClusterRoleBinding {
  const b: ClusterRoleBinding = {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_META.labels }, annotations: { ...BOOTSTRAP_META.annotations } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
  };
  if (subjects.length) b.subjects = subjects;
  return b;
}

export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterBinding('cluster-admin', [group('system:masters')]),
    clusterBinding('system:monitoring', [group('system:monitoring')]),
    clusterBinding('system:discovery', [group('system:authenticated')]),
    clusterBinding('system:basic-user', [group('system:authenticated')]),
    clusterBinding('system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    // Kubelets are authorized by the Node authorizer; the binding exists without subjects, as upstream.
    clusterBinding('system:node', []),
    clusterBinding('system:node-proxier', [user('system:kube-proxy')]),
    clusterBinding('system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterBinding('system:kube-dns', [serviceAccount('kube-system', 'kube-dns')]),
    clusterBinding('system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterBinding('system:volume-scheduler', [user('system:kube-scheduler')]),
    clusterBinding('system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    ...Object.entries(CONTROLLER_ACCOUNTS).map(([role, sa]) => clusterBinding(`system:controller:${role}`, [serviceAccount('kube-system', sa)])),
  ];
}

function namespacedRole(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name, namespace, labels: { ...BOOTSTRAP_META.labels }, annotations: { ...BOOTSTRAP_META.annotations } }, rules };
}

export function bootstrapRoles(): Role[] {
  return [
    namespacedRole('kube-system', 'extension-apiserver-authentication-reader', [rule(READ, [LEGACY], ['configmaps'], ['extension-apiserver-authentication'])]),
    namespacedRole(
      'kube-system',
      'system::leader-locking-kube-controller-manager',
      [rule(['watch'], [LEGACY], ['configmaps']), rule(['get', 'update'], [LEGACY], ['configmaps'], ['kube-controller-manager'])],
    ),
    namespacedRole('kube-system', 'system::leader-locking-kube-scheduler', [rule(['watch'], [LEGACY], ['configmaps']), rule(['get', 'update'], [LEGACY], ['configmaps'], ['kube-scheduler'])]),
    namespacedRole('kube-system', 'system:controller:bootstrap-signer', [rule(READ, [LEGACY], ['secrets'])]),
    namespacedRole('kube-system', 'system:controller:token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [LEGACY], ['secrets']), ...events()]),
    namespacedRole('kube-public', 'system:controller:bootstrap-signer', [rule(READ, [LEGACY], ['configmaps']), rule(['update'], [LEGACY], ['configmaps'], ['cluster-info']), ...events()]),
  ];
}

function namespacedBinding(namespace: string, name: string, roleName: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { ...BOOTSTRAP_META.labels }, annotations: { ...BOOTSTRAP_META.annotations } },
    roleRef: { apiGroup: RBAC, kind: 'Role', name: roleName },
    subjects,
  };
}

export function bootstrapRoleBindings(): RoleBinding[] {
  return [
    namespacedBinding(
      'kube-system',
      'system::extension-apiserver-authentication-reader',
      'extension-apiserver-authentication-reader',
      [user('system:kube-controller-manager'), user('system:kube-scheduler')],
    ),
    namespacedBinding(
      'kube-system',
      'system::leader-locking-kube-controller-manager',
      'system::leader-locking-kube-controller-manager',
      [user('system:kube-controller-manager'), serviceAccount('kube-system', 'kube-controller-manager')],
    ),
    namespacedBinding(
      'kube-system',
      'system::leader-locking-kube-scheduler',
      'system::leader-locking-kube-scheduler',
      [user('system:kube-scheduler'), serviceAccount('kube-system', 'kube-scheduler')],
    ),
    namespacedBinding('kube-system', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [serviceAccount('kube-system', 'bootstrap-signer')]),
    namespacedBinding('kube-system', 'system:controller:token-cleaner', 'system:controller:token-cleaner', [serviceAccount('kube-system', 'token-cleaner')]),
    namespacedBinding('kube-public', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [serviceAccount('kube-system', 'bootstrap-signer')]),
  ];
}

/** The reconciled copy of `existing`: missing labels, annotations, rules, selectors and subjects added. */
export function reconcileObject(existing: KubeObject, desired: KubeObject): KubeObject | undefined {
  if (existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  const next = structuredClone(existing) as KubeObject;
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    for (const [k, v] of Object.entries(desired.metadata[field] ?? {})) {
      if (next.metadata[field]?.[k] === undefined) {
        next.metadata[field] = { ...(next.metadata[field] ?? {}), [k]: v as string };
        changed = true;
      }
    }
  }
  if (desired.rules) {
    // Aggregated roles get their rules from the aggregation controller: only their selectors are reconciled.
    if (desired.aggregationRule) {
      const have: unknown[] = next.aggregationRule?.clusterRoleSelectors ?? [];
      const missing = (desired.aggregationRule.clusterRoleSelectors as unknown[]).filter((s) => !have.some((h) => JSON.stringify(h) === JSON.stringify(s)));
      if (missing.length) {
        next.aggregationRule = { clusterRoleSelectors: [...have, ...missing] };
        changed = true;
      }
    } else {
      const missing = uncoveredRules((next.rules ?? []) as PolicyRule[], desired.rules as PolicyRule[]);
      if (missing.length) {
        // Add the desired rules that are not already covered, whole (not their one-verb pieces).
        const add = (desired.rules as PolicyRule[]).filter((r) => uncoveredRules((next.rules ?? []) as PolicyRule[], [r]).length);
        next.rules = [...(next.rules ?? []), ...add];
        changed = true;
      }
    }
  }
  if (desired.subjects) {
    const have: Subject[] = next.subjects ?? [];
    const key = (s: Subject) => `${s.kind}/${s.namespace ?? ''}/${s.name}`;
    const missing = (desired.subjects as Subject[]).filter((s) => !have.some((h) => key(h) === key(s)));
    if (missing.length) {
      next.subjects = [...have, ...missing];
      changed = true;
    }
  }
  return changed ? next : undefined;
}

/**
 * Creates the bootstrap roles and bindings that are missing and adds what is missing to the ones
 * present. Namespaced roles are skipped while their namespace does not exist. Returns how many
 * objects were created or updated.
 */
export async function reconcileBootstrapPolicy(registry: Registry): Promise<number> {
  let written = 0;
  const groups: [string, KubeObject[]][] = [
    ['clusterroles', bootstrapClusterRoles() as KubeObject[]],
    ['clusterrolebindings', bootstrapClusterRoleBindings() as KubeObject[]],
    ['roles', bootstrapRoles() as KubeObject[]],
    ['rolebindings', bootstrapRoleBindings() as KubeObject[]],
  ];
  const namespaces = registry.store('', 'v1', 'namespaces');
  for (const [resource, objects] of groups) {
    const store = registry.store(RBAC, 'v1', resource);
    for (const desired of objects) {
      const ns = desired.metadata.namespace ?? '';
      const name = desired.metadata.name!;
      let existing: KubeObject | undefined;
      try {
        existing = await store.get(ns, name);
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
      }
      if (!existing) {
        if (ns && !(await namespaces.get('', ns).then(() => true, () => false))) continue;
        try {
          await store.create(ns, structuredClone(desired));
          written++;
        } catch (err) {
          if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
        }
        continue;
      }
      if (!reconcileObject(existing, desired)) continue;
      await store.update(ns, name, (current) => {
        if (!current) throw new StatusError({ code: 409, reason: 'Conflict', message: `${resource} "${name}" was deleted during reconciliation` });
        return reconcileObject(current, desired) ?? current;
      });
      written++;
    }
  }
  return written;
}
