// Counterpart of pkg/kubelet/kuberuntime/kuberuntime_sandbox.go (generatePodSandboxConfig), with the DNS
// configurer of pkg/kubelet/network/dns/dns.go (GetPodDNS) and the hostname rules of kubelet_pods.go.
import type { Pod, PodDNSConfig } from 'kubernetes-types/core/v1';
import type { DNSConfig, NamespaceMode, PodSandboxConfig, PortMapping, Protocol } from '../cri/runtime-service.js';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';

/** The host's resolver configuration (/etc/resolv.conf, or --resolv-conf). */
export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface DNSOptions {
  /** --cluster-dns (e.g. ['10.96.0.10']). */
  clusterDNS: string[];
  /** --cluster-domain (e.g. 'cluster.local'). */
  clusterDomain: string;
  /** The node's resolv.conf, for dnsPolicy Default and the host's search path. */
  hostResolvConf: ResolvConf;
}

export interface SandboxConfigOptions extends DNSOptions {
  /** The pod's cgroup (e.g. /kubepods/burstable/pod<uid>). */
  cgroupParent?: string;
  /** The sandbox attempt (0 for the first sandbox of the pod). */
  attempt: number;
  /** Pod logs root (default /var/log/pods). */
  podLogsRootDirectory?: string;
}

const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;
const MAX_HOSTNAME = 63;

/** Parses resolv.conf text: nameserver, search/domain and options lines (the last search or domain wins). */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const fields = line.split(/\s+/).filter(Boolean);
    if (fields.length < 2) continue;
    const [key, ...rest] = fields;
    if (key === 'nameserver') conf.servers.push(rest[0]!);
    else if (key === 'search' || key === 'domain') conf.searches = rest.map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') conf.options.push(...rest);
  }
  return conf;
}

export function isHostNetworkPod(pod: Pod): boolean {
  return pod.spec?.hostNetwork === true;
}

/** The pod's log directory: <root>/<namespace>_<name>_<uid>. */
export function podLogDirectory(pod: Pod, root = '/var/log/pods'): string {
  return `${root}/${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`;
}

/** Hostname and domain as upstream GeneratePodHostNameAndDomain: spec.hostname or the pod name, cut to 63 chars. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || pod.metadata?.name || '';
  if (hostname.length > MAX_HOSTNAME) hostname = hostname.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  const domain = sub ? `${sub}.${pod.metadata?.namespace}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

function dedup(list: string[]): string[] {
  return [...new Set(list)];
}

/** Merges options by name, the later (the pod's) winning: `ndots:5` and `ndots:2` gives `ndots:2`. */
function mergeOptions(base: string[], pod: PodDNSConfig['options']): string[] {
  const out = new Map<string, string>();
  for (const o of base) out.set(o.split(':')[0]!, o);
  for (const o of pod ?? []) if (o.name) out.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  return [...out.values()];
}

function trimSearches(searches: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const s of searches) {
    if (out.length >= MAX_SEARCHES || chars + s.length + (out.length ? 1 : 0) > MAX_SEARCH_CHARS) break;
    chars += s.length + (out.length ? 1 : 0);
    out.push(s);
  }
  return out;
}

/** The pod's resolver configuration per dnsPolicy, as upstream Configurer.GetPodDNS. */
export function podDNSConfig(pod: Pod, opts: DNSOptions): DNSConfig {
  let policy = pod.spec?.dnsPolicy || 'ClusterFirst';
  // ClusterFirst on the host network means the host's DNS; so does ClusterFirst with no cluster DNS.
  if (policy === 'ClusterFirst' && isHostNetworkPod(pod)) policy = 'Default';
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && opts.clusterDNS.length === 0) policy = 'Default';
  let config: DNSConfig;
  switch (policy) {
    case 'None':
      config = { servers: [], searches: [], options: [] };
      break;
    case 'ClusterFirst':
    case 'ClusterFirstWithHostNet': {
      const ns = pod.metadata?.namespace ?? 'default';
      const d = opts.clusterDomain;
      const clusterSearches = d ? [`${ns}.svc.${d}`, `svc.${d}`, d] : [];
      config = { servers: [...opts.clusterDNS], searches: [...clusterSearches, ...opts.hostResolvConf.searches], options: ['ndots:5'] };
      break;
    }
    default:
      config = { servers: [...opts.hostResolvConf.servers], searches: [...opts.hostResolvConf.searches], options: [...opts.hostResolvConf.options] };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config.servers = dedup([...config.servers!, ...(extra.nameservers ?? [])]);
    config.searches = dedup([...config.searches!, ...(extra.searches ?? [])]);
    config.options = mergeOptions(config.options!, extra.options);
  }
  config.searches = trimSearches(dedup(config.searches!));
  return config;
}

/** Every declared container port, as upstream MakePortMappings (the runtime maps those with a hostPort). */
export function podPortMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const key = p.name ? `name/${p.name}` : `${protocol}/${p.containerPort}/${p.hostPort ?? 0}/${p.hostIP ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const m: PortMapping = { protocol, containerPort: p.containerPort };
      if (p.hostPort) m.hostPort = p.hostPort;
      if (p.hostIP) m.hostIp = p.hostIP;
      out.push(m);
    }
  }
  return out;
}

/** Namespace modes as upstream namespacesForPod: network and IPC NODE or POD; PID NODE, POD when shared, else CONTAINER. */
export function podNamespaceOptions(pod: Pod): { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode } {
  const spec = pod.spec;
  return {
    network: spec?.hostNetwork ? 'NODE' : 'POD',
    pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec?.hostIPC ? 'NODE' : 'POD',
  };
}

/** Labels the kubelet puts on a sandbox: the pod's, plus its name, namespace and uid. */
export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...pod.metadata?.labels,
    [POD_NAME_LABEL]: pod.metadata?.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata?.uid ?? '',
  };
}

/** Pod -> PodSandboxConfig. */
export function generatePodSandboxConfig(pod: Pod, opts: SandboxConfigOptions): PodSandboxConfig {
  const meta = pod.metadata ?? {};
  const config: PodSandboxConfig = {
    metadata: { name: meta.name ?? '', uid: meta.uid ?? '', namespace: meta.namespace ?? '', attempt: opts.attempt },
    labels: sandboxLabels(pod),
    annotations: { ...meta.annotations },
    logDirectory: podLogDirectory(pod, opts.podLogsRootDirectory),
    dnsConfig: podDNSConfig(pod, opts),
  };
  if (!isHostNetworkPod(pod)) config.hostname = podHostnameAndDomain(pod, opts.clusterDomain).hostname;
  const ports = podPortMappings(pod);
  if (ports.length) config.portMappings = ports;

  const sc = pod.spec?.securityContext;
  const linux: NonNullable<PodSandboxConfig['linux']> = {
    securityContext: { namespaceOptions: podNamespaceOptions(pod) },
  };
  if (opts.cgroupParent) linux.cgroupParent = opts.cgroupParent;
  const lsc = linux.securityContext!;
  if (sc?.runAsUser !== undefined) lsc.runAsUser = { value: sc.runAsUser };
  if (sc?.runAsGroup !== undefined) lsc.runAsGroup = { value: sc.runAsGroup };
  const groups = [...(sc?.supplementalGroups ?? [])];
  if (sc?.fsGroup !== undefined) groups.push(sc.fsGroup);
  if (groups.length) lsc.supplementalGroups = groups;
  if (sc?.seccompProfile?.type) {
    lsc.seccomp = { profileType: sc.seccompProfile.type as 'RuntimeDefault' | 'Unconfined' | 'Localhost' };
    if (sc.seccompProfile.localhostProfile) lsc.seccomp.localhostRef = sc.seccompProfile.localhostProfile;
  }
  if (sc?.sysctls?.length) linux.sysctls = Object.fromEntries(sc.sysctls.map((s) => [s.name, s.value]));
  config.linux = linux;
  return config;
}
