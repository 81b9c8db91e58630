// kube-scheduler configuration: upstream's flags, defaults in one function, validated and frozen.
import { hostname } from 'node:os';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';
import { defaultProfile, type Profile } from './plugins/registry.js';

export interface SchedulerConfig {
  kubeconfig?: string;
  /** HTTPS serving of /healthz, /livez, /readyz and /metrics: --bind-address, --secure-port (0 turns it off), --tls-*-file, --client-ca-file. */
  bindAddress: string;
  securePort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  leaderElect: boolean;
  leaderElectLeaseDurationMs: number;
  leaderElectRenewDeadlineMs: number;
  leaderElectRetryPeriodMs: number;
  leaderElectResourceName: string;
  leaderElectResourceNamespace: string;
  identity: string;
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  profiles: Profile[];
  podInitialBackoffMs: number;
  podMaxBackoffMs: number;
  /** Annotate pods that ask for it (scheduler.kubelab.io/explain: "true") with the decision record. */
  decisionRecords: boolean;
}

export function defaults(): SchedulerConfig {
  return {
    bindAddress: '0.0.0.0',
    securePort: 10259,
    leaderElect: true,
    leaderElectLeaseDurationMs: 15_000,
    leaderElectRenewDeadlineMs: 10_000,
    leaderElectRetryPeriodMs: 2_000,
    leaderElectResourceName: 'kube-scheduler',
    leaderElectResourceNamespace: 'kube-system',
    identity: `${hostname()}_${crypto.randomUUID()}`,
    kubeAPIQPS: 50,
    kubeAPIBurst: 100,
    profiles: [defaultProfile()],
    podInitialBackoffMs: 1000,
    podMaxBackoffMs: 10_000,
    decisionRecords: true,
  };
}

/** Checks a config and freezes it; errors name the flag, as upstream's validation does. */
export function validate(c: SchedulerConfig): Readonly<SchedulerConfig> {
  const errs: string[] = [];
  if (!Number.isInteger(c.securePort) || c.securePort < 0 || c.securePort > 65535) errs.push(`--secure-port ${c.securePort} must be between 0 and 65535, inclusive. 0 for turning off secure port`);
  if (c.leaderElect && c.leaderElectLeaseDurationMs <= c.leaderElectRenewDeadlineMs) errs.push('leaseDuration must be greater than renewDeadline');
  if (c.podInitialBackoffMs <= 0) errs.push('podInitialBackoffSeconds must be greater than 0');
  if (c.podMaxBackoffMs < c.podInitialBackoffMs) errs.push('podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds');
  const names = new Set<string>();
  for (const p of c.profiles) {
    if (names.has(p.schedulerName)) errs.push(`duplicate profile with scheduler name "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  if (!names.size) errs.push('at least one profile is required');
  if (!!c.tlsCertFile !== !!c.tlsPrivateKeyFile) errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze(c);
}

/** Upstream's flags with their types (pflag syntax). */
export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to kubeconfig file with authorization and master location information.' },
  'bind-address': { kind: 'string' },
  'secure-port': { kind: 'int32', usage: "The port on which to serve HTTPS with authentication and authorization. If 0, don't serve HTTPS at all." },
  'tls-cert-file': { kind: 'string' },
  'tls-private-key-file': { kind: 'string' },
  'client-ca-file': { kind: 'string' },
  'leader-elect': { kind: 'bool', usage: 'Start a leader election client and gain leadership before executing the main loop.' },
  'leader-elect-lease-duration': { kind: 'duration' },
  'leader-elect-renew-deadline': { kind: 'duration' },
  'leader-elect-retry-period': { kind: 'duration' },
  'leader-elect-resource-name': { kind: 'string' },
  'leader-elect-resource-namespace': { kind: 'string' },
  'kube-api-qps': { kind: 'float' },
  'kube-api-burst': { kind: 'int32' },
  'scheduler-name': { kind: 'string' },
  'percentage-of-nodes-to-score': { kind: 'int32' },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<SchedulerConfig> {
  const d = defaults();
  const profile = defaultProfile(f['scheduler-name'] || 'default-scheduler');
  if (f['percentage-of-nodes-to-score'] !== undefined) profile.percentageOfNodesToScore = f['percentage-of-nodes-to-score'];
  return validate({
    ...d,
    kubeconfig: f.kubeconfig || undefined,
    bindAddress: f['bind-address'] || d.bindAddress,
    securePort: f['secure-port'] ?? d.securePort,
    tlsCertFile: f['tls-cert-file'] || undefined,
    tlsPrivateKeyFile: f['tls-private-key-file'] || undefined,
    clientCAFile: f['client-ca-file'] || undefined,
    leaderElect: f['leader-elect'] ?? d.leaderElect,
    leaderElectLeaseDurationMs: f['leader-elect-lease-duration'] ?? d.leaderElectLeaseDurationMs,
    leaderElectRenewDeadlineMs: f['leader-elect-renew-deadline'] ?? d.leaderElectRenewDeadlineMs,
    leaderElectRetryPeriodMs: f['leader-elect-retry-period'] ?? d.leaderElectRetryPeriodMs,
    leaderElectResourceName: f['leader-elect-resource-name'] || d.leaderElectResourceName,
    leaderElectResourceNamespace: f['leader-elect-resource-namespace'] || d.leaderElectResourceNamespace,
    kubeAPIQPS: f['kube-api-qps'] ?? d.kubeAPIQPS,
    kubeAPIBurst: f['kube-api-burst'] ?? d.kubeAPIBurst,
    profiles: [profile],
  });
}

/** Parses kube-scheduler's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<SchedulerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}
