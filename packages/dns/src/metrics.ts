// CoreDNS's metrics (plugin/metrics/vars, plugin/cache/metrics.go) under their coredns_ names, one
// registry per server so that servers started side by side in one process do not share counters.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** CoreDNS's plugin.TimeBuckets: ExponentialBuckets(0.00025, 2, 16). */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

/** The query types CoreDNS counts by name; the rest are "other" (plugin/metrics/vars/monitor.go). */
const MONITORED_TYPES: Record<number, string> = {
  1: 'A', 28: 'AAAA', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 33: 'SRV', 35: 'NAPTR', 43: 'DS',
  48: 'DNSKEY', 46: 'RRSIG', 47: 'NSEC', 50: 'NSEC3', 64: 'SVCB', 65: 'HTTPS', 251: 'IXFR', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};
const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' };

export function typeName(type: number): string {
  return MONITORED_TYPES[type] ?? 'other';
}

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export class DNSMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly responses: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly cacheHits: Counter<string>;
  private readonly cacheMisses: Counter<string>;

  /** `server` as CoreDNS labels it ("dns://:53"); every query is in the root server block's zone ".". */
  constructor(
    private readonly server: string,
    cacheEntries: (kind: 'success' | 'denial') => number,
  ) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
      registers,
    });
    this.responses = new Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
      registers,
    });
    this.duration = new Histogram({
      name: 'coredns_dns_request_duration_seconds',
      help: 'Histogram of the time (in seconds) each request took per zone.',
      labelNames: ['server', 'zone', 'view', 'type'],
      buckets: TIME_BUCKETS,
      registers,
    });
    this.cacheHits = new Counter({
      name: 'coredns_cache_hits_total',
      help: 'The count of cache hits.',
      labelNames: ['server', 'type', 'zones', 'view'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'coredns_cache_misses_total',
      help: 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
      labelNames: ['server', 'zones', 'view'],
      registers,
    });
    const srv = server;
    new Gauge({
      name: 'coredns_cache_entries',
      help: 'The number of elements in the cache.',
      labelNames: ['server', 'type', 'zones', 'view'],
      registers,
      collect() {
        for (const kind of ['success', 'denial'] as const) this.set({ server: srv, type: kind, zones: '.', view: '' }, cacheEntries(kind));
      },
    });
  }

  /** One answered query: request and response counters and the latency histogram. */
  observe(q: { type: number; proto: 'udp' | 'tcp'; family: 1 | 2; rcode: number; plugin: string; seconds: number }): void {
    const base = { server: this.server, zone: '.', view: '' };
    this.requests.inc({ ...base, proto: q.proto, family: String(q.family), type: typeName(q.type) });
    this.responses.inc({ ...base, rcode: rcodeName(q.rcode), plugin: q.plugin });
    this.duration.observe({ ...base, type: typeName(q.type) }, q.seconds);
  }

  cache(event: 'success' | 'denial' | 'miss'): void {
    if (event === 'miss') this.cacheMisses.inc({ server: this.server, zones: '.', view: '' });
    else this.cacheHits.inc({ server: this.server, type: event, zones: '.', view: '' });
  }
}
