// kube-controller-manager configuration: upstream's flag names, defaults in one function, validated
// once and frozen. Only this file reads flags.
import {
  LEADER_ELECTION_FLAGS,
  leaderElectionDefaults,
  leaderElectionFromFlags,
  parseFlagSet,
  SECURE_SERVING_FLAGS,
  secureServingFromFlags,
  validateLeaderElection,
  validateSecureServing,
  type FlagDefs,
  type LeaderElectionConfig,
  type ParsedFlags,
  type SecureServingConfig,
} from '@kubelab/component-base';
import { KNOWN_CONTROLLERS, resolveControllerName } from './controller-names.js';

/** kube-controller-manager's configuration: its secure port and leader election as every component's, then its own. */
export interface ControllerManagerConfig extends SecureServingConfig, LeaderElectionConfig {
  kubeconfig?: string;
  /** Overrides the kubeconfig's server. */
  master?: string;
  /**
   * --use-service-account-credentials: each controller uses a token of its own kube-system ServiceAccount
   * (CONTROLLER_SERVICE_ACCOUNTS) instead of the controller-manager's credentials.
   */
  useServiceAccountCredentials: boolean;
  /** Upstream's --controllers: `*`, `name`, `-name`. */
  controllers: string[];
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
  /** --concurrent-resource-quota-syncs (5), --resource-quota-sync-period (5m). */
  concurrentResourceQuotaSyncs: number;
  resourceQuotaSyncPeriodMs: number;
  /** Upstream's --min-resync-period (12h); informers resync within [1, 2) times this. */
  minResyncPeriodMs: number;
  /** The CA that signs CSRs of the kubernetes.io/* signers (--cluster-signing-cert-file / --cluster-signing-key-file). */
  clusterSigningCertFile?: string;
  clusterSigningKeyFile?: string;
  /** --cluster-signing-duration (8760h): the longest validity of a signed certificate. */
  clusterSigningDurationMs: number;
  /**
   * The HPA controller: --horizontal-pod-autoscaler-sync-period (15s), -downscale-stabilization (5m),
   * -tolerance (0.1), -cpu-initialization-period (5m), -initial-readiness-delay (30s).
   */
  hpaSyncPeriodMs: number;
  hpaDownscaleStabilizationMs: number;
  hpaTolerance: number;
  hpaCPUInitializationPeriodMs: number;
  hpaInitialReadinessDelayMs: number;
}

export function defaults(): ControllerManagerConfig {
  return {
    controllers: ['*'],
    useServiceAccountCredentials: false,
    ...leaderElectionDefaults('kube-controller-manager'),
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
    concurrentResourceQuotaSyncs: 5,
    resourceQuotaSyncPeriodMs: 5 * 60_000,
    minResyncPeriodMs: 12 * 3_600_000,
    clusterSigningDurationMs: 8760 * 3_600_000,
    hpaSyncPeriodMs: 15_000,
    hpaDownscaleStabilizationMs: 5 * 60_000,
    hpaTolerance: 0.1,
    hpaCPUInitializationPeriodMs: 5 * 60_000,
    hpaInitialReadinessDelayMs: 30_000,
    securePort: 10257,
    bindAddress: '0.0.0.0',
  };
}

/** Upstream's flags, with their types (pflag syntax: `--leader-elect`, `--leader-elect=false`, `--x value`). */
export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to kubeconfig file with authorization and master location information.' },
  master: { kind: 'string', usage: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  ...SECURE_SERVING_FLAGS,
  ...LEADER_ELECTION_FLAGS,
  'use-service-account-credentials': { kind: 'bool', usage: 'If true, use individual service account credentials for each controller.' },
  controllers: { kind: 'stringSlice', usage: "A list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables foo, '-foo' disables foo." },
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
  'concurrent-resource-quota-syncs': { kind: 'int32', usage: 'The number of resource quotas that are allowed to sync concurrently. Larger number = more responsive quota management, but more CPU (and network) load' },
  'resource-quota-sync-period': { kind: 'duration', usage: 'The period for syncing quota usage status in the system' },
  'min-resync-period': { kind: 'duration', usage: 'The resync period in reflectors will be random between MinResyncPeriod and 2*MinResyncPeriod.' },
  'cluster-signing-cert-file': { kind: 'string' },
  'cluster-signing-key-file': { kind: 'string' },
  'cluster-signing-duration': { kind: 'duration' },
  'horizontal-pod-autoscaler-sync-period': { kind: 'duration', usage: 'The period for syncing the number of pods in horizontal pod autoscaler.' },
  'horizontal-pod-autoscaler-downscale-stabilization': { kind: 'duration', usage: 'The period for which autoscaler will look backwards and not scale down below any recommendation it made during that period.' },
  'horizontal-pod-autoscaler-tolerance': { kind: 'float', usage: 'The minimum change (from 1.0) in the desired-to-actual metrics ratio for the horizontal pod autoscaler to consider scaling.' },
  'horizontal-pod-autoscaler-cpu-initialization-period': { kind: 'duration', usage: 'The period after pod start when CPU samples might be skipped.' },
  'horizontal-pod-autoscaler-initial-readiness-delay': { kind: 'duration', usage: 'The period after pod start during which readiness changes will be treated as initial readiness.' },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<ControllerManagerConfig> {
  const d = defaults();
  return validate({
    kubeconfig: f.kubeconfig || undefined,
    master: f.master,
    controllers: f.controllers?.filter(Boolean) ?? d.controllers,
    useServiceAccountCredentials: f['use-service-account-credentials'] ?? d.useServiceAccountCredentials,
    ...leaderElectionFromFlags(f, d),
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
    concurrentResourceQuotaSyncs: f['concurrent-resource-quota-syncs'] ?? d.concurrentResourceQuotaSyncs,
    resourceQuotaSyncPeriodMs: f['resource-quota-sync-period'] ?? d.resourceQuotaSyncPeriodMs,
    minResyncPeriodMs: f['min-resync-period'] ?? d.minResyncPeriodMs,
    clusterSigningCertFile: f['cluster-signing-cert-file'] || undefined,
    clusterSigningKeyFile: f['cluster-signing-key-file'] || undefined,
    clusterSigningDurationMs: f['cluster-signing-duration'] ?? d.clusterSigningDurationMs,
    hpaSyncPeriodMs: f['horizontal-pod-autoscaler-sync-period'] ?? d.hpaSyncPeriodMs,
    hpaDownscaleStabilizationMs: f['horizontal-pod-autoscaler-downscale-stabilization'] ?? d.hpaDownscaleStabilizationMs,
    hpaTolerance: f['horizontal-pod-autoscaler-tolerance'] ?? d.hpaTolerance,
    hpaCPUInitializationPeriodMs: f['horizontal-pod-autoscaler-cpu-initialization-period'] ?? d.hpaCPUInitializationPeriodMs,
    hpaInitialReadinessDelayMs: f['horizontal-pod-autoscaler-initial-readiness-delay'] ?? d.hpaInitialReadinessDelayMs,
    ...secureServingFromFlags(f, d),
  });
}

/** Parses kube-controller-manager's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<ControllerManagerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}

/** Checks a config and freezes it; errors name the flag, as upstream's validation does. */
export function validate(c: ControllerManagerConfig): Readonly<ControllerManagerConfig> {
  const errs: string[] = [...validateSecureServing(c), ...validateLeaderElection(c)];
  for (const name of c.controllers) {
    if (name === '*') continue;
    const bare = name.startsWith('-') ? name.slice(1) : name;
    if (!KNOWN_CONTROLLERS.includes(resolveControllerName(bare))) errs.push(`"${bare}" is not in the list of known controllers`);
  }
  if (c.allocateNodeCIDRs && !c.clusterCIDR) errs.push('--cluster-cidr must be set when --allocate-node-cidrs is true');
  if (!(c.nodeCIDRMaskSize >= 1 && c.nodeCIDRMaskSize <= 32)) errs.push('--node-cidr-mask-size must be between 1 and 32');
  if (!(c.nodeMonitorPeriodMs > 0)) errs.push('--node-monitor-period must be positive');
  if (!(c.resourceQuotaSyncPeriodMs > 0)) errs.push('--resource-quota-sync-period must be positive');
  if (!(c.hpaSyncPeriodMs > 0)) errs.push('--horizontal-pod-autoscaler-sync-period must be positive');
  if (!(c.terminatedPodGCThreshold >= 0)) errs.push('--terminated-pod-gc-threshold must not be negative');
  for (const [k, v] of Object.entries(c)) if (k.startsWith('concurrent') && !(Number(v) >= 1)) errs.push(`--${k} must be at least 1`);
  if (!!c.clusterSigningCertFile !== !!c.clusterSigningKeyFile) errs.push('cannot specify --cluster-signing-cert-file without --cluster-signing-key-file (and vice versa)');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze({ ...c, controllers: Object.freeze([...c.controllers]) as string[] });
}
