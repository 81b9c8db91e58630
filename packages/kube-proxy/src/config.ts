// kube-proxy configuration (upstream's cmd/kube-proxy/app/options.go and
// pkg/proxy/apis/config/validation): upstream's flag names, defaults in one function, validated
// once and frozen. Only this file reads flags.
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';

export interface KubeProxyConfig {
  kubeconfig?: string;
  master?: string;
  /** The node this proxy runs on (--hostname-override, else the host name), lower-cased. */
  hostnameOverride: string;
  clusterCIDR?: string;
  /** --nodeport-addresses: CIDRs (or "primary"); empty: every local address. */
  nodePortAddresses: string[];
  iptablesMinSyncPeriodMs: number;
  iptablesSyncPeriodMs: number;
  masqueradeAll: boolean;
  masqueradeBit: number;
  localhostNodePorts: boolean;
  /** host:port for /metrics ("" turns it off). */
  metricsBindAddress: string;
  /** host:port for /healthz and /livez ("" turns it off). */
  healthzBindAddress: string;
  proxyMode: 'iptables';
  /** --config-sync-period: informer resync. */
  configSyncPeriodMs: number;
}

export function defaults(): KubeProxyConfig {
  return {
    hostnameOverride: hostname().toLowerCase(),
    nodePortAddresses: [],
    iptablesMinSyncPeriodMs: 1_000,
    iptablesSyncPeriodMs: 30_000,
    masqueradeAll: false,
    masqueradeBit: 14,
    localhostNodePorts: true,
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '0.0.0.0:10256',
    proxyMode: 'iptables',
    configSyncPeriodMs: 15 * 60_000,
  };
}

export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to kubeconfig file with authorization information (the master location can be overridden by the master flag).' },
  master: { kind: 'string', usage: 'The address of the Kubernetes API server (overrides any value in kubeconfig)' },
  'hostname-override': { kind: 'string', usage: 'If non-empty, will be used as the name of the Node that kube-proxy is running on.' },
  'cluster-cidr': { kind: 'string', usage: 'The CIDR range of the pods in the cluster. Traffic to a service ClusterIP from outside this range is masqueraded.' },
  'nodeport-addresses': { kind: 'stringSlice', usage: 'A list of CIDR ranges that contain valid node IPs, or alternatively, the single string \'primary\'.' },
  'iptables-min-sync-period': { kind: 'duration', usage: 'The minimum period between iptables rule resyncs (e.g. \'5s\', \'1m\', \'2h22m\').' },
  'iptables-sync-period': { kind: 'duration', usage: 'An interval (e.g. \'5s\', \'1m\', \'2h22m\') indicating how frequently various re-synchronizing and cleanup operations are performed. Must be greater than 0.' },
  'masquerade-all': { kind: 'bool', usage: 'SNAT all traffic sent via Service cluster IPs.' },
  'iptables-masquerade-bit': { kind: 'int32', usage: 'The bit of the fwmark space to mark packets requiring SNAT with. Must be within the range [0, 31].' },
  'iptables-localhost-nodeports': { kind: 'bool', usage: 'If false, kube-proxy will disable the legacy behavior of allowing NodePort services to be accessed via localhost.' },
  'metrics-bind-address': { kind: 'string', usage: "The IP address and port for the metrics server to serve on (set to '0.0.0.0:10249' for all IPv4 interfaces)." },
  'healthz-bind-address': { kind: 'string', usage: "The IP address and port for the health check server to serve on (set to '0.0.0.0:10256' for all IPv4 interfaces)." },
  'proxy-mode': { kind: 'string', usage: "Which proxy mode to use: only 'iptables' is supported." },
  'config-sync-period': { kind: 'duration', usage: 'How often configuration from the apiserver is refreshed.  Must be greater than 0.' },
} as const satisfies FlagDefs;

export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<KubeProxyConfig> {
  const d = defaults();
  const mode = f['proxy-mode'] || d.proxyMode;
  if (mode !== 'iptables') throw new Error(`KubeProxyConfiguration.Mode: Unsupported value: "${mode}": supported values: "iptables"`);
  return validate({
    kubeconfig: f.kubeconfig || undefined,
    master: f.master || undefined,
    hostnameOverride: (f['hostname-override'] || d.hostnameOverride).trim().toLowerCase(),
    clusterCIDR: f['cluster-cidr'] || undefined,
    nodePortAddresses: (f['nodeport-addresses'] ?? d.nodePortAddresses).filter(Boolean),
    iptablesMinSyncPeriodMs: f['iptables-min-sync-period'] ?? d.iptablesMinSyncPeriodMs,
    iptablesSyncPeriodMs: f['iptables-sync-period'] ?? d.iptablesSyncPeriodMs,
    masqueradeAll: f['masquerade-all'] ?? d.masqueradeAll,
    masqueradeBit: f['iptables-masquerade-bit'] ?? d.masqueradeBit,
    localhostNodePorts: f['iptables-localhost-nodeports'] ?? d.localhostNodePorts,
    metricsBindAddress: f['metrics-bind-address'] ?? d.metricsBindAddress,
    healthzBindAddress: f['healthz-bind-address'] ?? d.healthzBindAddress,
    proxyMode: 'iptables',
    configSyncPeriodMs: f['config-sync-period'] ?? d.configSyncPeriodMs,
  });
}

export function configFromFlags(argv: readonly string[]): Readonly<KubeProxyConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}

/** Splits "host:port" (IPv4 or a name; "" host means all). */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const i = addr.lastIndexOf(':');
  if (i < 0) return undefined;
  const port = Number(addr.slice(i + 1));
  if (!/^\d+$/.test(addr.slice(i + 1)) || port > 65535) return undefined;
  return { host: addr.slice(0, i), port };
}

function isCIDR(s: string): boolean {
  const [ip, bits, extra] = s.split('/');
  return extra === undefined && isIP(ip ?? '') !== 0 && /^\d+$/.test(bits ?? '') && Number(bits) <= (isIP(ip!) === 4 ? 32 : 128);
}

/** Upstream's validation, with its field paths in the messages. */
export function validate(c: KubeProxyConfig): Readonly<KubeProxyConfig> {
  const errs: string[] = [];
  if (!c.hostnameOverride) errs.push('KubeProxyConfiguration.HostnameOverride: Invalid value: "": must not be empty');
  if (!(c.iptablesSyncPeriodMs > 0)) errs.push(`KubeProxyIPTablesConfiguration.SyncPeriod: Invalid value: ${c.iptablesSyncPeriodMs}ms: must be greater than 0`);
  if (c.iptablesMinSyncPeriodMs < 0) errs.push(`KubeProxyIPTablesConfiguration.MinSyncPeriod: Invalid value: ${c.iptablesMinSyncPeriodMs}ms: must be greater than or equal to 0`);
  if (c.iptablesMinSyncPeriodMs > c.iptablesSyncPeriodMs) {
    errs.push(`KubeProxyIPTablesConfiguration.SyncPeriod: Invalid value: ${c.iptablesSyncPeriodMs}ms: must be greater than or equal to KubeProxyIPTablesConfiguration.MinSyncPeriod`);
  }
  if (c.masqueradeBit < 0 || c.masqueradeBit > 31) errs.push(`KubeProxyIPTablesConfiguration.MasqueradeBit: Invalid value: ${c.masqueradeBit}: must be within the range [0, 31]`);
  if (c.clusterCIDR && !isCIDR(c.clusterCIDR)) errs.push(`KubeProxyConfiguration.ClusterCIDR: Invalid value: "${c.clusterCIDR}": must be a valid CIDR block (e.g. 10.100.0.0/16)`);
  for (const a of c.nodePortAddresses) {
    if (a === 'primary' && c.nodePortAddresses.length === 1) continue;
    if (!isCIDR(a)) errs.push(`KubeProxyConfiguration.NodePortAddresses[0]: Invalid value: "${a}": must be a valid CIDR`);
  }
  for (const [field, v] of [
    ['MetricsBindAddress', c.metricsBindAddress],
    ['HealthzBindAddress', c.healthzBindAddress],
  ] as const) {
    if (v !== '' && !splitHostPort(v)) errs.push(`KubeProxyConfiguration.${field}: Invalid value: "${v}": must be IP:port`);
  }
  if (!(c.configSyncPeriodMs > 0)) errs.push(`KubeProxyConfiguration.ConfigSyncPeriod: Invalid value: ${c.configSyncPeriodMs}ms: must be greater than 0`);
  if (errs.length) throw new Error(errs.join(', '));
  return Object.freeze({ ...c, nodePortAddresses: Object.freeze([...c.nodePortAddresses]) as string[] });
}

/** Upstream's masquerade mark for a bit: 1 << bit in hex. */
export function masqueradeMark(bit: number): string {
  return `0x${(2 ** bit).toString(16)}`;
}
