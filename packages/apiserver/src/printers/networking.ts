// Printers for networking.k8s.io objects: Ingress and IngressClass, as upstream's printIngress and
// printIngressClass (pkg/printers/internalversion/printers.go).
import type { Ingress, IngressClass, IngressLoadBalancerStatus, IngressRule, IngressTLS } from 'kubernetes-types/networking/v1';
import type { TablePrinter } from './types.js';
import { ageColumn, col, nameColumn } from './format.js';
import { translateTimestampSince } from './duration.js';

/** `a,b,c + N more...` over the rules' hosts (N counts rules, as upstream), `*` when none has one. */
export function formatIngressHosts(rules: IngressRule[] | null | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  const all = rules ?? [];
  for (const rule of all) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${all.length - max} more...` : ret;
}

/** `80`, or `80, 443` when the Ingress has a TLS section. */
export function formatIngressPorts(tls: IngressTLS[] | null | undefined): string {
  return tls && tls.length > 0 ? '80, 443' : '80';
}

/** The IPs (or hostnames) of the load balancer, sorted and de-duplicated; the server prints wide. */
export function ingressAddress(status: IngressLoadBalancerStatus | null | undefined): string {
  const set = new Set<string>();
  for (const ing of status?.ingress ?? []) {
    if (ing.ip) set.add(ing.ip);
    else if (ing.hostname) set.add(ing.hostname);
  }
  return [...set].sort().join(',');
}

export const ingressPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  row(obj, now) {
    const ing = obj as Ingress;
    return [
      obj.metadata.name ?? '',
      ing.spec?.ingressClassName ?? '<none>',
      formatIngressHosts(ing.spec?.rules),
      ingressAddress(ing.status?.loadBalancer),
      formatIngressPorts(ing.spec?.tls),
      translateTimestampSince(obj.metadata.creationTimestamp, now),
    ];
  },
};

export const ingressClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Controller', 'string', 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  row(obj, now) {
    const ic = obj as IngressClass;
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) parameters = `${p.kind}${p.apiGroup != null ? `.${p.apiGroup}` : ''}/${p.name}`;
    return [obj.metadata.name ?? '', ic.spec?.controller ?? '', parameters, translateTimestampSince(obj.metadata.creationTimestamp, now)];
  },
};
