// The iptables ruleset as one iptables-restore payload (upstream's Proxier.syncProxyRules and
// writeServiceToEndpointRules in pkg/proxy/iptables/proxier.go): a pure function of Services,
// EndpointSlices, the node and the options. Only KUBE-* chains are declared, so the payload is
// applied with --noflush and nothing else in the tables is disturbed.
import { BlockList, isIP } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import {
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names.js';
import {
  categorizeEndpoints,
  endpointsMapOf,
  servicePortKey,
  servicePortsOf,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type EndpointInfo,
  type ServicePortInfo,
} from './service-ports.js';

/** Upstream's --iptables-masquerade-bit default (14). */
export const DEFAULT_MASQUERADE_MARK = '0x4000';
/** Above this many endpoints, per-endpoint comments are left out (upstream's largeClusterEndpointsThreshold). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

export interface ProxyRulesOptions {
  /** --cluster-cidr: traffic to a ClusterIP from outside it is masqueraded (upstream's ClusterCIDR local-traffic detector). */
  clusterCIDR?: string;
  /**
   * The local addresses NodePorts answer on, resolved from --nodeport-addresses. Undefined: every
   * local address (`-m addrtype --dst-type LOCAL`).
   */
  nodePortIPs?: readonly string[];
  /** --masquerade-all: SNAT all traffic sent via ClusterIPs. */
  masqueradeAll?: boolean;
  /** --iptables-localhost-nodeports (IPv4: NodePorts on 127.0.0.0/8 too, guarded by KUBE-FIREWALL). */
  localhostNodePorts?: boolean;
  /** The kernel's nf_conntrack_tcp_be_liberal is set: no DROP of INVALID packets in KUBE-FORWARD. */
  conntrackTCPLiberal?: boolean;
  /** The node's own IP (LoadBalancer source ranges that contain it admit the node's traffic). */
  nodeIP?: string;
  masqueradeMark?: string;
}

export interface ProxyRulesInput {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  /** Endpoints with this nodeName are local (externalTrafficPolicy/internalTrafficPolicy Local). */
  nodeName: string;
  options?: ProxyRulesOptions;
  /**
   * NAT chains that exist now (from iptables-save, or the previous render's `activeNatChains`):
   * those of ours that are no longer used are flushed and deleted (-X) in this payload.
   */
  existingNatChains?: Iterable<string>;
}

export interface ProxyRules {
  /** iptables-restore input: `*filter` then `*nat`, each ending in COMMIT. */
  text: string;
  /** The per-service NAT chains this ruleset uses. */
  activeNatChains: Set<string>;
  servicePorts: ServicePortInfo[];
  endpoints: Map<string, EndpointInfo[]>;
  /** Chains deleted as stale. */
  deletedChains: string[];
  counts: { servicePorts: number; endpoints: number; filterRules: number; natRules: number };
}

/** Upstream formats 1/n with %0.10f. */
const probabilityCache: string[] = [];
function probability(n: number): string {
  return (probabilityCache[n] ??= (1 / n).toFixed(10));
}

const chainLine = (chain: string) => `:${chain} - [0:0]`;

function isLoopback(ip: string): boolean {
  return isIP(ip) === 4 && ip.startsWith('127.');
}

export function renderProxyRules(input: ProxyRulesInput): ProxyRules {
  const o = input.options ?? {};
  const mark = o.masqueradeMark ?? DEFAULT_MASQUERADE_MARK;
  const servicePorts = input.services.flatMap(servicePortsOf).sort((a, b) => cmp(a.name, b.name) || cmp(a.protocol, b.protocol));
  const endpointsMap = endpointsMapOf(input.endpointSlices, input.nodeName);

  const filterChains: string[] = [];
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filterChains.push(chainLine(c));
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.push(chainLine(c));

  // SNAT what was marked, once: clear the mark so a packet re-traversing the stack is not masqueraded twice.
  natRules.push(
    `-A ${KUBE_POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${mark}`,
    `-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    `-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${mark}`,
  );
  if (o.localhostNodePorts) {
    // route_localnet opens 127.0.0.0/8 to the network; this is the kubelet's guard against martians.
    filterChains.push(chainLine(KUBE_FIREWALL));
    filterRules.push(
      `-A ${KUBE_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    );
  }

  const active = new Set<string>();
  let totalEndpoints = 0;
  for (const svc of servicePorts) totalEndpoints += endpointsMap.get(servicePortKey(svc.name, svc.protocol))?.length ?? 0;
  const largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const ifLocal = o.clusterCIDR ? `-s ${o.clusterCIDR}` : undefined;
  const ifNotLocal = o.clusterCIDR ? `! -s ${o.clusterCIDR}` : undefined;

  const ctx: FragmentContext = { o, largeCluster, ifLocal, ifNotLocal };
  const ctxKey = `${o.clusterCIDR}|${o.masqueradeAll}|${o.nodeIP}|${largeCluster}`;
  const filterParts: string[] = [];
  const natChainParts: string[] = [];
  const natRuleParts: string[] = [];
  let filterRuleCount = 0;
  let natRuleCount = 0;
  for (const svc of servicePorts) {
    const endpoints = endpointsMap.get(servicePortKey(svc.name, svc.protocol));
    // A service port whose object, endpoints and options are those of the last render renders the same.
    let cached = fragmentCache.get(svc);
    if (!cached || cached.endpoints !== endpoints || cached.ctxKey !== ctxKey) {
      cached = { endpoints, ctxKey, fragment: renderServicePort(svc, endpoints ?? [], ctx) };
      fragmentCache.set(svc, cached);
    }
    const f = cached.fragment;
    if (f.filterRules) filterParts.push(f.filterRules);
    if (f.natChains) natChainParts.push(f.natChains);
    if (f.natRules) natRuleParts.push(f.natRules);
    filterRuleCount += f.filterRuleCount;
    natRuleCount += f.natRuleCount;
    for (const c of f.active) active.add(c);
  }
  const deletedChains: string[] = [];
  const tailNatChains: string[] = [];
  const tailNatRules: string[] = [];
  for (const chain of input.existingNatChains ?? []) {
    if (active.has(chain) || !isServiceChainName(chain)) continue;
    // A chain line flushes it; then nothing refers to it any more and it can go.
    tailNatChains.push(chainLine(chain));
    tailNatRules.push(`-X ${chain}`);
    deletedChains.push(chain);
  }

  // NodePorts last: this rule matches any port on a local address.
  const nodePortsComment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (!o.nodePortIPs) {
    tailNatRules.push(`-A ${KUBE_SERVICES} ${nodePortsComment} -m addrtype --dst-type LOCAL${o.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8'} -j ${KUBE_NODEPORTS}`);
  } else {
    for (const ip of o.nodePortIPs) {
      if (isLoopback(ip) && !o.localhostNodePorts) continue;
      tailNatRules.push(`-A ${KUBE_SERVICES} ${nodePortsComment} -d ${ip} -j ${KUBE_NODEPORTS}`);
    }
  }

  const tailFilterRules: string[] = [];
  if (!o.conntrackTCPLiberal) tailFilterRules.push(`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP`);
  tailFilterRules.push(
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  const text = [
    '*filter',
    ...filterChains,
    ...filterRules,
    ...filterParts,
    ...tailFilterRules,
    'COMMIT',
    '*nat',
    ...natChains,
    ...natChainParts,
    ...tailNatChains,
    ...natRules,
    ...natRuleParts,
    ...tailNatRules,
    'COMMIT',
    '',
  ].join('\n');
  return {
    text,
    activeNatChains: active,
    servicePorts,
    endpoints: endpointsMap,
    deletedChains,
    counts: {
      servicePorts: servicePorts.length,
      endpoints: totalEndpoints,
      filterRules: filterRules.length + filterRuleCount + tailFilterRules.length,
      natRules: natRules.length + natRuleCount + tailNatRules.length - deletedChains.length,
    },
  };
}

interface FragmentContext {
  o: ProxyRulesOptions;
  largeCluster: boolean;
  ifLocal?: string;
  ifNotLocal?: string;
}

/** One service port's lines, each section joined (upstream writes a service port's rules contiguously). */
interface Fragment {
  filterRules: string;
  natChains: string;
  natRules: string;
  filterRuleCount: number;
  natRuleCount: number;
  active: string[];
}

/**
 * Fragments of the last render by service port object: parsed objects are reused while the Service
 * and its EndpointSlices are unchanged (service-ports.ts), so an unchanged service is not re-rendered.
 */
const fragmentCache = new WeakMap<ServicePortInfo, { endpoints: EndpointInfo[] | undefined; ctxKey: string; fragment: Fragment }>();

function renderServicePort(svc: ServicePortInfo, all: readonly EndpointInfo[], { o, largeCluster, ifLocal, ifNotLocal }: FragmentContext): Fragment {
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];
  const active: string[] = [];
  const proto = svc.protocol.toLowerCase();
  const spn = svc.name;
  const match = `-m ${proto} -p ${proto}`;
  const { cluster, local, allReachable, hasAnyEndpoints } = categorizeEndpoints(all, svc);
  const clusterChain = svc.chains.cluster;
  const localChain = svc.chains.local;
  const usesClusterChain = cluster.length > 0 && usesClusterEndpoints(svc);
  const usesLocalChain = local.length > 0 && usesLocalEndpoints(svc);

  const internalChain = svc.internalPolicyLocal ? localChain : clusterChain;
  const hasInternal = hasAnyEndpoints && (!svc.internalPolicyLocal || local.length > 0);
  const externalPolicyChain = svc.externalPolicyLocal ? localChain : clusterChain;
  const hasExternal = hasAnyEndpoints && (!svc.externalPolicyLocal || local.length > 0);
  const extChain = svc.chains.external;
  const usesExtChain = hasAnyEndpoints && svc.externallyAccessible;
  const fwChain = svc.chains.firewall;
  const usesFWChain = hasAnyEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFWChain ? fwChain : extChain;

  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  if (!hasAnyEndpoints) {
    internalTarget = externalTarget = 'REJECT';
    internalComment = externalComment = `"${spn} has no endpoints"`;
  } else {
    if (!hasInternal) {
      internalTarget = 'DROP';
      internalComment = `"${spn} has no local endpoints"`;
    }
    if (!hasExternal) {
      externalTarget = 'DROP';
      externalComment = `"${spn} has no local endpoints"`;
    }
  }

  const clusterIPMatch = `-m comment --comment "${spn} cluster IP" ${match} -d ${svc.clusterIP} --dport ${svc.port}`;
  if (hasInternal) natRules.push(`-A ${KUBE_SERVICES} ${clusterIPMatch} -j ${internalChain}`);
  else filterRules.push(`-A ${KUBE_SERVICES} -m comment --comment ${internalComment} ${match} -d ${svc.clusterIP} --dport ${svc.port} -j ${internalTarget}`);

  for (const ip of svc.externalIPs) {
    if (hasAnyEndpoints) natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${spn} external IP" ${match} -d ${ip} --dport ${svc.port} -j ${extChain}`);
    if (!hasExternal) filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} ${match} -d ${ip} --dport ${svc.port} -j ${externalTarget}`);
  }

  for (const ip of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${spn} loadbalancer IP" ${match} -d ${ip} --dport ${svc.port} -j ${lbChain}`);
    if (usesFWChain) {
      filterRules.push(`-A ${KUBE_PROXY_FIREWALL} -m comment --comment "${spn} traffic not accepted by ${fwChain}" ${match} -d ${ip} --dport ${svc.port} -j DROP`);
    }
  }
  if (!hasExternal) {
    for (const ip of svc.loadBalancerVIPs) {
      filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} ${match} -d ${ip} --dport ${svc.port} -j ${externalTarget}`);
    }
  }

  if (svc.nodePort) {
    if (hasAnyEndpoints) natRules.push(`-A ${KUBE_NODEPORTS} -m comment --comment ${spn} ${match} --dport ${svc.nodePort} -j ${extChain}`);
    if (!hasExternal) {
      filterRules.push(
        `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m addrtype --dst-type LOCAL ${match} --dport ${svc.nodePort} -j ${externalTarget}`,
      );
    }
  }

  // Masquerade traffic to the ClusterIP that does not come from a pod (a route to the service range via a node).
  if (hasInternal) {
    if (o.masqueradeAll) natRules.push(`-A ${internalChain} ${clusterIPMatch} -j ${KUBE_MARK_MASQ}`);
    else if (ifNotLocal) natRules.push(`-A ${internalChain} ${clusterIPMatch} ${ifNotLocal} -j ${KUBE_MARK_MASQ}`);
  }

  if (usesExtChain) {
    natChains.push(chainLine(extChain));
    active.push(extChain);
    if (!svc.externalPolicyLocal) {
      // The endpoint may be on another node: SNAT so the reply comes back through this one.
      natRules.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j ${KUBE_MARK_MASQ}`);
    } else {
      // Pods and the node itself reaching an external destination are not subject to the Local policy.
      if (ifLocal) natRules.push(`-A ${extChain} -m comment --comment "pod traffic for ${spn} external destinations" ${ifLocal} -j ${clusterChain}`);
      natRules.push(
        `-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`,
        `-A ${extChain} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${clusterChain}`,
      );
    }
    if (hasExternal) natRules.push(`-A ${extChain} -j ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    natChains.push(chainLine(fwChain));
    active.push(fwChain);
    const prefix = `-A ${fwChain} -m comment --comment "${spn} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      natRules.push(`${prefix} -s ${cidr} -j ${extChain}`);
      if (o.nodeIP && cidrContains(cidr, o.nodeIP)) allowFromNode = true;
    }
    if (allowFromNode) for (const ip of svc.loadBalancerVIPs) natRules.push(`${prefix} -s ${ip} -j ${extChain}`);
    natRules.push(`-A ${fwChain} -m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`);
  }

  if (usesClusterChain) {
    natChains.push(chainLine(clusterChain));
    active.push(clusterChain);
    writeServiceToEndpointRules(natRules, svc, clusterChain, cluster, largeCluster);
  }
  if (usesLocalChain) {
    natChains.push(chainLine(localChain));
    active.push(localChain);
    writeServiceToEndpointRules(natRules, svc, localChain, local, largeCluster);
  }

  for (const ep of allReachable) {
    natChains.push(chainLine(ep.chain));
    active.push(ep.chain);
    const head = largeCluster ? `-A ${ep.chain}` : `-A ${ep.chain} -m comment --comment ${spn}`;
    // Hairpin: a pod reaching itself through the service must be SNATed, or it answers itself directly.
    natRules.push(`${head} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
    const affinity = svc.stickyMaxAgeSeconds !== undefined ? ` -m recent --name ${ep.chain} --set` : '';
    natRules.push(`${head}${affinity} ${match} -j DNAT --to-destination ${ep.address}`);
  }
  return {
    filterRules: filterRules.join('\n'),
    natChains: natChains.join('\n'),
    natRules: natRules.join('\n'),
    filterRuleCount: filterRules.length,
    natRuleCount: natRules.length,
    active,
  };
}

function writeServiceToEndpointRules(out: string[], svc: ServicePortInfo, chain: string, endpoints: readonly EndpointInfo[], largeCluster: boolean): void {
  const comment = (ep: EndpointInfo) => (largeCluster ? '' : ` -m comment --comment "${svc.name} -> ${ep.address}"`);
  if (svc.stickyMaxAgeSeconds !== undefined) {
    // A client seen recently goes back to the same endpoint.
    for (const ep of endpoints) {
      out.push(`-A ${chain}${comment(ep)} -m recent --name ${ep.chain} --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap -j ${ep.chain}`);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    // Rule i matches 1/(n-i) of what reaches it, so each endpoint gets 1/n overall; the last always matches.
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    out.push(`-A ${chain}${comment(ep)}${stat} -j ${ep.chain}`);
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  if (isIP(base ?? '') !== 4 || isIP(ip) !== 4) return false;
  const list = new BlockList();
  list.addSubnet(base!, bits === undefined ? 32 : Number(bits), 'ipv4');
  return list.check(ip, 'ipv4');
}
