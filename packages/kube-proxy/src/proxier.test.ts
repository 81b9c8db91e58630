import { describe, expect, it } from 'vitest';
import type { KubeList, KubeObject, WatchEvent } from '@kubelab/api';
import { FakeClock, flushMicrotasks, Informer, type ListWatch, type WatchStream } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import type { ConntrackDeletion, Conntrack } from './conntrack.js';
import { ProxyHealthServer } from './healthcheck.js';
import { FakeIPTables } from './iptables/fake.js';
import { ProxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { endpointChainName } from './rules/chain-names.js';
import { JUMP_CHAINS } from './rules/jump-chains.js';
import { renderProxyRules } from './rules/render.js';
import { makeService, makeSlice, ready } from './rules/testing.js';

/** A collection whose watch the test drives: `emit` delivers an event to the running informer. */
class Collection implements ListWatch<KubeObject> {
  private rv = 100;
  private stream?: { push(e: WatchEvent): void };
  constructor(private readonly items: KubeObject[]) {}
  async list(): Promise<KubeList<KubeObject>> {
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.rv) }, items: this.items.map((o) => this.stamp(o)) };
  }
  async watch(): Promise<WatchStream<KubeObject>> {
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    this.stream = {
      push: (e) => {
        queue.push(e);
        wake?.();
      },
    };
    return {
      stop: () => {
        stopped = true;
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          const e = queue.shift();
          if (e) yield e;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: object): void {
    this.stream!.push({ type, object: this.stamp(obj as KubeObject) });
  }
  private stamp(o: KubeObject): KubeObject {
    return { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
  }
}

const web = makeService('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
const dns = makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
const webSlice = (...ips: string[]) => makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], ips.map((ip) => ready(ip)));
const dnsSlice = (...ips: string[]) => makeSlice('kube-system', 'kube-dns', 1, [{ name: 'dns', port: 53, protocol: 'UDP' }], ips.map((ip) => ready(ip)));

class RecordingConntrack implements Conntrack {
  readonly deleted: ConntrackDeletion[] = [];
  async delete(d: ConntrackDeletion): Promise<boolean> {
    this.deleted.push(d);
    return true;
  }
}

async function setup(services: object[], slices: object[]) {
  const clock = new FakeClock();
  const svcs = new Collection(services as KubeObject[]);
  const eps = new Collection(slices as KubeObject[]);
  const serviceInformer = new Informer<KubeObject>({ listWatch: svcs, clock });
  const endpointSliceInformer = new Informer<KubeObject>({ listWatch: eps, clock });
  const iptables = new FakeIPTables();
  const conntrack = new RecordingConntrack();
  const metrics = new ProxyMetrics();
  const health = new ProxyHealthServer(60_000, clock, metrics);
  const logs: Array<Record<string, unknown>> = [];
  const logger = silentLogger();
  logger.error = ((obj: Record<string, unknown>, msg: string) => logs.push({ ...obj, msg })) as unknown as typeof logger.error;
  const proxier = new Proxier({
    serviceInformer,
    endpointSliceInformer,
    iptables,
    conntrack,
    nodeName: 'node-a',
    rules: { clusterCIDR: '10.244.0.0/16' },
    minSyncPeriodMs: 1_000,
    syncPeriodMs: 30_000,
    clock,
    logger,
    metrics,
    health,
  });
  serviceInformer.start();
  endpointSliceInformer.start();
  await proxier.run();
  await clock.step(0);
  const stop = async () => {
    await proxier.stop();
    await Promise.all([serviceInformer.stop(), endpointSliceInformer.stop()]);
  };
  return { clock, svcs, eps, iptables, conntrack, metrics, health, proxier, logs, stop };
}

describe('Proxier', () => {
  it('syncs once the caches are synced: jumps ensured, the rendered ruleset restored with --noflush', async () => {
    const t = await setup([web], [webSlice('10.244.1.5', '10.244.2.6')]);
    expect(t.iptables.restores).toHaveLength(1);
    expect(t.iptables.restores[0]!.opts).toEqual({ noflush: true });
    const expected = renderProxyRules({ services: [web], endpointSlices: [webSlice('10.244.1.5', '10.244.2.6')], nodeName: 'node-a', options: { clusterCIDR: '10.244.0.0/16' } });
    expect(t.iptables.last()).toBe(expected.text);
    for (const j of JUMP_CHAINS) expect(t.iptables.hasJump(j)).toBe(true);
    await t.stop();
  });

  it('coalesces a burst of changes into one sync no sooner than --iptables-min-sync-period', async () => {
    const t = await setup([web], [webSlice('10.244.1.5')]);
    t.eps.emit('MODIFIED', webSlice('10.244.1.5', '10.244.1.6'));
    t.eps.emit('MODIFIED', webSlice('10.244.1.5', '10.244.1.6', '10.244.1.7'));
    t.svcs.emit('ADDED', dns);
    await t.clock.step(500);
    expect(t.iptables.restores).toHaveLength(1);
    await t.clock.step(500);
    expect(t.iptables.restores).toHaveLength(2);
    expect(t.iptables.last()).toContain('--to-destination 10.244.1.7:8080');
    expect(t.iptables.last()).toContain('10.96.0.10');
    await t.clock.step(5_000);
    expect(t.iptables.restores).toHaveLength(2);
    await t.stop();
  });

  it('skips the restore when a change leaves the rules as they are, but restores on every full resync', async () => {
    const t = await setup([web], [webSlice('10.244.1.5')]);
    t.svcs.emit('MODIFIED', { ...web, metadata: { ...web.metadata, labels: { tier: 'frontend' } } });
    await t.clock.step(1_000);
    expect(t.iptables.restores).toHaveLength(1);
    await t.clock.step(30_000);
    expect(t.iptables.restores).toHaveLength(2);
    await t.stop();
  });

  it('deletes the chains of an endpoint that went away in the same payload', async () => {
    const t = await setup([web], [webSlice('10.244.1.5', '10.244.1.6')]);
    t.eps.emit('MODIFIED', webSlice('10.244.1.5'));
    await t.clock.step(1_000);
    const gone = endpointChainName('default/web:http', 'tcp', '10.244.1.6:8080');
    expect(t.iptables.last()).toContain(`:${gone} - [0:0]`);
    expect(t.iptables.last()).toContain(`-X ${gone}`);
    expect(t.iptables.chains.get('nat')?.has(gone)).toBe(false);
    await t.stop();
  });

  it('a failed restore logs the lines around the failing one and is retried as a full sync after the sync period', async () => {
    const t = await setup([web], [webSlice('10.244.1.5')]);
    t.iptables.failNextRestoreAtLine = 14;
    t.eps.emit('MODIFIED', webSlice('10.244.1.5', '10.244.1.6'));
    await t.clock.step(1_000);
    expect(t.iptables.restores).toHaveLength(1);
    const failure = t.logs.find((l) => l.msg === 'Failed to execute iptables-restore');
    expect(failure?.rules).toMatch(/^11: [\s\S]*\n14: [\s\S]*\n17: /);
    expect(await t.metrics.registry.getSingleMetricAsString('kubeproxy_sync_proxy_rules_iptables_restore_failures_total')).toContain(
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} 1',
    );
    const jumpsBefore = t.iptables.rules.length;
    t.iptables.rules.length = 0; // as if something flushed the built-in chains
    await t.clock.step(29_999);
    expect(t.iptables.restores).toHaveLength(1);
    await t.clock.step(1);
    expect(t.iptables.restores).toHaveLength(2);
    expect(t.iptables.last()).toContain('--to-destination 10.244.1.6:8080');
    expect(t.iptables.rules.length).toBe(jumpsBefore);
    await t.stop();
  });

  it('clears UDP conntrack entries of an endpoint that went away, and of a service that got its first endpoint', async () => {
    const t = await setup([dns], [dnsSlice('10.244.0.3', '10.244.0.4')]);
    t.conntrack.deleted.length = 0;
    t.eps.emit('MODIFIED', dnsSlice('10.244.0.3'));
    await t.clock.step(1_000);
    expect(t.conntrack.deleted).toEqual([{ kind: 'nat', origDst: '10.96.0.10', port: 53, dstNat: '10.244.0.4' }]);
    t.conntrack.deleted.length = 0;
    t.eps.emit('MODIFIED', dnsSlice());
    await t.clock.step(1_000);
    t.eps.emit('MODIFIED', dnsSlice('10.244.0.9'));
    await t.clock.step(1_000);
    expect(t.conntrack.deleted).toEqual([
      { kind: 'nat', origDst: '10.96.0.10', port: 53, dstNat: '10.244.0.3' },
      { kind: 'ip', origDst: '10.96.0.10', port: 53 },
    ]);
    await t.stop();
  });

  it('reports network programming latency from the slices\' last-change-trigger-time and the last sync time', async () => {
    const t = await setup([web], [webSlice('10.244.1.5')]);
    const slice = webSlice('10.244.1.6');
    slice.metadata!.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': new Date(t.clock.now() - 2_000).toISOString() };
    t.eps.emit('MODIFIED', slice);
    await t.clock.step(1_000);
    const text = await t.metrics.registry.metrics();
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_count{ip_family="IPv4"} 1');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="3",ip_family="IPv4"} 1');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="2",ip_family="IPv4"} 0');
    expect(text).toContain(`kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} ${t.clock.now() / 1000}`);
    await t.stop();
  });
});

describe('ProxyHealthServer', () => {
  function respond(h: ProxyHealthServer, path: 'healthz' | 'livez') {
    let code = 0;
    let body = '';
    const res = { writeHead: (c: number) => (code = c), end: (b: string) => (body = b) };
    h[path]({} as never, res as never);
    return { code, body: JSON.parse(body) as Record<string, unknown> };
  }

  it('is unhealthy once a queued update has waited longer than the timeout, and while the node is being deleted', async () => {
    const clock = new FakeClock(Date.parse('2026-12-02T10:00:00Z'));
    const h = new ProxyHealthServer(60_000, clock);
    h.updated();
    expect(respond(h, 'healthz')).toEqual({ code: 200, body: { lastUpdated: '2026-12-02 10:00:00 +0000 UTC', currentTime: '2026-12-02 10:00:00 +0000 UTC', nodeEligible: true } });
    h.queuedUpdate();
    await clock.step(59_999);
    expect(respond(h, 'healthz').code).toBe(200);
    await clock.step(1);
    expect(respond(h, 'healthz')).toEqual({ code: 503, body: { lastUpdated: '2026-12-02 10:00:00 +0000 UTC', currentTime: '2026-12-02 10:01:00 +0000 UTC', nodeEligible: true } });
    h.updated();
    expect(respond(h, 'healthz').code).toBe(200);
    h.syncNode({ metadata: { name: 'n', deletionTimestamp: '2026-12-02T10:01:00Z' } });
    expect(respond(h, 'healthz').code).toBe(503);
    expect(respond(h, 'healthz').body.nodeEligible).toBe(false);
    expect(respond(h, 'livez').code).toBe(200);
    await flushMicrotasks();
  });
});
