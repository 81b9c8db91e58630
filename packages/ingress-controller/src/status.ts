// The load-balancer status this controller publishes on the Ingresses it handles (pure): the IPs of the
// nodes its pods run on (their status.hostIP, which with hostPort or hostNetwork is where :80 and :443
// answer), or --publish-status-address.
import { isIP } from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Ingress, IngressLoadBalancerIngress } from 'kubernetes-types/networking/v1';

/** Labels a controller's pods carry per revision; the rest select its sibling pods. */
const REVISION_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'pod-template-generation']);

/** `k=v,...` selecting the pods of the same DaemonSet/Deployment as `pod`. */
export function siblingSelector(pod: Pod): string {
  return Object.entries(pod.metadata?.labels ?? {})
    .filter(([k]) => !REVISION_LABELS.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The sorted, distinct host IPs of the running, not terminating pods. */
export function nodeAddresses(pods: readonly Pod[]): string[] {
  const ips = new Set<string>();
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp || p.status?.phase !== 'Running' || !p.status.hostIP) continue;
    ips.add(p.status.hostIP);
  }
  return [...ips].sort(compareAddresses);
}

function compareAddresses(a: string, b: string): number {
  const na = isIP(a) === 4 ? a.split('.').map((o) => o.padStart(3, '0')).join('.') : a;
  const nb = isIP(b) === 4 ? b.split('.').map((o) => o.padStart(3, '0')).join('.') : b;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function loadBalancerIngress(addresses: readonly string[]): IngressLoadBalancerIngress[] {
  return addresses.map((a) => (isIP(a) ? { ip: a } : { hostname: a }));
}

/** Whether the Ingress already shows exactly these addresses (in any order). */
export function statusUpToDate(ing: Ingress, desired: readonly IngressLoadBalancerIngress[]): boolean {
  const key = (i: IngressLoadBalancerIngress) => `${i.ip ?? ''}|${i.hostname ?? ''}`;
  const current = (ing.status?.loadBalancer?.ingress ?? []).map(key).sort();
  const want = desired.map(key).sort();
  return current.length === want.length && current.every((k, i) => k === want[i]);
}
