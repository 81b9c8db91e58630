// The proxier's view of Services and EndpointSlices (upstream's pkg/proxy/service.go,
// endpointslicecache.go, endpoint.go and topology.go CategorizeEndpoints), IPv4 only.
import { isIP } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointChainName, EXT_PREFIX, FW_PREFIX, portProtoHash, SVC_PREFIX, SVL_PREFIX } from './chain-names.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Upstream's default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One port of one Service, with its chain names computed once (upstream's servicePortInfo). */
export interface ServicePortInfo {
  /** "namespace/name" or "namespace/name:port" (upstream's ServicePortName.String()). */
  name: string;
  /** "namespace/name". */
  service: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  /** Seconds, when sessionAffinity is ClientIP. */
  stickyMaxAgeSeconds?: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  externallyAccessible: boolean;
  chains: { cluster: string; local: string; firewall: string; external: string };
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port". */
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  isLocal: boolean;
  chain: string;
}

const isIPv4 = (ip: string | undefined): ip is string => !!ip && isIP(ip) === 4;

/** Key of a service port in the endpoints map: name plus protocol (upstream's ServicePortName). */
export const servicePortKey = (name: string, protocol: string) => `${name}/${protocol}`;

function portNameString(service: string, portName: string): string {
  return portName ? `${service}:${portName}` : service;
}

/**
 * Parsed objects by identity: informer caches hand out the same object until it changes, so a sync
 * re-parses only what changed since the last one (upstream's change trackers keep the same state).
 */
const servicePortsCache = new WeakMap<Service, ServicePortInfo[]>();
const sliceCache = new WeakMap<EndpointSlice, { nodeName: string; entries: Array<{ key: string; endpoints: EndpointInfo[] }> }>();

/** The service's ports the proxier handles: none for headless, ExternalName or non-IPv4 services. */
export function servicePortsOf(svc: Service): ServicePortInfo[] {
  let ports = servicePortsCache.get(svc);
  if (!ports) servicePortsCache.set(svc, (ports = parseServicePorts(svc)));
  return ports;
}

function parseServicePorts(svc: Service): ServicePortInfo[] {
  const spec = svc.spec ?? {};
  const clusterIP = spec.clusterIP;
  if (!clusterIP || clusterIP === 'None' || spec.type === 'ExternalName' || !isIPv4(clusterIP)) return [];
  const service = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
  const type = spec.type ?? 'ClusterIP';
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const loadBalancerVIPs =
    type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ipMode !== 'Proxy').map((i) => i.ip).filter(isIPv4) : [];
  const loadBalancerSourceRanges = type === 'LoadBalancer' ? (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter((r) => isIPv4(r.split('/')[0])) : [];
  const externallyAccessible = type === 'LoadBalancer' || type === 'NodePort' || externalIPs.length > 0;
  const externalPolicyLocal = externallyAccessible && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const sticky = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS) : undefined;
  return (spec.ports ?? []).map((p) => {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const name = portNameString(service, p.name ?? '');
    const hash = portProtoHash(name, protocol.toLowerCase());
    return {
      name,
      service,
      portName: p.name ?? '',
      protocol,
      clusterIP,
      port: p.port,
      nodePort: type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges,
      stickyMaxAgeSeconds: sticky,
      externalPolicyLocal,
      internalPolicyLocal,
      externallyAccessible,
      chains: { cluster: SVC_PREFIX + hash, local: SVL_PREFIX + hash, firewall: FW_PREFIX + hash, external: EXT_PREFIX + hash },
    };
  });
}

/**
 * Endpoints by service port key (`servicePortKey`), merged over all of a service's IPv4 slices and
 * sorted by "ip:port" (upstream's EndpointSliceCache). A duplicate address keeps its ready copy.
 */
export function endpointsMapOf(slices: readonly EndpointSlice[], nodeName: string): Map<string, EndpointInfo[]> {
  const byKey = new Map<string, EndpointInfo[][]>();
  for (const slice of slices) {
    let parsed = sliceCache.get(slice);
    if (!parsed || parsed.nodeName !== nodeName) sliceCache.set(slice, (parsed = { nodeName, entries: parseSlice(slice, nodeName) }));
    for (const { key, endpoints } of parsed.entries) {
      const lists = byKey.get(key);
      if (lists) lists.push(endpoints);
      else byKey.set(key, [endpoints]);
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, lists] of byKey) {
    let merged: EndpointInfo[];
    if (lists.length === 1) merged = lists[0]!;
    else {
      // The same address in several slices (during an update): keep a ready copy.
      const set = new Map<string, EndpointInfo>();
      for (const list of lists) for (const e of list) if (!set.has(e.address) || e.ready) set.set(e.address, e);
      merged = [...set.values()].sort(byAddress);
    }
    if (merged.length) out.set(key, merged);
  }
  return out;
}

const byAddress = (a: EndpointInfo, b: EndpointInfo) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);

/** One slice's endpoints per service port, each list sorted by "ip:port". */
function parseSlice(slice: EndpointSlice, nodeName: string): Array<{ key: string; endpoints: EndpointInfo[] }> {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service || slice.addressType !== 'IPv4') return [];
  const svcName = `${slice.metadata?.namespace ?? ''}/${service}`;
  const out: Array<{ key: string; endpoints: EndpointInfo[] }> = [];
  for (const port of slice.ports ?? []) {
    if (port.port == null) continue;
    const name = portNameString(svcName, port.name ?? '');
    const protocol = port.protocol ?? 'TCP';
    const set = new Map<string, EndpointInfo>();
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const ready = ep.conditions?.ready ?? true;
      const address = `${ip}:${port.port}`;
      if (set.has(address) && !ready) continue;
      set.set(address, {
        ip,
        port: port.port,
        address,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        isLocal: !!nodeName && ep.nodeName === nodeName,
        chain: endpointChainName(name, protocol.toLowerCase(), address),
      });
    }
    out.push({ key: servicePortKey(name, protocol), endpoints: [...set.values()].sort(byAddress) });
  }
  return out;
}

export const usesClusterEndpoints = (s: ServicePortInfo) => !s.internalPolicyLocal || (s.externallyAccessible && !s.externalPolicyLocal);
export const usesLocalEndpoints = (s: ServicePortInfo) => s.internalPolicyLocal || (s.externalPolicyLocal && s.externallyAccessible);

export interface CategorizedEndpoints {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  allReachable: EndpointInfo[];
  hasAnyEndpoints: boolean;
}

/**
 * Which endpoints each traffic policy uses (upstream's CategorizeEndpoints, without topology hints):
 * ready endpoints; serving-and-terminating ones only when there is no ready one to fall back on.
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], svc: ServicePortInfo): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAnyEndpoints = false;
  if (usesClusterEndpoints(svc)) {
    cluster = endpoints.filter((e) => e.ready);
    if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
    hasAnyEndpoints = cluster.length > 0;
  }
  if (!usesLocalEndpoints(svc)) return { cluster, local, allReachable: cluster, hasAnyEndpoints };

  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAnyEndpoints = true;
      if (e.isLocal) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAnyEndpoints = true;
      if (e.isLocal) localServingTerminating = true;
    }
  }
  let useServingTerminating = false;
  if (localReady) local = endpoints.filter((e) => e.isLocal && e.ready);
  else if (localServingTerminating) {
    useServingTerminating = true;
    local = endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
  }
  if (!usesClusterEndpoints(svc)) return { cluster, local, allReachable: local, hasAnyEndpoints };
  if (!useServingTerminating) return { cluster, local, allReachable: cluster, hasAnyEndpoints };
  // Cluster endpoints may hold remote ones; local ones may be terminating: merge the two lists.
  const merged = new Map<string, EndpointInfo>();
  for (const e of [...cluster, ...local]) merged.set(e.address, e);
  return { cluster, local, allReachable: [...merged.values()], hasAnyEndpoints };
}
