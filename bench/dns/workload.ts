// The bench:dns workload, one description rendered three ways: the Services and EndpointSlices the
// apiserver stores (Kubelab's DNS reads them through its informers), the same records as a static
// cluster.local zone for BIND, and the dnsperf query file both servers get. Pure: no I/O.
import type { corev1, discoveryv1 } from '@kubelab/api';

export const ZONE = 'cluster.local';
/** As kubeadm's Corefile (`ttl 30`); the zone's $TTL and SOA minimum match it. */
export const TTL = 30;
/** Every `HEADLESS_EVERY`-th Service is headless, with `ENDPOINTS_PER_SERVICE` ready endpoints. */
const HEADLESS_EVERY = 10;
export const ENDPOINTS_PER_SERVICE = 3;

/** The Service's named ports (port, and the targetPort its EndpointSlice carries). */
const PORTS = [
  { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' as const },
  { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' as const },
];

export interface BenchService {
  namespace: string;
  name: string;
  headless: boolean;
  /** Ready endpoint addresses, the same in the EndpointSlice and the zone. */
  endpoints: string[];
}

export function namespaces(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${i}`);
}

/** `count` Services spread over `namespaceCount` namespaces; every tenth headless. */
export function benchServices(count: number, namespaceCount: number): BenchService[] {
  const ns = namespaces(namespaceCount);
  return Array.from({ length: count }, (_, i) => ({
    namespace: ns[i % ns.length]!,
    name: `svc-${i}`,
    headless: i % HEADLESS_EVERY === 0,
    endpoints: Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => {
      const k = i * ENDPOINTS_PER_SERVICE + j + 1;
      return `10.${244 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
    }),
  }));
}

export function serviceObject(s: BenchService): corev1.Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      ...(s.headless ? { clusterIP: 'None' } : {}),
      selector: { app: s.name },
      ports: PORTS.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
    },
  };
}

/** The EndpointSlice the EndpointSlice controller would write for the Service's pods. */
export function endpointSliceObject(s: BenchService): discoveryv1.EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${s.name}-bench`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name } },
    addressType: 'IPv4',
    endpoints: s.endpoints.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
    ports: PORTS.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
  };
}

/** An endpoint without a hostname is named by its IP with dashes (the specification, 2.4.1). */
function endpointName(ip: string): string {
  return ip.replaceAll('.', '-');
}

/**
 * The records the Kubernetes DNS specification gives these Services, as a zone file: A for each
 * Service (its cluster IP, or each ready endpoint when headless), A for each headless endpoint name,
 * and SRV for each named port (weights as CoreDNS shares 100 between the targets).
 * `clusterIPs` maps `namespace/name` to the IP the apiserver allocated.
 */
export function zoneFile(services: BenchService[], clusterIPs: ReadonlyMap<string, string>, serial: number): string {
  const lines = [
    `$ORIGIN ${ZONE}.`,
    `$TTL ${TTL}`,
    `@ ${TTL} IN SOA ns.dns.${ZONE}. hostmaster.${ZONE}. ${serial} 7200 1800 86400 ${TTL}`,
    `@ IN NS ns.dns.${ZONE}.`,
    'ns.dns IN A 127.0.0.1',
  ];
  for (const s of services) {
    const owner = `${s.name}.${s.namespace}.svc`;
    const fqdn = `${owner}.${ZONE}.`;
    if (s.headless) {
      const weight = Math.floor(100 / s.endpoints.length);
      for (const ip of s.endpoints) {
        lines.push(`${owner} IN A ${ip}`);
        lines.push(`${endpointName(ip)}.${owner} IN A ${ip}`);
      }
      for (const p of PORTS) for (const ip of s.endpoints) lines.push(`_${p.name}._tcp.${owner} IN SRV 0 ${weight} ${p.targetPort} ${endpointName(ip)}.${fqdn}`);
    } else {
      const ip = clusterIPs.get(`${s.namespace}/${s.name}`);
      if (!ip) throw new Error(`no cluster IP for ${s.namespace}/${s.name}`);
      lines.push(`${owner} IN A ${ip}`);
      for (const p of PORTS) lines.push(`_${p.name}._tcp.${owner} IN SRV 0 100 ${p.port} ${fqdn}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A small deterministic generator (mulberry32), so both servers and every run get the same file. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface QueryMix {
  /** Shares of the file; the rest are A queries for existing Services. */
  nxdomain: number;
  srv: number;
}

export const DEFAULT_MIX: QueryMix = { nxdomain: 0.2, srv: 0.2 };

/** dnsperf's input: `name type` lines, A for existing Services, A for missing ones (NXDOMAIN), SRV for named ports. */
export function queryFile(services: BenchService[], lines: number, mix: QueryMix = DEFAULT_MIX, seed = 11): string {
  const next = random(seed);
  const pick = () => services[Math.floor(next() * services.length)]!;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = next();
    const s = pick();
    if (r < mix.nxdomain) out.push(`missing-${i}.${s.namespace}.svc.${ZONE} A`);
    else if (r < mix.nxdomain + mix.srv) out.push(`_${PORTS[i % PORTS.length]!.name}._tcp.${s.name}.${s.namespace}.svc.${ZONE} SRV`);
    else out.push(`${s.name}.${s.namespace}.svc.${ZONE} A`);
  }
  return `${out.join('\n')}\n`;
}
