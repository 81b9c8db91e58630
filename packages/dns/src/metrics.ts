// CoreDNS's metrics (plugin/metrics/vars, plugin/cache/metrics.go) under their coredns_ names, one
// registry per server so that servers started side by side in one process do not share counters.
// The per-query series are counted in plain maps and arrays and handed to prom-client when scraped:
// prom-client's inc/observe validate and hash their labels on every call, which cost more than
// answering a cached query.
import { Counter, Gauge, Registry, type Metric } from 'prom-client';

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

type Labels = Record<string, string>;

/** Counts by label set, flushed into a prom-client Counter when it is collected. */
class CounterBatch {
  private readonly pending = new Map<string, { labels: Labels; n: number }>();

  inc(key: string, labels: () => Labels): void {
    const e = this.pending.get(key);
    if (e) e.n++;
    else this.pending.set(key, { labels: labels(), n: 1 });
  }

  flush(counter: Counter<string>): void {
    for (const e of this.pending.values()) {
      if (e.n) counter.inc(e.labels, e.n);
      e.n = 0;
    }
  }
}

/**
 * A histogram prom-client's registry exposes as its own (same text as prom-client's Histogram):
 * bucket counts, sum and count per label set, observed with one array increment.
 */
class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Labels; buckets: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(key: string, labels: () => Labels, value: number): void {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: labels(), buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        s.buckets[i]!++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  reset(): void {
    this.series.clear();
  }

  get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.buckets[i]!;
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export class DNSMetrics {
  readonly registry = new Registry();
  private readonly requests = new CounterBatch();
  private readonly responses = new CounterBatch();
  private readonly duration: FastHistogram;
  private readonly cacheHits: Counter<string>;
  private readonly cacheMisses: Counter<string>;

  /** `server` as CoreDNS labels it ("dns://:53"); every query is in the root server block's zone ".". */
  constructor(
    private readonly server: string,
    cacheEntries: (kind: 'success' | 'denial') => number,
  ) {
    const registers = [this.registry];
    const requests = this.requests;
    new Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
      registers,
      collect() {
        requests.flush(this);
      },
    });
    const responses = this.responses;
    new Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
      registers,
      collect() {
        responses.flush(this);
      },
    });
    this.duration = new FastHistogram('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', TIME_BUCKETS);
    this.registry.registerMetric(this.duration as unknown as Metric<string>);
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
    const server = this.server;
    const type = typeName(q.type);
    this.requests.inc(`${q.proto}|${q.family}|${type}`, () => ({ server, zone: '.', view: '', proto: q.proto, family: String(q.family), type }));
    this.responses.inc(`${q.rcode}|${q.plugin}`, () => ({ server, zone: '.', view: '', rcode: rcodeName(q.rcode), plugin: q.plugin }));
    this.duration.observe(type, () => ({ server, zone: '.', view: '', type }), q.seconds);
  }

  cache(event: 'success' | 'denial' | 'miss'): void {
    if (event === 'miss') this.cacheMisses.inc({ server: this.server, zones: '.', view: '' });
    else this.cacheHits.inc({ server: this.server, type: event, zones: '.', view: '' });
  }
}
