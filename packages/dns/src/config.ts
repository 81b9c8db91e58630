// The cluster DNS's configuration (CoreDNS's Corefile as kubeadm writes it, as flags): defaults in one
// function, validated once and frozen. Only this file reads flags.
import { isIP } from 'node:net';
import { isDNS1123Subdomain } from '@kubelab/api';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';

export type PodMode = 'insecure' | 'verified' | 'disabled';

export interface DNSConfig {
  /** Else the pod's service account (in-cluster config). */
  kubeconfig?: string;
  /** `kubernetes cluster.local ...` */
  clusterDomain: string;
  /** `.:53` */
  dnsBindAddress: string;
  dnsPort: number;
  /** `health` (:8080 /health), `ready` (:8181 /ready), `prometheus :9153`; they listen on dnsBindAddress; 0 picks a free port. */
  healthPort: number;
  readyPort: number;
  metricsPort: number;
  /** `forward . /etc/resolv.conf` */
  resolvConf: string;
  /** `ttl 30` */
  ttl: number;
  /** `pods insecure` */
  podMode: PodMode;
  /** `cache 30`: the longest a forwarded answer is kept, in seconds (0 disables the cache). */
  cacheTTL: number;
  /** How long one upstream server gets before the next is tried, and the whole forward's deadline (CoreDNS: 2 s dial, 5 s). */
  forwardTimeoutMs: number;
  forwardDeadlineMs: number;
  /** `max_concurrent 1000`: forwarded queries in flight; beyond it queries are REFUSED. */
  forwardMaxConcurrent: number;
}

export function defaults(): DNSConfig {
  return {
    clusterDomain: 'cluster.local',
    dnsBindAddress: '0.0.0.0',
    dnsPort: 53,
    healthPort: 8080,
    readyPort: 8181,
    metricsPort: 9153,
    resolvConf: '/etc/resolv.conf',
    ttl: 30,
    podMode: 'insecure',
    cacheTTL: 30,
    forwardTimeoutMs: 2_000,
    forwardDeadlineMs: 5_000,
    forwardMaxConcurrent: 1000,
  };
}

export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to a kubeconfig file; without it the pod service account (in-cluster config) is used.' },
  'cluster-domain': { kind: 'string', usage: 'The cluster domain served (default "cluster.local").' },
  'dns-bind-address': { kind: 'string', usage: 'The IP address the DNS (UDP and TCP), health, ready and metrics servers listen on (default "0.0.0.0").' },
  'dns-port': { kind: 'int32', usage: 'The port for DNS over UDP and TCP (default 53).' },
  'health-port': { kind: 'int32', usage: 'The port of the liveness endpoint /health (default 8080).' },
  'ready-port': { kind: 'int32', usage: 'The port of the readiness endpoint /ready (default 8181).' },
  'metrics-port': { kind: 'int32', usage: 'The port of the Prometheus /metrics endpoint (default 9153).' },
  'resolv-conf': { kind: 'string', usage: 'The resolv.conf whose nameservers names outside the cluster are forwarded to (default "/etc/resolv.conf").' },
  ttl: { kind: 'int32', usage: 'The TTL of cluster answers, in seconds, 0 to 3600 (default 30).' },
  'pod-mode': { kind: 'string', usage: 'Pod records a-b-c-d.<ns>.pod.<zone>: insecure, verified or disabled (default "insecure").' },
  'cache-ttl': { kind: 'int32', usage: 'The longest a forwarded answer is cached, in seconds; 0 disables the cache (default 30).' },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<DNSConfig> {
  const d = defaults();
  return validate({
    ...d,
    kubeconfig: f.kubeconfig || undefined,
    clusterDomain: (f['cluster-domain'] ?? d.clusterDomain).replace(/\.$/, '').toLowerCase(),
    dnsBindAddress: f['dns-bind-address'] || d.dnsBindAddress,
    dnsPort: f['dns-port'] ?? d.dnsPort,
    healthPort: f['health-port'] ?? d.healthPort,
    readyPort: f['ready-port'] ?? d.readyPort,
    metricsPort: f['metrics-port'] ?? d.metricsPort,
    resolvConf: f['resolv-conf'] || d.resolvConf,
    ttl: f.ttl ?? d.ttl,
    podMode: (f['pod-mode'] ?? d.podMode) as PodMode,
    cacheTTL: f['cache-ttl'] ?? d.cacheTTL,
  });
}

/** Parses the command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<DNSConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}

/** Checks a config and freezes it; errors name the flag. */
export function validate(c: DNSConfig): Readonly<DNSConfig> {
  const errs: string[] = [];
  if (isDNS1123Subdomain(c.clusterDomain).length) errs.push(`--cluster-domain ${JSON.stringify(c.clusterDomain)} must be a DNS subdomain`);
  if (!isIP(c.dnsBindAddress)) errs.push(`--dns-bind-address ${JSON.stringify(c.dnsBindAddress)} must be an IP address`);
  const ports: Array<[string, number]> = [
    ['dns-port', c.dnsPort],
    ['health-port', c.healthPort],
    ['ready-port', c.readyPort],
    ['metrics-port', c.metricsPort],
  ];
  for (const [flag, p] of ports) if (!(Number.isInteger(p) && p >= 0 && p <= 65535)) errs.push(`--${flag} ${p} must be between 0 and 65535, inclusive`);
  if (c.dnsPort === 0) errs.push('--dns-port must not be 0');
  if (!(c.ttl >= 0 && c.ttl <= 3600)) errs.push(`--ttl ${c.ttl} must be between 0 and 3600`);
  if (!['insecure', 'verified', 'disabled'].includes(c.podMode)) errs.push(`--pod-mode ${JSON.stringify(c.podMode)} must be one of insecure, verified, disabled`);
  if (!(c.cacheTTL >= 0)) errs.push(`--cache-ttl ${c.cacheTTL} must not be negative`);
  if (!c.resolvConf) errs.push('--resolv-conf must not be empty');
  if (!(c.forwardTimeoutMs > 0 && c.forwardDeadlineMs >= c.forwardTimeoutMs)) errs.push('the forward deadline must be at least the per-server timeout');
  if (!(c.forwardMaxConcurrent >= 1)) errs.push('max_concurrent must be at least 1');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze({ ...c });
}
