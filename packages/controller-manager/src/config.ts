// kube-controller-manager configuration: upstream's flag names, defaults in one function, validated
// once and frozen. Only this file reads flags.
import { parseDuration, parseFlags } from '@kubelab/component-base';
import { KNOWN_CONTROLLERS, resolveControllerName } from './controllers.js';

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
  concurrentServiceaccountSyncs: number;
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
    concurrentServiceaccountSyncs: 5,
    concurrentGCSyncs: 20,
    minResyncPeriodMs: 12 * 3_600_000,
    clusterSigningDurationMs: 8760 * 3_600_000,
    securePort: 10257,
    bindAddress: '0.0.0.0',
  };
}

const FLAGS = {
  kubeconfig: { type: 'string' },
  master: { type: 'string' },
  controllers: { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-resource-name': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
  'root-ca-file': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'allocate-node-cidrs': { type: 'string' },
  'node-cidr-mask-size': { type: 'string' },
  'node-monitor-grace-period': { type: 'string' },
  'node-monitor-period': { type: 'string' },
  'terminated-pod-gc-threshold': { type: 'string' },
  'concurrent-endpoint-syncs': { type: 'string' },
  'concurrent-service-endpoint-syncs': { type: 'string' },
  'concurrent-replicaset-syncs': { type: 'string' },
  'concurrent-deployment-syncs': { type: 'string' },
  'concurrent-namespace-syncs': { type: 'string' },
  'concurrent-serviceaccount-token-syncs': { type: 'string' },
  'concurrent-gc-syncs': { type: 'string' },
  'min-resync-period': { type: 'string' },
  'cluster-signing-cert-file': { type: 'string' },
  'cluster-signing-key-file': { type: 'string' },
  'cluster-signing-duration': { type: 'string' },
  'secure-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  'client-ca-file': { type: 'string' },
} as const;

const BOOLEAN_FLAGS = ['leader-elect', 'allocate-node-cidrs'];

function parseBool(name: string, v: string): boolean {
  if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(v)) return true;
  if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(v)) return false;
  throw new Error(`invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function parseInt32(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new Error(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** Parses argv (bare boolean flags such as `--leader-elect` mean true, as pflag). */
export function configFromFlags(argv: string[]): Readonly<ControllerManagerConfig> {
  const args = argv.map((a) => (BOOLEAN_FLAGS.some((b) => a === `--${b}`) ? `${a}=true` : a));
  const f = parseFlags(args, FLAGS);
  const c = defaults();
  if (f.kubeconfig) c.kubeconfig = f.kubeconfig;
  if (f.master) c.master = f.master;
  if (f.controllers !== undefined) c.controllers = f.controllers.split(',').map((s) => s.trim()).filter(Boolean);
  if (f['leader-elect'] !== undefined) c.leaderElect = parseBool('leader-elect', f['leader-elect']);
  if (f['leader-elect-lease-duration']) c.leaderElectLeaseDurationMs = parseDuration(f['leader-elect-lease-duration']);
  if (f['leader-elect-renew-deadline']) c.leaderElectRenewDeadlineMs = parseDuration(f['leader-elect-renew-deadline']);
  if (f['leader-elect-retry-period']) c.leaderElectRetryPeriodMs = parseDuration(f['leader-elect-retry-period']);
  if (f['leader-elect-resource-name']) c.leaderElectResourceName = f['leader-elect-resource-name'];
  if (f['leader-elect-resource-namespace']) c.leaderElectResourceNamespace = f['leader-elect-resource-namespace'];
  if (f['root-ca-file']) c.rootCAFile = f['root-ca-file'];
  if (f['cluster-cidr']) c.clusterCIDR = f['cluster-cidr'];
  if (f['allocate-node-cidrs'] !== undefined) c.allocateNodeCIDRs = parseBool('allocate-node-cidrs', f['allocate-node-cidrs']);
  if (f['node-cidr-mask-size']) c.nodeCIDRMaskSize = parseInt32('node-cidr-mask-size', f['node-cidr-mask-size']);
  if (f['node-monitor-grace-period']) c.nodeMonitorGracePeriodMs = parseDuration(f['node-monitor-grace-period']);
  if (f['node-monitor-period']) c.nodeMonitorPeriodMs = parseDuration(f['node-monitor-period']);
  if (f['terminated-pod-gc-threshold']) c.terminatedPodGCThreshold = parseInt32('terminated-pod-gc-threshold', f['terminated-pod-gc-threshold']);
  if (f['concurrent-endpoint-syncs']) c.concurrentEndpointSyncs = parseInt32('concurrent-endpoint-syncs', f['concurrent-endpoint-syncs']);
  if (f['concurrent-service-endpoint-syncs']) c.concurrentServiceEndpointSyncs = parseInt32('concurrent-service-endpoint-syncs', f['concurrent-service-endpoint-syncs']);
  if (f['concurrent-replicaset-syncs']) c.concurrentReplicasetSyncs = parseInt32('concurrent-replicaset-syncs', f['concurrent-replicaset-syncs']);
  if (f['concurrent-deployment-syncs']) c.concurrentDeploymentSyncs = parseInt32('concurrent-deployment-syncs', f['concurrent-deployment-syncs']);
  if (f['concurrent-namespace-syncs']) c.concurrentNamespaceSyncs = parseInt32('concurrent-namespace-syncs', f['concurrent-namespace-syncs']);
  if (f['concurrent-serviceaccount-token-syncs']) c.concurrentServiceaccountSyncs = parseInt32('concurrent-serviceaccount-token-syncs', f['concurrent-serviceaccount-token-syncs']);
  if (f['concurrent-gc-syncs']) c.concurrentGCSyncs = parseInt32('concurrent-gc-syncs', f['concurrent-gc-syncs']);
  if (f['min-resync-period']) c.minResyncPeriodMs = parseDuration(f['min-resync-period']);
  if (f['cluster-signing-cert-file']) c.clusterSigningCertFile = f['cluster-signing-cert-file'];
  if (f['cluster-signing-key-file']) c.clusterSigningKeyFile = f['cluster-signing-key-file'];
  if (f['cluster-signing-duration']) c.clusterSigningDurationMs = parseDuration(f['cluster-signing-duration']);
  if (f['secure-port'] !== undefined) c.securePort = parseInt32('secure-port', f['secure-port']);
  if (f['bind-address']) c.bindAddress = f['bind-address'];
  if (f['tls-cert-file']) c.tlsCertFile = f['tls-cert-file'];
  if (f['tls-private-key-file']) c.tlsPrivateKeyFile = f['tls-private-key-file'];
  if (f['client-ca-file']) c.clientCAFile = f['client-ca-file'];
  return validate(c);
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
