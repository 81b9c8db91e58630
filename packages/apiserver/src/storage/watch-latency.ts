// Where a watch event's delivery time goes inside the apiserver, as histograms on /metrics:
//  - etcd_request_duration_seconds{operation,type}: a write's etcd transaction (upstream's metric);
//  - apiserver_watch_delivery_latency_seconds{stage}: from the moment this apiserver knew a write
//    committed to the watch cache receiving the event from its etcd watch (stage "etcd_watch"), from the watch cache receiving it to the event being written to a watcher's
//    response (stage "dispatch"), and from the commit to that write (stage "commit_to_write", what
//    upstream's watch latency SLI counts: from the event's commit in the apiserver). Upstream has no
//    per-stage histogram; this one is Kubelab's, for bench:watch and for reading a slow watch.
// The commit time is when this apiserver first knew of the commit: its transaction's answer or the watch
// event, whichever came first (a revision it did not write, another apiserver's, counts from the watch
// event). The times are kept per revision in bounded maps (the last MAX_TRACKED revisions), in one
// process-wide tracker, since an apiserver process has one storage layer.
import type { Registry } from 'prom-client';

const MAX_TRACKED = 20_000;
const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];

function now(): number {
  return performance.now();
}

class BoundedTimes {
  private readonly times = new Map<number, number>();
  set(revision: number, at: number): void {
    if (this.times.has(revision)) return;
    this.times.set(revision, at);
    if (this.times.size > MAX_TRACKED) {
      const oldest = this.times.keys().next().value as number;
      this.times.delete(oldest);
    }
  }
  get(revision: number): number | undefined {
    return this.times.get(revision);
  }
}

/** One series of a histogram: counts per bucket (not cumulative), sum and count. */
class Series {
  readonly counts = new Float64Array(BUCKETS.length);
  sum = 0;
  count = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    if (i < BUCKETS.length) this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A Prometheus histogram for hot paths (an observation per event per watcher): prom-client's validates
 * and hashes its labels on every observation; here a caller holds its series and an observation is a
 * bucket search and three additions. Exposed through a registry like prom-client's own metrics.
 */
class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series for these labels (created on first use; keep it to observe). */
  with(labels: Record<string, string>): Series {
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new Series(labels)));
    return s;
  }

  /** prom-client's metric interface (Registry#metrics reads this). */
  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> } {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class WatchLatencyTracker {
  readonly etcdRequestDuration = new FastHistogram('etcd_request_duration_seconds', 'Etcd request latency in seconds for each operation and object type.');
  readonly deliveryLatency = new FastHistogram(
    'apiserver_watch_delivery_latency_seconds',
    'Kubelab: watch event delivery latency inside the apiserver by stage (etcd_watch: commit to watch cache; dispatch: watch cache to the write on a watcher response; commit_to_write: both).',
  );
  private readonly etcdWatch = this.deliveryLatency.with({ stage: 'etcd_watch' });
  private readonly dispatch = this.deliveryLatency.with({ stage: 'dispatch' });
  private readonly commitToWrite = this.deliveryLatency.with({ stage: 'commit_to_write' });
  private readonly commits = new BoundedTimes();
  private readonly received = new BoundedTimes();

  /** Adds the histograms to a server's registry (once per registry). */
  register(registry: Registry): void {
    for (const m of [this.etcdRequestDuration, this.deliveryLatency]) {
      if (!registry.getSingleMetric(m.name)) registry.registerMetric(m as never);
    }
  }

  /** A write's etcd transaction (started at `startedAt`, from now()) committed at revision. */
  committed(operation: string, type: string, revision: number, startedAt: number): void {
    const at = now();
    // The watch event often arrives first: the commit was known from then on (its etcd_watch stage is 0).
    const received = this.received.get(revision);
    if (received !== undefined) this.etcdWatch.observe(0);
    this.commits.set(revision, received ?? at);
    this.etcdRequestDuration.with({ operation, type }).observe((at - startedAt) / 1000);
  }

  /** The watch cache received the event of revision from its etcd watch. */
  cacheReceived(revision: number): void {
    const at = now();
    this.received.set(revision, at);
    const committed = this.commits.get(revision);
    if (committed !== undefined) this.etcdWatch.observe((at - committed) / 1000);
  }

  /**
   * The event of revision was written to a watcher's response; watchStartedAt (from now()) leaves out
   * events the cache held before the watch began (initial state, replay), which are not deliveries.
   */
  written(revision: number, watchStartedAt: number): void {
    const received = this.received.get(revision);
    if (received === undefined || received < watchStartedAt) return;
    const at = now();
    this.dispatch.observe((at - received) / 1000);
    this.commitToWrite.observe((at - (this.commits.get(revision) ?? received)) / 1000);
  }

  /** A monotonic timestamp in this tracker's clock. */
  now(): number {
    return now();
  }
}

export const watchLatency = new WatchLatencyTracker();
