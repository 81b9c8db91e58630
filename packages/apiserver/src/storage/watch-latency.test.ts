import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WatchLatencyTracker } from './watch-latency.js';

function bucket(text: string, series: string, le: string): number {
  const escaped = `${series.slice(0, -1)},le="${le}"} `.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped}(\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe('WatchLatencyTracker', () => {
  it('exposes the stages of the events written after a watch began as Prometheus histograms', async () => {
    const t = new WatchLatencyTracker();
    const registry = new Registry();
    t.register(registry);
    t.register(registry); // once per registry
    const started = t.now();
    // Revision 10: the transaction's answer first, then the watch event, then two watchers.
    t.committed('create', 'pods', 10, started);
    t.cacheReceived(10);
    t.written(10, started);
    t.written(10, started);
    // Revision 11: the watch event before the transaction's answer (the etcd_watch stage is then 0).
    t.cacheReceived(11);
    t.written(11, started);
    t.committed('update', 'pods', 11, started);
    // Revision 12 was in the cache before this watch began (initial state): not a delivery.
    t.cacheReceived(12);
    t.written(12, t.now() + 1);
    // Revision 13 is no event the cache received.
    t.written(13, started);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE apiserver_watch_delivery_latency_seconds histogram');
    expect(bucket(text, 'apiserver_watch_delivery_latency_seconds_bucket{stage="dispatch"}', '+Inf')).toBe(3);
    expect(bucket(text, 'apiserver_watch_delivery_latency_seconds_bucket{stage="commit_to_write"}', '+Inf')).toBe(3);
    expect(bucket(text, 'apiserver_watch_delivery_latency_seconds_bucket{stage="etcd_watch"}', '+Inf')).toBe(2);
    expect(bucket(text, 'apiserver_watch_delivery_latency_seconds_bucket{stage="etcd_watch"}', '5')).toBe(2);
    expect(text).toMatch(/^apiserver_watch_delivery_latency_seconds_count\{stage="dispatch"\} 3$/m);
    expect(bucket(text, 'etcd_request_duration_seconds_bucket{operation="create",type="pods"}', '+Inf')).toBe(1);
    expect(bucket(text, 'etcd_request_duration_seconds_bucket{operation="update",type="pods"}', '+Inf')).toBe(1);
    // Cumulative buckets never decrease.
    const counts = [...text.matchAll(/^apiserver_watch_delivery_latency_seconds_bucket\{stage="dispatch",le="[^"]+"\} (\S+)$/gm)].map((m) => Number(m[1]));
    expect(counts.length).toBe(19);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });
});
