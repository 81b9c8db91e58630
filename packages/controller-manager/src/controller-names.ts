// The controllers' names (upstream's cmd/kube-controller-manager/names), the short names --controllers
// still accepts, and the --controllers rules.

/** Every controller this controller-manager knows, by upstream's 1.32 name. */
export const KNOWN_CONTROLLERS: readonly string[] = [
  'replicaset-controller',
  'replicationcontroller-controller',
  'deployment-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'garbage-collector-controller',
  'clusterrole-aggregation-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'pod-garbage-collector-controller',
  'node-ipam-controller',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'certificatesigningrequest-signing-controller',
  'certificatesigningrequest-approving-controller',
  'token-cleaner-controller',
  'bootstrap-signer-controller',
  'job-controller',
  'ttl-after-finished-controller',
  'cronjob-controller',
  'statefulset-controller',
  'daemonset-controller',
  'resourcequota-controller',
  'disruption-controller',
  'horizontal-pod-autoscaler-controller',
  'persistentvolume-binder-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
];

/** Controllers `*` does not enable (upstream's list; kubeadm adds `bootstrapsigner,tokencleaner` to --controllers). */
export const DISABLED_BY_DEFAULT = new Set<string>(['token-cleaner-controller', 'bootstrap-signer-controller']);

/** The short names upstream still accepts for --controllers. */
const ALIASES: Record<string, string> = {
  replicaset: 'replicaset-controller',
  replicationcontroller: 'replicationcontroller-controller',
  deployment: 'deployment-controller',
  namespace: 'namespace-controller',
  serviceaccount: 'serviceaccount-controller',
  'root-ca-cert-publisher': 'root-ca-certificate-publisher-controller',
  garbagecollector: 'garbage-collector-controller',
  endpoint: 'endpoints-controller',
  endpointslice: 'endpointslice-controller',
  podgc: 'pod-garbage-collector-controller',
  nodeipam: 'node-ipam-controller',
  nodelifecycle: 'node-lifecycle-controller',
  csrsigning: 'certificatesigningrequest-signing-controller',
  csrapproving: 'certificatesigningrequest-approving-controller',
  tokencleaner: 'token-cleaner-controller',
  bootstrapsigner: 'bootstrap-signer-controller',
  job: 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  cronjob: 'cronjob-controller',
  statefulset: 'statefulset-controller',
  daemonset: 'daemonset-controller',
  resourcequota: 'resourcequota-controller',
  disruption: 'disruption-controller',
  horizontalpodautoscaling: 'horizontal-pod-autoscaler-controller',
  'persistentvolume-binder': 'persistentvolume-binder-controller',
  'pvc-protection': 'persistentvolumeclaim-protection-controller',
  'pv-protection': 'persistentvolume-protection-controller',
};

export function resolveControllerName(name: string): string {
  return ALIASES[name] ?? name;
}

/**
 * Upstream's IsControllerEnabled: the first entry naming the controller (`name` or `-name`) wins;
 * otherwise `*` enables every controller not disabled by default.
 */
export function isControllerEnabled(name: string, controllers: readonly string[]): boolean {
  let star = false;
  for (const entry of controllers) {
    if (entry === '*') {
      star = true;
      continue;
    }
    const negated = entry.startsWith('-');
    if (resolveControllerName(negated ? entry.slice(1) : entry) === name) return !negated;
  }
  return star && !DISABLED_BY_DEFAULT.has(name);
}

/**
 * The kube-system ServiceAccount each controller runs as under --use-service-account-credentials (the
 * names upstream's start functions pass to ClientBuilder.ClientOrDie); each is bound to the ClusterRole
 * system:controller:<account> of the bootstrap policy.
 */
export const CONTROLLER_SERVICE_ACCOUNTS: Readonly<Record<string, string>> = {
  'replicaset-controller': 'replicaset-controller',
  'replicationcontroller-controller': 'replication-controller',
  'deployment-controller': 'deployment-controller',
  'namespace-controller': 'namespace-controller',
  'serviceaccount-controller': 'service-account-controller',
  'root-ca-certificate-publisher-controller': 'root-ca-cert-publisher',
  'garbage-collector-controller': 'generic-garbage-collector',
  'clusterrole-aggregation-controller': 'clusterrole-aggregation-controller',
  'endpoints-controller': 'endpoint-controller',
  'endpointslice-controller': 'endpointslice-controller',
  'pod-garbage-collector-controller': 'pod-garbage-collector',
  'node-ipam-controller': 'node-controller',
  'node-lifecycle-controller': 'node-controller',
  'taint-eviction-controller': 'node-controller',
  'certificatesigningrequest-signing-controller': 'certificate-controller',
  'certificatesigningrequest-approving-controller': 'certificate-controller',
  'token-cleaner-controller': 'token-cleaner',
  'bootstrap-signer-controller': 'bootstrap-signer',
  'job-controller': 'job-controller',
  'ttl-after-finished-controller': 'ttl-after-finished-controller',
  'cronjob-controller': 'cronjob-controller',
  'statefulset-controller': 'statefulset-controller',
  'daemonset-controller': 'daemon-set-controller',
  'resourcequota-controller': 'resourcequota-controller',
  'disruption-controller': 'disruption-controller',
  'horizontal-pod-autoscaler-controller': 'horizontal-pod-autoscaler',
  'persistentvolume-binder-controller': 'persistent-volume-binder',
  'persistentvolumeclaim-protection-controller': 'pvc-protection-controller',
  'persistentvolume-protection-controller': 'pv-protection-controller',
};
