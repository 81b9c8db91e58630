// kube-scheduler configuration: upstream's flags, defaults in one function, validated and frozen.
import {
  LEADER_ELECTION_FLAGS,
  leaderElectionDefaults,
  leaderElectionFromFlags,
  leaderElectionIdentity,
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
import { defaultProfile, type Profile } from './plugins/registry.js';

/** kube-scheduler's configuration: its secure port and leader election as every component's, then its own. */
export interface SchedulerConfig extends SecureServingConfig, LeaderElectionConfig {
  kubeconfig?: string;
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
    ...leaderElectionDefaults('kube-scheduler'),
    identity: leaderElectionIdentity(),
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
  const errs: string[] = [...validateSecureServing(c), ...validateLeaderElection(c)];
  if (c.podInitialBackoffMs <= 0) errs.push('podInitialBackoffSeconds must be greater than 0');
  if (c.podMaxBackoffMs < c.podInitialBackoffMs) errs.push('podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds');
  const names = new Set<string>();
  for (const p of c.profiles) {
    if (names.has(p.schedulerName)) errs.push(`duplicate profile with scheduler name "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  if (!names.size) errs.push('at least one profile is required');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze(c);
}

/** Upstream's flags with their types (pflag syntax). */
export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to kubeconfig file with authorization and master location information.' },
  ...SECURE_SERVING_FLAGS,
  ...LEADER_ELECTION_FLAGS,
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
    ...secureServingFromFlags(f, d),
    ...leaderElectionFromFlags(f, d),
    kubeAPIQPS: f['kube-api-qps'] ?? d.kubeAPIQPS,
    kubeAPIBurst: f['kube-api-burst'] ?? d.kubeAPIBurst,
    profiles: [profile],
  });
}

/** Parses kube-scheduler's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<SchedulerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}
