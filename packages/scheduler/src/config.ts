// kube-scheduler configuration: upstream's flags, defaults in one function, validated and frozen.
import { hostname } from 'node:os';
import { parseDuration, parseFlags } from '@kubelab/component-base';
import { defaultProfile, type Profile } from './plugins/registry.js';

export interface SchedulerConfig {
  kubeconfig?: string;
  /** Serve /metrics and /healthz here; port 0 picks a free port, -1 disables serving. */
  bindAddress: string;
  securePort: number;
  /** Serve plain http instead of https with a self-signed certificate (until authn lands). */
  insecureServing: boolean;
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
    insecureServing: false,
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

export function validate(c: SchedulerConfig): string[] {
  const errs: string[] = [];
  if (c.securePort < -1 || c.securePort > 65535) errs.push(`--secure-port ${c.securePort} must be between 0 and 65535, inclusive. 0 for turning off secure port`);
  if (c.leaderElect && c.leaderElectLeaseDurationMs <= c.leaderElectRenewDeadlineMs) errs.push('leaseDuration must be greater than renewDeadline');
  if (c.podInitialBackoffMs <= 0) errs.push('podInitialBackoffSeconds must be greater than 0');
  if (c.podMaxBackoffMs < c.podInitialBackoffMs) errs.push('podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds');
  const names = new Set<string>();
  for (const p of c.profiles) {
    if (names.has(p.schedulerName)) errs.push(`duplicate profile with scheduler name "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  if (!names.size) errs.push('at least one profile is required');
  return errs;
}

/** Fills defaults, validates and freezes. */
export function completeConfig(partial: Partial<SchedulerConfig>): Readonly<SchedulerConfig> {
  const c = { ...defaults(), ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as SchedulerConfig;
  const errs = validate(c);
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze(c);
}

const FLAGS = {
  kubeconfig: { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-resource-name': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
  'kube-api-qps': { type: 'string' },
  'kube-api-burst': { type: 'string' },
  'scheduler-name': { type: 'string' },
  'percentage-of-nodes-to-score': { type: 'string' },
  'insecure-serving': { type: 'boolean' },
} as const;

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`invalid boolean value "${v}"`);
}

/** Parses kube-scheduler's command line (`--leader-elect=false`, `--secure-port 10259`, ...). */
export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Readonly<SchedulerConfig> {
  // Go's pflag accepts a bare --leader-elect for true; node's parseArgs needs a value for string flags.
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a));
  const f = parseFlags(args, FLAGS as never) as Record<string, string | boolean | undefined>;
  const num = (k: string) => (f[k] === undefined ? undefined : Number(f[k]));
  const dur = (k: string) => (f[k] === undefined ? undefined : parseDuration(String(f[k])));
  const profile = defaultProfile((f['scheduler-name'] as string | undefined) ?? 'default-scheduler');
  const pct = num('percentage-of-nodes-to-score');
  if (pct !== undefined) profile.percentageOfNodesToScore = pct;
  return completeConfig({
    kubeconfig: (f.kubeconfig as string | undefined) ?? env.KUBECONFIG,
    bindAddress: f['bind-address'] as string | undefined,
    securePort: num('secure-port'),
    insecureServing: f['insecure-serving'] as boolean | undefined,
    leaderElect: bool(f['leader-elect'] as string | undefined),
    leaderElectLeaseDurationMs: dur('leader-elect-lease-duration'),
    leaderElectRenewDeadlineMs: dur('leader-elect-renew-deadline'),
    leaderElectRetryPeriodMs: dur('leader-elect-retry-period'),
    leaderElectResourceName: f['leader-elect-resource-name'] as string | undefined,
    leaderElectResourceNamespace: f['leader-elect-resource-namespace'] as string | undefined,
    kubeAPIQPS: num('kube-api-qps'),
    kubeAPIBurst: num('kube-api-burst'),
    profiles: [profile],
  });
}
