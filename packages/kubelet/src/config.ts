// kubelet configuration (upstream: cmd/kubelet/app/options and KubeletConfiguration defaults): upstream's
// flags, defaults in one function, validated and frozen.
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';
import type { Taint } from 'kubernetes-types/core/v1';

export interface KubeletConfig {
  /** --kubeconfig: the node's credentials and the apiserver's address. */
  kubeconfig: string;
  /** --bootstrap-kubeconfig: a kubeconfig (bootstrap token) used to get a client certificate when --kubeconfig has no valid one. */
  bootstrapKubeconfig: string;
  /** --cert-dir: where the bootstrapped client certificate goes (default <root-dir>/pki). */
  certDir: string;
  /** --rotate-certificates: renew the client certificate in --cert-dir before it expires. */
  rotateCertificates: boolean;
  /** --hostname-override, else the host name (lowercased): the Node's name. */
  nodeName: string;
  /** --node-ip, else the first non-loopback IPv4 address. */
  nodeIP: string;
  /** --container-runtime-endpoint: the CRI socket (a path or unix://path). */
  containerRuntimeEndpoint: string;
  /** --root-dir. */
  rootDir: string;
  /** Where pod logs go (upstream's podLogsDir, a config-file field; here the Kubelab flag --kubelab-pod-logs-dir). */
  podLogsDir: string;
  /** --resolv-conf: the host resolver configuration for dnsPolicy Default. */
  resolvConf: string;
  clusterDNS: string[];
  clusterDomain: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: Taint[];
  maxPods: number;
  /** --port: the kubelet's HTTPS API (10250). */
  port: number;
  /** --address: the IP the API listens on (0.0.0.0). */
  address: string;
  /** --tls-cert-file, --tls-private-key-file: the API's serving certificate; self-signed in <root-dir>/pki when absent. */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** --client-ca-file: client certificates signed by it authenticate to the API. */
  clientCAFile: string;
  /** --authentication-token-webhook: bearer tokens are checked with a TokenReview. */
  authenticationTokenWebhook: boolean;
  /** --anonymous-auth: unauthenticated requests are system:anonymous (upstream's default true; Kubelab's false). */
  anonymousAuth: boolean;
  /** --authorization-mode: AlwaysAllow or Webhook (a SubjectAccessReview per request). */
  authorizationMode: 'AlwaysAllow' | 'Webhook';
  healthzPort: number;
  healthzBindAddress: string;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  /** --cgroup-root: pods' cgroups go below <cgroup-root>/kubepods. */
  cgroupRoot: string;
  runtimeRequestTimeoutMs: number;
  /** How often the runtime is relisted for container state changes (upstream PLEG's relist period, 1 s). */
  relistPeriodMs: number;
  /** --sync-frequency: how often each pod is synced without a change (1 m). */
  syncFrequencyMs: number;
  /** --pod-manifest-path (KubeletConfiguration staticPodPath): a directory (or file) of static Pod manifests; '' for none. */
  staticPodPath: string;
  /** --kubelab-hollow: run over the hollow runtime (kubemark's --morph=kubelet); nothing of the host is used. */
  hollow: boolean;
}

/** The first non-internal IPv4 address of this host (upstream picks the default route's). */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function defaults(): Omit<KubeletConfig, 'kubeconfig' | 'nodeName' | 'nodeIP'> {
  return {
    bootstrapKubeconfig: '',
    certDir: '',
    rotateCertificates: false,
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    rootDir: '/var/lib/kubelet',
    podLogsDir: '/var/log/pods',
    resolvConf: '/etc/resolv.conf',
    clusterDNS: [],
    clusterDomain: '',
    nodeLabels: {},
    registerWithTaints: [],
    maxPods: 110,
    port: 10250,
    address: '0.0.0.0',
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    clientCAFile: '',
    authenticationTokenWebhook: false,
    anonymousAuth: false,
    authorizationMode: 'AlwaysAllow',
    healthzPort: 10248,
    healthzBindAddress: '127.0.0.1',
    nodeStatusUpdateFrequencyMs: 10_000,
    nodeStatusReportFrequencyMs: 5 * 60_000,
    nodeLeaseDurationSeconds: 40,
    cgroupRoot: '',
    runtimeRequestTimeoutMs: 2 * 60_000,
    relistPeriodMs: 1000,
    syncFrequencyMs: 60_000,
    staticPodPath: '',
    hollow: false,
  };
}

/** `key1=value1,key2=value2` (upstream's mapStringString flag). */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`invalid argument "${s}" for "--node-labels" flag: ${part} must be formatted as key=value`);
    Object.defineProperty(out, part.slice(0, eq), { value: part.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** `key=value:Effect` or `key:Effect` (upstream's taint spec syntax). */
export function parseTaint(spec: string): Taint {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) throw new Error(`invalid taint spec: ${spec}`);
  const effect = spec.slice(colon + 1);
  if (!EFFECTS.has(effect)) throw new Error(`invalid taint effect: ${effect}, unsupported taint effect`);
  const kv = spec.slice(0, colon);
  const eq = kv.indexOf('=');
  const key = eq >= 0 ? kv.slice(0, eq) : kv;
  if (!key) throw new Error(`invalid taint spec: ${spec}`);
  return eq >= 0 ? { key, value: kv.slice(eq + 1), effect } : { key, effect };
}

/** Checks a config and freezes it; errors name the flag. */
export function validate(c: KubeletConfig): Readonly<KubeletConfig> {
  const errs: string[] = [];
  if (!c.kubeconfig) errs.push('--kubeconfig is required: the kubelet runs against an apiserver only');
  const port = (name: string, v: number, zeroOk: boolean) => {
    const flag = name.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
    const min = zeroOk ? 0 : 1;
    if (!Number.isInteger(v) || v < min || v > 65535) errs.push(`invalid configuration: ${name} (--${flag}) ${v} must be between ${min} and 65535, inclusive`);
  };
  port('port', c.port, false);
  port('healthzPort', c.healthzPort, true);
  if (!!c.tlsCertFile !== !!c.tlsPrivateKeyFile) errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  if (c.authorizationMode !== 'AlwaysAllow' && c.authorizationMode !== 'Webhook') {
    errs.push(`invalid configuration: authorization.mode (--authorization-mode) ${JSON.stringify(c.authorizationMode)}: must be AlwaysAllow or Webhook`);
  }
  if (c.maxPods < 0) errs.push(`invalid configuration: maxPods (--max-pods) ${c.maxPods} must not be a negative number`);
  if (c.nodeStatusUpdateFrequencyMs <= 0) errs.push('invalid configuration: nodeStatusUpdateFrequency (--node-status-update-frequency) must be greater than 0');
  if (c.nodeStatusReportFrequencyMs <= 0) errs.push('invalid configuration: nodeStatusReportFrequency (--node-status-report-frequency) must be greater than 0');
  if (c.nodeLeaseDurationSeconds <= 0) errs.push('invalid configuration: nodeLeaseDurationSeconds (--node-lease-duration-seconds) must be greater than 0');
  if (c.runtimeRequestTimeoutMs <= 0) errs.push('invalid configuration: runtimeRequestTimeout (--runtime-request-timeout) must be greater than 0');
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze(c);
}

/** Upstream's flags with their types (pflag syntax), plus Kubelab's own (named so). */
export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to a kubeconfig file, specifying how to connect to the API server.' },
  'bootstrap-kubeconfig': {
    kind: 'string',
    usage:
      'Path to a kubeconfig file that will be used to get client certificate for kubelet. If the file specified by --kubeconfig does not exist, the bootstrap kubeconfig is used to request a client certificate from the API server. On success, a kubeconfig file referencing the generated client certificate and key is written to the path specified by --kubeconfig. The client certificate and key file will be stored in the directory pointed by --cert-dir.',
  },
  'cert-dir': { kind: 'string', usage: 'The directory where the TLS certs are located. (default <root-dir>/pki)' },
  'rotate-certificates': {
    kind: 'bool',
    usage: 'Auto rotate the kubelet client certificates by requesting new certificates from the kube-apiserver when the certificate expiration approaches.',
  },
  'hostname-override': { kind: 'string', usage: 'If non-empty, will use this string as identification instead of the actual hostname.' },
  'node-ip': { kind: 'string', usage: 'IP address of the node. If set, kubelet will use this IP address for the node.' },
  'container-runtime-endpoint': { kind: 'string', usage: 'The endpoint of the remote runtime service (unix socket path or unix:// URL).' },
  'root-dir': { kind: 'string', usage: 'Directory path for managing kubelet files.' },
  'kubelab-pod-logs-dir': { kind: 'string', usage: "Kubelab's: the pod logs root (upstream's podLogsDir config field, default /var/log/pods)." },
  'resolv-conf': { kind: 'string', usage: 'Resolver configuration file used as the basis for the container DNS resolution configuration.' },
  'cluster-dns': { kind: 'stringSlice', usage: 'Comma-separated list of DNS server IP address.' },
  'cluster-domain': { kind: 'string', usage: 'Domain for this cluster.' },
  'node-labels': { kind: 'string', usage: 'Labels to add when registering the node in the cluster (key=value pairs separated by commas).' },
  'register-with-taints': { kind: 'stringSlice', usage: 'Register the node with the given list of taints (comma separated "<key>=<value>:<effect>").' },
  'max-pods': { kind: 'int32', usage: 'Number of Pods that can run on this Kubelet.' },
  port: { kind: 'int32', usage: 'The port for the Kubelet to serve on.' },
  address: { kind: 'string', usage: 'The IP address for the Kubelet to serve on (set to 0.0.0.0 or :: for listening on all interfaces and IP address families).' },
  'tls-cert-file': { kind: 'string', usage: 'File containing x509 Certificate used for serving HTTPS. If not provided, a self-signed certificate and key are generated in --root-dir/pki.' },
  'tls-private-key-file': { kind: 'string', usage: 'File containing x509 private key matching --tls-cert-file.' },
  'client-ca-file': { kind: 'string', usage: 'If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.' },
  'authentication-token-webhook': { kind: 'bool', usage: 'Use the TokenReview API to determine authentication for bearer tokens.' },
  'anonymous-auth': { kind: 'bool', usage: "Enables anonymous requests to the Kubelet server. Requests that are not rejected by another authentication method are treated as anonymous requests (Kubelab's default: false)." },
  'authorization-mode': { kind: 'string', usage: 'Authorization mode for Kubelet server. Valid options are AlwaysAllow or Webhook. Webhook mode uses the SubjectAccessReview API to determine authorization.' },
  'healthz-port': { kind: 'int32', usage: 'The port of the localhost healthz endpoint (set to 0 to disable).' },
  'healthz-bind-address': { kind: 'string', usage: 'The IP address for the healthz server to serve on.' },
  'node-status-update-frequency': { kind: 'duration', usage: 'Specifies how often kubelet computes node status.' },
  'node-status-report-frequency': { kind: 'duration', usage: 'How often kubelet posts node status to master if node status does not change.' },
  'node-lease-duration-seconds': { kind: 'int32', usage: 'The duration the Kubelet will set on its corresponding Lease.' },
  'cgroup-root': { kind: 'string', usage: 'Optional root cgroup to use for pods.' },
  'runtime-request-timeout': { kind: 'duration', usage: 'Timeout of all runtime requests except long running requests.' },
  'sync-frequency': { kind: 'duration', usage: 'Max period between synchronizing running containers and config.' },
  'pod-manifest-path': { kind: 'string', usage: 'Path to the directory containing static pod files to run, or the path to a single static pod file. Files starting with dots will be ignored.' },
  'kubelab-hollow': {
    kind: 'bool',
    usage: "Kubelab's: a hollow node, as kubemark's --morph=kubelet: pods pretend to run (no container runtime, cgroups, CNI, volumes or HTTPS API); for scale tests.",
  },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<KubeletConfig> {
  const d = defaults();
  return validate({
    ...d,
    kubeconfig: f.kubeconfig ?? '',
    bootstrapKubeconfig: f['bootstrap-kubeconfig'] ?? d.bootstrapKubeconfig,
    certDir: f['cert-dir'] || join(f['root-dir'] || d.rootDir, 'pki'),
    rotateCertificates: f['rotate-certificates'] ?? d.rotateCertificates,
    nodeName: (f['hostname-override'] || hostname()).toLowerCase().trim(),
    nodeIP: f['node-ip'] || defaultNodeIP(),
    containerRuntimeEndpoint: f['container-runtime-endpoint'] || d.containerRuntimeEndpoint,
    rootDir: f['root-dir'] || d.rootDir,
    podLogsDir: f['kubelab-pod-logs-dir'] || d.podLogsDir,
    resolvConf: f['resolv-conf'] ?? d.resolvConf,
    clusterDNS: (f['cluster-dns'] ?? []).filter(Boolean),
    clusterDomain: f['cluster-domain'] ?? d.clusterDomain,
    nodeLabels: f['node-labels'] ? parseLabels(f['node-labels']) : {},
    registerWithTaints: (f['register-with-taints'] ?? []).filter(Boolean).map(parseTaint),
    maxPods: f['max-pods'] ?? d.maxPods,
    port: f.port ?? d.port,
    address: f.address || d.address,
    tlsCertFile: f['tls-cert-file'] ?? d.tlsCertFile,
    tlsPrivateKeyFile: f['tls-private-key-file'] ?? d.tlsPrivateKeyFile,
    clientCAFile: f['client-ca-file'] ?? d.clientCAFile,
    authenticationTokenWebhook: f['authentication-token-webhook'] ?? d.authenticationTokenWebhook,
    anonymousAuth: f['anonymous-auth'] ?? d.anonymousAuth,
    authorizationMode: (f['authorization-mode'] || d.authorizationMode) as KubeletConfig['authorizationMode'],
    healthzPort: f['healthz-port'] ?? d.healthzPort,
    healthzBindAddress: f['healthz-bind-address'] || d.healthzBindAddress,
    nodeStatusUpdateFrequencyMs: f['node-status-update-frequency'] ?? d.nodeStatusUpdateFrequencyMs,
    nodeStatusReportFrequencyMs: f['node-status-report-frequency'] ?? d.nodeStatusReportFrequencyMs,
    nodeLeaseDurationSeconds: f['node-lease-duration-seconds'] ?? d.nodeLeaseDurationSeconds,
    cgroupRoot: f['cgroup-root'] ?? d.cgroupRoot,
    runtimeRequestTimeoutMs: f['runtime-request-timeout'] ?? d.runtimeRequestTimeoutMs,
    syncFrequencyMs: f['sync-frequency'] ?? d.syncFrequencyMs,
    staticPodPath: f['pod-manifest-path'] ?? d.staticPodPath,
    hollow: f['kubelab-hollow'] ?? d.hollow,
  });
}

/** Parses the kubelet's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<KubeletConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}
