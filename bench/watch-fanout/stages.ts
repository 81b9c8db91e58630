// The delivery-latency breakdown of bench/watch-fanout.ts: the apiserver's own stage histograms
// (storage/watch-latency.ts: etcd_request_duration_seconds, apiserver_watch_delivery_latency_seconds
// by stage) and its event-loop delay (prom-client's nodejs_eventloop_lag_*), read from /metrics before
// and after a scenario, the histograms' difference giving that scenario's percentiles.

/** Cumulative bucket counts by upper bound (Infinity for +Inf), for one histogram series. */
export type Buckets = Map<number, number>;

/** Every histogram series in a Prometheus text exposition: `name{labels}` (without le) -> buckets. */
export function parseHistograms(text: string): Map<string, Buckets> {
  const out = new Map<string, Buckets>();
  const re = /^([a-zA-Z_:][\w:]*)_bucket\{(.*)\} (\S+)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const labels = m[2]!.split(',').filter((l) => l && !l.startsWith('le='));
    const le = /le="([^"]+)"/.exec(m[2]!)?.[1];
    if (le === undefined) continue;
    const series = `${m[1]}{${labels.join(',')}}`;
    let b = out.get(series);
    if (!b) out.set(series, (b = new Map()));
    b.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(m[3]));
  }
  return out;
}

/** A gauge's value (the first series of that name), NaN when absent. */
export function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** after - before, bucket by bucket. */
export function diff(after: Buckets | undefined, before: Buckets | undefined): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after ?? []) out.set(le, n - (before?.get(le) ?? 0));
  return out;
}

export function count(b: Buckets): number {
  return b.get(Number.POSITIVE_INFINITY) ?? 0;
}

/** The p-th percentile (0..100) in the histogram's unit, interpolated within its bucket; NaN when empty. */
export function percentile(b: Buckets, p: number): number {
  const total = count(b);
  if (!total) return Number.NaN;
  const want = (p / 100) * total;
  const bounds = [...b.keys()].sort((x, y) => x - y);
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = b.get(le)!;
    if (c >= want) {
      if (le === Number.POSITIVE_INFINITY) return prevBound;
      const inBucket = c - prevCount;
      return inBucket > 0 ? prevBound + ((want - prevCount) / inBucket) * (le - prevBound) : le;
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound;
}

export interface Stage {
  name: string;
  series: string;
}

/** The stages the bench reports, in the order an event goes through them. */
export const STAGES: Stage[] = [
  { name: "etcd transaction of the write (etcd_request_duration_seconds)", series: 'etcd_request_duration_seconds{operation="OP",type="TYPE"}' },
  { name: 'commit -> watch cache (etcd watch)', series: 'apiserver_watch_delivery_latency_seconds{stage="etcd_watch"}' },
  { name: 'watch cache -> written to the watcher response', series: 'apiserver_watch_delivery_latency_seconds{stage="dispatch"}' },
  { name: 'commit -> written (upstream SLI start)', series: 'apiserver_watch_delivery_latency_seconds{stage="commit_to_write"}' },
];

/** p50/p99 in ms of each stage between two /metrics texts. */
export function stageBreakdown(before: string, after: string, op: string, type: string): Array<{ name: string; n: number; p50: number; p99: number }> {
  const b = parseHistograms(before);
  const a = parseHistograms(after);
  return STAGES.map((s) => {
    const series = s.series.replace('OP', op).replace('TYPE', type);
    const h = diff(a.get(series), b.get(series));
    return { name: s.name, n: count(h), p50: percentile(h, 50) * 1000, p99: percentile(h, 99) * 1000 };
  });
}
