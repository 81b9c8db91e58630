// The jumps from the built-in chains into kube-proxy's top-level chains (upstream's
// iptablesJumpChains and iptablesKubeletJumpChains). They live in chains kube-proxy does not own
// (INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING), so they are ensured one by one with
// `iptables -C || -I` on every full sync rather than written into the restore payload.
import { KUBE_EXTERNAL_SERVICES, KUBE_FIREWALL, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL, KUBE_SERVICES } from './chain-names.js';

export type Table = 'filter' | 'nat' | 'mangle';

export interface JumpChain {
  table: Table;
  /** The built-in chain the jump is inserted into. */
  srcChain: string;
  dstChain: string;
  /** The rule's arguments, as `iptables -I srcChain` takes them. */
  args: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

function jump(table: Table, dstChain: string, srcChain: string, comment: string, extra: string[] = []): JumpChain {
  return { table, srcChain, dstChain, args: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : []), '-j', dstChain] };
}

export const JUMP_CHAINS: readonly JumpChain[] = [
  jump('filter', KUBE_EXTERNAL_SERVICES, 'INPUT', 'kubernetes externally-visible service portals', NEW),
  jump('filter', KUBE_EXTERNAL_SERVICES, 'FORWARD', 'kubernetes externally-visible service portals', NEW),
  jump('filter', KUBE_NODEPORTS, 'INPUT', 'kubernetes health check service ports'),
  jump('filter', KUBE_SERVICES, 'FORWARD', 'kubernetes service portals', NEW),
  jump('filter', KUBE_SERVICES, 'OUTPUT', 'kubernetes service portals', NEW),
  jump('filter', KUBE_FORWARD, 'FORWARD', 'kubernetes forwarding rules'),
  jump('filter', KUBE_PROXY_FIREWALL, 'INPUT', 'kubernetes load balancer firewall', NEW),
  jump('filter', KUBE_PROXY_FIREWALL, 'OUTPUT', 'kubernetes load balancer firewall', NEW),
  jump('filter', KUBE_PROXY_FIREWALL, 'FORWARD', 'kubernetes load balancer firewall', NEW),
  jump('nat', KUBE_SERVICES, 'OUTPUT', 'kubernetes service portals'),
  jump('nat', KUBE_SERVICES, 'PREROUTING', 'kubernetes service portals'),
  jump('nat', KUBE_POSTROUTING, 'POSTROUTING', 'kubernetes postrouting rules'),
];

/** The kubelet's KUBE-FIREWALL jumps, also ensured by kube-proxy (never removed by it). */
export const KUBELET_JUMP_CHAINS: readonly JumpChain[] = [jump('filter', KUBE_FIREWALL, 'INPUT', ''), jump('filter', KUBE_FIREWALL, 'OUTPUT', '')];
