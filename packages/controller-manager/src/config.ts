// kube-controller-manager configuration: upstream's flag names, defaults in one function, validated
// once and frozen. Only this file reads flags.
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';
import { KNOWN_CONTROLLERS, resolveControllerName } from './controller-names.js';

export interface ControllerManagerConfig {
  kubeconfig?: string;
  /** Overrides the kubeconfig's server. */
  master?: string;
  /** Upstream's --controllers: `*`, `name`, `-name`. */
  controllers: string[];
  leaderElect: boolean;
  leaderElectLeaseDurationMs: number;
  leaderElectRenewDeadlineMs: number;
  leaderElectRetryPeriodMs: number;
  leaderElectResourceName: string;
  leaderElectResourceNamespace: string;
  rootCAFile?: string;
  clusterCIDR?: string;
  allocateNodeCIDRs: boolean;
  nodeCIDRMaskSize: number;
  /** --node-monitor-grace-period (40s), --node-monitor-period (5s). */
  nodeMonitorGracePeriodMs: number;
  nodeMonitorPeriodMs: number;
  /** --terminated-pod-gc-threshold (12500); 0 disables terminated pod GC. */
  terminatedPodGCThreshold: number;
  /** --concurrent-endpoint-syncs, --concurrent-service-endpoint-syncs (EndpointSlices). */
  concurrentEndpointSyncs: number;
  concurrentServiceEndpointSyncs: number;
  concurrentReplicasetSyncs: number;
  concurrentDeploymentSyncs: number;
  concurrentNamespaceSyncs: number;
  concurrentGCSyncs: number;
  /** Upstream's --min-resync-period (12h); informers resync within [1, 2) times this. */
  minResyncPeriodMs: number;
  /** The CA that signs CSRs of the kubernetes.io/* signers (--cluster-signing-cert-file / --cluster-signing-key-file). */
  clusterSigningCertFile?: string;
  clusterSigningKeyFile?: string;
  /** --cluster-signing-duration (8760h): the longest validity of a signed certificate. */
  clusterSigningDurationMs: number;
  /** HTTPS serving of /healthz and /metrics: --secure-port (0 turns it off), --bind-address, --tls-*-file, --client-ca-file. */
  securePort: number;
  bindAddress: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
}

export function defaults(): ControllerManagerConfig {
  return {
    controllers: ['*'],
    leaderElect: true,
    leaderElectLeaseDurationMs: 15_000,
    leaderElectRenewDeadlineMs: 10_000,
    leaderElectRetryPeriodMs: 2_000,
    leaderElectResourceName: 'kube-controller-manager',
    leaderElectResourceNamespace: 'kube-system',
    allocateNodeCIDRs: false,
    nodeCIDRMaskSize: 24,
    nodeMonitorGracePeriodMs: 40_000,
    nodeMonitorPeriodMs: 5_000,
    terminatedPodGCThreshold: 12500,
    concurrentEndpointSyncs: 5,
    concurrentServiceEndpointSyncs: 5,
    concurrentReplicasetSyncs: 5,
    concurrentDeploymentSyncs: 5,
    concurrentNamespaceSyncs: 10,
    concurrentGCSyncs: 20,
    minResyncPeriodMs: 12 * 3_600_000,
    clusterSigningDurationMs: 8760 * 3_600_000,
    securePort: 10257,
    bindAddress: '0.0.0.0',
  };
}

/** Upstream's flags, with their types (pflag syntax: `--leader-elect`, `--leader-elect=false`, `--x value`). */
export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to kubeconfig file with authorization and master location information.' },
  master: { kind: 'string', usage: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  controllers: { kind: 'stringSlice', usage: "A list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables foo, '-foo' disables foo." },
  'leader-elect': { kind: 'bool', usage: 'Start a leader election client and gain leadership before executing the main loop.' },
  'leader-elect-lease-duration': { kind: 'duration' },
  'leader-elect-renew-deadline': { kind: 'duration' },
  'leader-elect-retry-period': { kind: 'duration' },
  'leader-elect-resource-name': { kind: 'string' },
  'leader-elect-resource-namespace': { kind: 'string' },
  'root-ca-file': { kind: 'string', usage: "If set, this root certificate authority will be included in service account's token secret." },
  'cluster-cidr': { kind: 'string', usage: 'CIDR Range for Pods in cluster.' },
  'allocate-node-cidrs': { kind: 'bool', usage: 'Should CIDRs for Pods be allocated and set on the cloud provider.' },
  'node-cidr-mask-size': { kind: 'int32' },
  'node-monitor-grace-period': { kind: 'duration' },
  'node-monitor-period': { kind: 'duration' },
  'terminated-pod-gc-threshold': { kind: 'int32' },
  'concurrent-endpoint-syncs': { kind: 'int32' },
  'concurrent-service-endpoint-syncs': { kind: 'int32' },
  'concurrent-replicaset-syncs': { kind: 'int32' },
  'concurrent-deployment-syncs': { kind: 'int32' },
  'concurrent-namespace-syncs': { kind: 'int32' },
  'concurrent-gc-syncs': { kind: 'int32' },
  'min-resync-period': { kind: 'duration', usage: 'The resync period in reflectors will be random between MinResyncPeriod and 2*MinResyncPeriod.' },
  'cluster-signing-cert-file': { kind: 'string' },
  'cluster-signing-key-file': { kind: 'string' },
  'cluster-signing-duration': { kind: 'duration' },
  'secure-port': { kind: 'int32', usage: 'The port on which to serve HTTPS with authentication and authorization. If 0, don\'t serve HTTPS at all.' },
  'bind-address': { kind: 'string' },
  'tls-cert-file': { kind: 'string' },
  'tls-private-key-file': { kind: 'string' },
  'client-ca-file': { kind: 'string' },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<ControllerManagerConfig> {
  const d = defaults();
  return validate({
    kubeconfig: f.kubeconfig || undefined,
    master: f.master,
    controllers: f.controllers?.filter(Boolean) ?? d.controllers,
    leaderElect: f['leader-elect'] ?? d.leaderElect,
    leaderElectLeaseDurationMs: f['leader-elect-lease-duration'] ?? d.leaderElectLeaseDurationMs,
    leaderElectRenewDeadlineMs: f['leader-elect-renew-deadline'] ?? d.leaderElectRenewDeadlineMs,
    leaderElectRetryPeriodMs: f['leader-elect-retry-period'] ?? d.leaderElectRetryPeriodMs,
    leaderElectResourceName: f['leader-elect-resource-name'] || d.leaderElectResourceName,
    leaderElectResourceNamespace: f['leader-elect-resource-namespace'] || d.leaderElectResourceNamespace,
    rootCAFile: f['root-ca-file'] || undefined,
    clusterCIDR: f['cluster-cidr'] || undefined,
    allocateNodeCIDRs: f['allocate-node-cidrs'] ?? d.allocateNodeCIDRs,
    nodeCIDRMaskSize: f['node-cidr-mask-size'] ?? d.nodeCIDRMaskSize,
    nodeMonitorGracePeriodMs: f['node-monitor-grace-period'] ?? d.nodeMonitorGracePeriodMs,
    nodeMonitorPeriodMs: f['node-monitor-period'] ?? d.nodeMonitorPeriodMs,
    terminatedPodGCThreshold: f['terminated-pod-gc-threshold'] ?? d.terminatedPodGCThreshold,
    concurrentEndpointSyncs: f['concurrent-endpoint-syncs'] ?? d.concurrentEndpointSyncs,
    concurrentServiceEndpointSyncs: f['concurrent-service-endpoint-syncs'] ?? d.concurrentServiceEndpointSyncs,
    concurrentReplicasetSyncs: f['concurrent-replicaset-syncs'] ?? d.concurrentReplicasetSyncs,
    concurrentDeploymentSyncs: f['concurrent-deployment-syncs'] ?? d.concurrentDeploymentSyncs,
    concurrentNamespaceSyncs: f['concurrent-namespace-syncs'] ?? d.concurrentNamespaceSyncs,
    concurrentGCSyncs: f['concurrent-gc-syncs'] ?? d.concurrentGCSyncs,
    minResyncPeriodMs: f['min-resync-period'] ?? d.minResyncPeriodMs,
    clusterSigningCertFile: f['cluster-signing-cert-file'] || undefined,
    clusterSigningKeyFile: f['cluster-signing-key-file'] || undefined,
    clusterSigningDurationMs: f['cluster-signing-duration'] ?? d.clusterSigningDurationMs,
    securePort: f['secure-port'] ?? d.securePort,
    bindAddress: f['bind-address'] || d.bindAddress,
    tlsCertFile: f['tls-cert-file'] || undefined,
    tlsPrivateKeyFile: f['tls-private-key-file'] || undefined,
    clientCAFile: f['client-ca-file'] || undefined,
  });
}

/** Parses kube-controller-manager's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<ControllerManagerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}

/** Checks a config and freezes it; errors name the flag, as upstream's validation does. */
export function validate(c: ControllerManagerConfig): Readonly<ControllerManagerConfig> {
  const errs: string[] = [];
  for (const name of c.controllers) {
    if (name === '*') continue;
    const bare = name.startsWith('-') ? name.slice(1) : name;
    if (!KNOWN_CONTROLLERS.includes(resolveControllerName(bare))) errs.push(`"${bare}" is not in the list of known controllers`);
  }
  if (c.leaderElect && c.leaderElectLeaseDurationMs <= c.leaderElectRenewDeadlineMs) {
    errs.push('leaseDuration must be greater than renewDeadline');
  }
  if (c.leaderElect && c.leaderElectRenewDeadlineMs <= c.leaderElectRetryPeriodMs) {
    errs.push('renewDeadline must be greater than retryPeriod');
  }
  if (c.allocateNodeCIDRs && !c.clusterCIDR) errs.push('--cluster-cidr must be set when --allocate-node-cidrs is true');
  if (!(c.nodeCIDRMaskSize >= 1 && c.nodeCIDRMaskSize <= 32)) errs.push('--node-cidr-mask-size must be between 1 and 32');
  if (!(c.nodeMonitorPeriodMs > 0)) errs.push('--node-monitor-period must be positive');
  if (!(c.terminatedPodGCThreshold >= 0)) errs.push('--terminated-pod-gc-threshold must not be negative');
  for (const [k, v] of Object.entries(c)) if (k.startsWith('concurrent') && !(Number(v) >= 1)) errs.push(`--${k} must be at least 1`);
  if (c.securePort < 0 || c.securePort > 65535) errs.push(`--secure-port ${c.securePort} must be between 0 and 65535, inclusive. 0 for turning off secure port`);
  if (!!c.clusterSigningCertFile !== !!c.clusterSigningKeyFile) errs.push('cannot specify --cluster-signing-cert-file without --cluster-signing-key-file (and vice versa)');
  if (!!c.tlsCertFile !== !!c.tlsPrivateKeyFile) errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze({ ...c, controllers: Object.freeze([...c.controllers]) as string[] });
}
