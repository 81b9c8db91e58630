// CoreDNS's kubernetes plugin (plugin/kubernetes + plugin/backend_lookup.go) as one pure function:
// a question and a read-only view of the cluster in, the records of the Kubernetes DNS-Based Service
// Discovery specification (kubernetes/dns docs/specification.md, schema 1.1.0) out. No I/O here:
// server.ts wires it to sockets, informers and the upstream forwarder.
import { isIPv4, isIPv6 } from 'node:net';
import type { corev1, discoveryv1 } from '@kubelab/api';

/** RR types and codes used here (RFC 1035, 2782, 3596, 6891). */
export const RRType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255 } as const;
export const RCode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const CLASS_IN = 1;

/** The schema version of the specification implemented (CoreDNS's DNSSchemaVersion). */
export const DNS_SCHEMA_VERSION = '1.1.0';
/** CoreDNS serves dns-version with this fixed TTL. */
const DNS_VERSION_TTL = 28800;
/** Longest chain of in-zone CNAMEs followed (CoreDNS's maxCnameChainLength). */
const MAX_CNAME_CHAIN = 10;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface Question {
  name: string;
  type: number;
  class: number;
}

/** A resource record in dns2's shape (names without the trailing dot). */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A, AAAA */
  address?: string;
  /** CNAME, PTR */
  domain?: string;
  /** NS */
  ns?: string;
  /** TXT */
  data?: string[];
  /** SRV */
  priority?: number;
  weight?: number;
  port?: number;
  target?: string;
  /** SOA */
  primary?: string;
  admin?: string;
  serial?: number;
  refresh?: number;
  retry?: number;
  expiration?: number;
  minimum?: number;
}

/** What the resolver reads: informer listers in production, plain maps in tests. IPs are canonical (canonicalIP). */
export interface ClusterView {
  service(namespace: string, name: string): corev1.Service | undefined;
  /** Services whose spec.clusterIPs hold `ip`. */
  servicesByClusterIP(ip: string): corev1.Service[];
  /** EndpointSlices labelled kubernetes.io/service-name=`service` in `namespace`. */
  endpointSlices(namespace: string, service: string): discoveryv1.EndpointSlice[];
  /** EndpointSlices with an endpoint address `ip`. */
  endpointSlicesByIP(ip: string): discoveryv1.EndpointSlice[];
  namespaceExists(name: string): boolean;
  /** Pods whose status.podIPs hold `ip` (only read with podMode "verified"). */
  podsByIP(ip: string): corev1.Pod[];
  /** False until the caches hold the initial lists: name errors are then SERVFAIL, as CoreDNS. */
  hasSynced(): boolean;
  /** Unix seconds of the last change seen (the SOA serial). */
  modified(): number;
}

export interface ResolverOptions {
  /** The cluster domain, e.g. cluster.local (no trailing dot). */
  zone: string;
  /** TTL of every answer (CoreDNS's `ttl`; kubeadm's Corefile sets 30). */
  ttl: number;
  /**
   * `<a-b-c-d>.<ns>.pod.<zone>`: "insecure" answers any well-formed IP in an existing namespace (kubeadm's
   * Corefile: `pods insecure`), "verified" only IPs of pods in that namespace, "disabled" never.
   */
  podMode: 'insecure' | 'verified' | 'disabled';
  /** This server's own addresses: the NS record names the Service whose endpoints they are (CoreDNS's nsAddrs). */
  localIPs: readonly string[];
}

export type Resolution =
  | {
      action: 'answer';
      rcode: number;
      authoritative: boolean;
      answers: ResourceRecord[];
      authority: ResourceRecord[];
      additional: ResourceRecord[];
      /** The answer ends in a CNAME outside the zone: the caller appends the upstream answer for it. */
      chase?: { name: string; type: number };
    }
  /** Not ours (outside the cluster zone, or a reverse name of no cluster IP: `fallthrough in-addr.arpa ip6.arpa`). */
  | { action: 'forward' };

const REVERSE_V4 = 'in-addr.arpa';
const REVERSE_V6 = 'ip6.arpa';

/** The canonical text of an IP (IPv6 lower-case, zeros compressed as RFC 5952), or undefined if not an IP. */
export function canonicalIP(ip: string): string | undefined {
  if (isIPv4(ip)) return ip.split('.').map((o) => String(Number(o))).join('.');
  if (!isIPv6(ip)) return undefined;
  return formatIPv6(expandIPv6(ip));
}

function expandIPv6(ip: string): number[] {
  let s = ip.toLowerCase().split('%')[0]!;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const o = dotted[2]!.split('.').map(Number);
    tail.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
    s = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const compressed = s.includes('::');
  const [head, rest] = compressed ? (s.split('::') as [string, string]) : [s, ''];
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = groups(rest);
  const zeros = compressed ? new Array(Math.max(8 - h.length - r.length - tail.length, 0)).fill(0) : [];
  return [...h, ...zeros, ...r, ...tail];
}

function formatIPv6(groups: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The address a reverse name stands for (`4.3.2.1.in-addr.arpa` -> 1.2.3.4; 32 nibbles under ip6.arpa), or undefined. */
export function addressFromReverse(name: string): string | undefined {
  const n = normalize(name);
  if (n.endsWith(`.${REVERSE_V4}`)) {
    const labels = n.slice(0, -REVERSE_V4.length - 1).split('.');
    if (labels.length !== 4 || !labels.every((l) => /^\d{1,3}$/.test(l) && Number(l) <= 255)) return undefined;
    return canonicalIP(labels.reverse().join('.'));
  }
  if (n.endsWith(`.${REVERSE_V6}`)) {
    const labels = n.slice(0, -REVERSE_V6.length - 1).split('.');
    if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
    const nibbles = labels.reverse().join('');
    return canonicalIP(nibbles.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

/** Lower case, no trailing dot: DNS names compare case-insensitively (spec 2.1). */
function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** `name` is `zone` or below it. */
function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** An endpoint's name under its service: its hostname, else its IP with dashes (CoreDNS's endpointHostname). */
function endpointHostname(hostname: string | undefined, ip: string): string {
  if (hostname) return hostname;
  if (ip.includes('.')) return ip.replaceAll('.', '-');
  const dashed = ip.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/** One thing a name stands for: an address (or, for ExternalName, a name), the port, and the domain naming it (the SRV target). */
interface Entry {
  host: string;
  port: number;
  domain: string;
}

/** What a name in the cluster zone holds: NXDOMAIN, or entries (none: the name exists without address records). */
type Lookup = { nx: true } | { nx: false; entries: Entry[] };

const NX: Lookup = { nx: true };
const EMPTY: Lookup = { nx: false, entries: [] };

class Resolver {
  private readonly zone: string;
  constructor(
    private readonly view: ClusterView,
    private readonly opts: ResolverOptions,
  ) {
    this.zone = normalize(opts.zone);
  }

  resolve(q: Question): Resolution {
    const name = normalize(q.name);
    if (inZone(name, this.zone)) return this.resolveInZone(q, name);
    if (inZone(name, REVERSE_V4) || inZone(name, REVERSE_V6)) return this.resolveReverse(q, name);
    return { action: 'forward' };
  }

  /** PTR for cluster IPs and endpoint addresses; anything else falls through to the upstream servers. */
  private resolveReverse(q: Question, name: string): Resolution {
    const ip = q.type === RRType.PTR ? addressFromReverse(name) : undefined;
    if (!ip) return { action: 'forward' };
    const ttl = this.opts.ttl;
    const targets: string[] = [];
    const svc = this.view.servicesByClusterIP(ip)[0];
    if (svc) targets.push(`${svc.metadata!.name}.${svc.metadata!.namespace}.svc.${this.zone}`);
    else {
      for (const slice of this.view.endpointSlicesByIP(ip)) {
        const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
        if (!service) continue;
        for (const ep of slice.endpoints ?? []) {
          if (ep.conditions?.ready === false) continue;
          if (!ep.addresses.some((a) => canonicalIP(a) === ip)) continue;
          targets.push(`${endpointHostname(ep.hostname, ip)}.${service}.${slice.metadata!.namespace}.svc.${this.zone}`);
        }
      }
    }
    if (!targets.length) return { action: 'forward' };
    const answers = [...new Set(targets)].map((domain) => ({ name: q.name.replace(/\.$/, ''), type: RRType.PTR, class: CLASS_IN, ttl, domain }));
    return { action: 'answer', rcode: RCode.NOERROR, authoritative: true, answers, authority: [], additional: [] };
  }

  private resolveInZone(q: Question, name: string): Resolution {
    const qname = q.name.replace(/\.$/, '');
    // The zone as the client spelled it, for the SOA owner (CoreDNS keeps the query's case).
    const zoneAsAsked = qname.slice(qname.length - this.zone.length);
    const rest = name === this.zone ? '' : name.slice(0, -this.zone.length - 1);
    const labels = rest ? rest.split('.') : [];
    const ttl = this.opts.ttl;
    const answer = (answers: ResourceRecord[], additional: ResourceRecord[] = [], chase?: { name: string; type: number }): Resolution => {
      if (!answers.length) return this.negative(RCode.NOERROR, zoneAsAsked);
      return { action: 'answer', rcode: RCode.NOERROR, authoritative: true, answers, authority: [], additional, ...(chase ? { chase } : {}) };
    };

    if (q.type === RRType.AXFR || q.type === RRType.IXFR) {
      return { action: 'answer', rcode: RCode.REFUSED, authoritative: false, answers: [], authority: [], additional: [] };
    }
    // The zone apex: SOA and NS; every other type NODATA.
    if (labels.length === 0) {
      if (q.type === RRType.SOA) return answer([this.soa(zoneAsAsked)]);
      if (q.type === RRType.NS) {
        const ns = this.nsAddresses();
        const names = [...new Set(ns.map((a) => a.name))];
        return answer(
          names.map((n) => ({ name: qname, type: RRType.NS, class: CLASS_IN, ttl, ns: n })),
          ns,
        );
      }
      return this.negative(RCode.NOERROR, zoneAsAsked);
    }
    if (rest === 'dns-version') {
      if (q.type !== RRType.TXT) return this.negative(RCode.NOERROR, zoneAsAsked);
      return answer([{ name: qname, type: RRType.TXT, class: CLASS_IN, ttl: DNS_VERSION_TTL, data: [DNS_SCHEMA_VERSION] }]);
    }
    if (rest === 'ns.dns') {
      const family = q.type === RRType.A ? RRType.A : q.type === RRType.AAAA ? RRType.AAAA : 0;
      return answer(this.nsAddresses().filter((a) => a.type === family).map((a) => ({ ...a, name: qname })));
    }

    const found = this.lookup(labels);
    if (found.nx) return this.negative(this.view.hasSynced() ? RCode.NXDOMAIN : RCode.SERVFAIL, zoneAsAsked);
    const entries = found.entries;

    switch (q.type) {
      case RRType.A:
      case RRType.AAAA:
      case RRType.TXT: {
        const { answers, chase } = this.addressRecords(qname, q.type, entries, []);
        return answer(answers, [], chase);
      }
      case RRType.CNAME: {
        const ext = entries.find((e) => !canonicalIP(e.host));
        return answer(ext ? [{ name: qname, type: RRType.CNAME, class: CLASS_IN, ttl, domain: ext.host }] : []);
      }
      case RRType.SRV:
        return this.srv(qname, entries, answer);
      default:
        // NS below the apex, PTR, MX, ANY and the rest: the name exists (NODATA) or not (NXDOMAIN).
        return this.negative(RCode.NOERROR, zoneAsAsked);
    }
  }

  /** A/AAAA records of the entries, following ExternalName CNAMEs inside the zone; one outside it is left to the caller. */
  private addressRecords(
    owner: string,
    type: number,
    entries: Entry[],
    chain: string[],
  ): { answers: ResourceRecord[]; chase?: { name: string; type: number } } {
    const ttl = this.opts.ttl;
    const answers: ResourceRecord[] = [];
    let chase: { name: string; type: number } | undefined;
    const seen = new Set<string>();
    for (const e of entries) {
      const ip = canonicalIP(e.host);
      if (ip) {
        const family = isIPv4(ip) ? RRType.A : RRType.AAAA;
        if (family !== type || seen.has(ip)) continue;
        seen.add(ip);
        answers.push({ name: owner, type, class: CLASS_IN, ttl, address: ip });
        continue;
      }
      // An ExternalName: a CNAME, unless it points back at the name itself or at a name already in the chain.
      const target = normalize(e.host);
      if (target === normalize(owner) || chain.includes(target) || chain.length > MAX_CNAME_CHAIN) continue;
      const cname: ResourceRecord = { name: owner, type: RRType.CNAME, class: CLASS_IN, ttl, domain: e.host.replace(/\.$/, '') };
      if (inZone(target, this.zone)) {
        const rest = target === this.zone ? [] : target.slice(0, -this.zone.length - 1).split('.');
        const next = rest.length ? this.lookup(rest) : EMPTY;
        if (next.nx) continue;
        const deeper = this.addressRecords(cname.domain!, type, next.entries, [...chain, normalize(owner)]);
        if (!deeper.answers.length) continue;
        answers.push(cname, ...deeper.answers);
        chase ??= deeper.chase;
        continue;
      }
      answers.push(cname);
      chase ??= { name: cname.domain!, type };
    }
    return { answers, chase };
  }

  /** SRV records (priority 0, weights sharing 100 as CoreDNS), targets' addresses in the additional section. */
  private srv(qname: string, entries: Entry[], answer: (a: ResourceRecord[], x: ResourceRecord[]) => Resolution): Resolution {
    const ttl = this.opts.ttl;
    const usable = entries.filter((e) => canonicalIP(e.host) && e.port >= 0);
    const weight = Math.max(1, Math.floor(100 / Math.max(entries.filter((e) => canonicalIP(e.host)).length, 1)));
    const answers: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    const seenSrv = new Set<string>();
    const seenAddr = new Set<string>();
    for (const e of usable) {
      const ip = canonicalIP(e.host)!;
      if (!seenSrv.has(`${e.domain}|${e.port}`)) {
        seenSrv.add(`${e.domain}|${e.port}`);
        answers.push({ name: qname, type: RRType.SRV, class: CLASS_IN, ttl, priority: 0, weight, port: e.port, target: e.domain });
      }
      if (!seenAddr.has(`${e.domain}|${ip}`)) {
        seenAddr.add(`${e.domain}|${ip}`);
        additional.push({ name: e.domain, type: isIPv4(ip) ? RRType.A : RRType.AAAA, class: CLASS_IN, ttl, address: ip });
      }
    }
    return answer(answers, additional);
  }

  /** NXDOMAIN or NODATA (rcode NOERROR, no answers), with the zone's SOA in the authority section. */
  private negative(rcode: number, zoneAsAsked: string): Resolution {
    return { action: 'answer', rcode, authoritative: true, answers: [], authority: [this.soa(zoneAsAsked)], additional: [] };
  }

  private soa(owner: string): ResourceRecord {
    const ttl = this.opts.ttl;
    return {
      name: owner,
      type: RRType.SOA,
      class: CLASS_IN,
      ttl: Math.min(ttl, 300),
      primary: `ns.dns.${this.zone}`,
      admin: `hostmaster.${this.zone}`,
      serial: Math.floor(this.view.modified()) >>> 0,
      refresh: 7200,
      retry: 1800,
      expiration: 86400,
      minimum: ttl,
    };
  }

  /** The DNS service's own addresses: the Services whose endpoints are this server, else the local IPs as ns.dns.<zone>. */
  private nsAddresses(): ResourceRecord[] {
    const ttl = this.opts.ttl;
    const out: ResourceRecord[] = [];
    let found = false;
    const rr = (name: string, ip: string): ResourceRecord => ({ name, type: isIPv4(ip) ? RRType.A : RRType.AAAA, class: CLASS_IN, ttl, address: ip });
    for (const local of this.opts.localIPs) {
      const ip = canonicalIP(local);
      if (!ip) continue;
      for (const slice of this.view.endpointSlicesByIP(ip)) {
        const ns = slice.metadata!.namespace!;
        const svc = this.view.service(ns, slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '');
        if (!svc) continue;
        found = true;
        const svcName = `${svc.metadata!.name}.${ns}.svc.${this.zone}`;
        if (svc.spec?.clusterIP === 'None') {
          for (const ep of slice.endpoints ?? []) for (const a of ep.addresses) out.push(rr(`${endpointHostname(ep.hostname, a)}.${svcName}`, a));
        } else {
          for (const c of clusterIPs(svc)) out.push(rr(svcName, c));
        }
      }
    }
    if (!found) for (const local of this.opts.localIPs) if (canonicalIP(local)) out.push(rr(`ns.dns.${this.zone}`, canonicalIP(local)!));
    return out;
  }

  /**
   * What `labels` (the name less the zone, lower case) stand for, as CoreDNS's parseRequest + findServices/findPods:
   * `[_port._proto.|endpoint.]service.namespace.svc` or `a-b-c-d.namespace.pod`.
   */
  private lookup(labels: string[]): Lookup {
    const n = labels.length;
    const kind = labels[n - 1];
    if (kind !== 'svc' && kind !== 'pod') return NX;
    if (n === 1) return EMPTY;
    const namespace = labels[n - 2]!;
    if (!this.view.namespaceExists(namespace)) return NX;
    if (n === 2) return EMPTY;
    const name = labels[n - 3]!;
    const extra = labels.slice(0, n - 3);
    if (extra.length > 2) return NX;
    if (kind === 'pod') return extra.length ? NX : this.findPod(namespace, name);
    const endpoint = extra.length === 1 ? extra[0] : undefined;
    const [port, protocol] = extra.length === 2 ? [stripUnderscore(extra[0]!), stripUnderscore(extra[1]!)] : [undefined, undefined];
    return this.findService(namespace, name, endpoint, port, protocol);
  }

  private findPod(namespace: string, podName: string): Lookup {
    if (this.opts.podMode === 'disabled') return NX;
    const text = (podName.split('-').length === 4 && !podName.includes('--')) ? podName.replaceAll('-', '.') : podName.replaceAll('-', ':');
    const ip = canonicalIP(text);
    if (!ip) return NX;
    const entry = { host: ip, port: -1, domain: `${podName}.${namespace}.pod.${this.zone}` };
    if (this.opts.podMode === 'insecure') return { nx: false, entries: [entry] };
    const pods = this.view.podsByIP(ip).filter((p) => p.metadata?.namespace === namespace);
    return pods.length ? { nx: false, entries: [entry] } : NX;
  }

  private findService(namespace: string, name: string, endpoint?: string, port?: string, protocol?: string): Lookup {
    const svc = this.view.service(namespace, name);
    if (!svc) return NX;
    const domain = `${name}.${namespace}.svc.${this.zone}`;
    const portMatches = (pName: string | undefined, pProto: string | undefined) =>
      (port === undefined || port === (pName ?? '').toLowerCase()) && (protocol === undefined || protocol === (pProto ?? 'TCP').toLowerCase());

    if (svc.spec?.type === 'ExternalName') {
      if (endpoint !== undefined || port !== undefined || !svc.spec.externalName) return NX;
      return { nx: false, entries: [{ host: svc.spec.externalName, port: -1, domain }] };
    }

    const entries: Entry[] = [];
    if (svc.spec?.clusterIP === 'None' || endpoint !== undefined) {
      for (const slice of this.view.endpointSlices(namespace, name)) {
        if (slice.addressType === 'FQDN') continue;
        // A slice without ports stands for "all ports": its endpoints have addresses but no SRV port.
        const ports = slice.ports?.length ? slice.ports : [{ port: -1 } as discoveryv1.EndpointPort];
        for (const ep of slice.endpoints ?? []) {
          if (ep.conditions?.ready === false) continue;
          for (const address of ep.addresses) {
            const ip = canonicalIP(address);
            if (!ip) continue;
            const hostname = endpointHostname(ep.hostname, ip);
            if (endpoint !== undefined && hostname.toLowerCase() !== endpoint) continue;
            for (const p of ports) {
              if (!portMatches(p.name, p.protocol)) continue;
              entries.push({ host: ip, port: p.port ?? -1, domain: `${hostname}.${domain}` });
            }
          }
        }
      }
      return entries.length ? { nx: false, entries } : NX;
    }

    for (const p of svc.spec?.ports ?? []) {
      if (!portMatches(p.name, p.protocol)) continue;
      for (const ip of clusterIPs(svc)) entries.push({ host: ip, port: p.port, domain });
    }
    return entries.length ? { nx: false, entries } : NX;
  }
}

function stripUnderscore(s: string): string {
  return s.startsWith('_') ? s.slice(1) : s;
}

/** A Service's cluster IPs, canonical (spec.clusterIPs, else spec.clusterIP); none for headless and ExternalName. */
export function clusterIPs(svc: corev1.Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.map((ip) => canonicalIP(ip)).filter((ip): ip is string => !!ip);
}

/**
 * Answers one question from the cluster view, as CoreDNS's kubernetes plugin configured by kubeadm's Corefile
 * (`kubernetes <zone> in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }`).
 * Names outside the zone, and reverse names of no cluster address, come back as `forward`.
 */
export function resolve(question: Question, view: ClusterView, opts: ResolverOptions): Resolution {
  return new Resolver(view, opts).resolve(question);
}
