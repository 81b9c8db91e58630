// The iptables proxier (upstream's pkg/proxy/iptables/proxier.go Proxier): informer events only
// queue a sync; a bounded-frequency runner calls syncProxyRules, which renders the whole ruleset
// from the caches and applies it with one iptables-restore --noflush when it changed (and always on
// a full sync, at least every --iptables-sync-period). A failed restore logs the lines around the
// failing one and is retried later as a full sync.
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { KubeObject } from '@kubelab/api';
import { realClock, type Clock, type Informer } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Node, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { udpServiceStates, staleUDPDeletions, type Conntrack, type UDPServiceState } from './conntrack.js';
import type { ProxyHealthServer } from './healthcheck.js';
import { chainsFromSave, ensureJumps, extractLines, RestoreError, type IPTables } from './iptables/iptables.js';
import type { ProxyMetrics } from './metrics.js';
import { JUMP_CHAINS, KUBELET_JUMP_CHAINS } from './rules/jump-chains.js';
import { renderProxyRules, type ProxyRulesOptions } from './rules/render.js';
import { categorizeEndpoints, servicePortKey } from './rules/service-ports.js';
import { BoundedFrequencyRunner } from './runner.js';

export const LAST_CHANGE_TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const IP_FAMILY = { ip_family: 'IPv4' };

export interface ProxierOptions {
  serviceInformer: Informer<KubeObject>;
  endpointSliceInformer: Informer<KubeObject>;
  /** The informer on this node's own Node object (eligibility for /healthz, node IP, labels). */
  nodeInformer?: Informer<KubeObject>;
  iptables: IPTables;
  conntrack?: Conntrack;
  nodeName: string;
  /** Renderer options; nodePortIPs and nodeIP are resolved by the proxier. */
  rules: Omit<ProxyRulesOptions, 'nodePortIPs'>;
  /** --nodeport-addresses: CIDRs (or "primary"); empty means every local address. */
  nodePortAddresses?: readonly string[];
  /** The node's IPv4 addresses (injected in tests); default: the addresses of this network namespace. */
  localAddresses?: () => string[];
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: ProxyMetrics;
  health?: ProxyHealthServer;
}

export class Proxier {
  readonly runner: BoundedFrequencyRunner;
  private readonly clock: Clock;
  private readonly log?: Logger;
  private initialized = false;
  private needFullSync = true;
  private lastFullSync = -Infinity;
  /** What the last successful sync wrote (without stale-chain deletions), to skip unchanged syncs. */
  private lastText?: string;
  private lastActiveChains = new Set<string>();
  private lastUDP = new Map<string, UDPServiceState>();
  private pendingTriggerTimes: number[] = [];
  private nodeIP?: string;
  private nodeLabels = '';
  /** Successful iptables-restore runs (tests and logs). */
  restoreCount = 0;

  constructor(private readonly opts: ProxierOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.nodeIP = opts.rules.nodeIP;
    this.runner = new BoundedFrequencyRunner({
      fn: () => this.syncProxyRules(),
      minIntervalMs: opts.minSyncPeriodMs,
      maxIntervalMs: opts.syncPeriodMs,
      clock: this.clock,
      onError: (err) => this.log?.error({ err }, 'Sync failed'),
    });
    const changed = (kind: 'service' | 'endpoints') => (oldObj: KubeObject | undefined, obj: KubeObject) => {
      if (oldObj && oldObj.metadata.resourceVersion === obj.metadata.resourceVersion) return; // a resync
      if (kind === 'endpoints') {
        opts.metrics?.endpointChangesTotal.inc();
        const t = Date.parse((obj as EndpointSlice).metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] ?? '');
        if (!Number.isNaN(t)) this.pendingTriggerTimes.push(t);
      } else opts.metrics?.serviceChangesTotal.inc();
      this.sync();
    };
    for (const [inf, kind] of [
      [opts.serviceInformer, 'service'],
      [opts.endpointSliceInformer, 'endpoints'],
    ] as const) {
      inf.addEventHandler({
        onAdd: (o) => changed(kind)(undefined, o),
        onUpdate: (a, b) => changed(kind)(a, b),
        onDelete: (o) => changed(kind)(undefined, o),
      });
    }
    opts.nodeInformer?.addEventHandler({
      onAdd: (n) => this.onNode(n as Node),
      onUpdate: (_, n) => this.onNode(n as Node),
      onDelete: (n) => this.onNode({ ...(n as Node), metadata: { ...(n as Node).metadata, deletionTimestamp: new Date(this.clock.now()).toISOString() } }),
    });
  }

  /** Queues a sync (upstream's Proxier.Sync). */
  sync(): void {
    this.opts.health?.queuedUpdate();
    this.opts.metrics?.syncProxyRulesLastQueuedTimestamp.set(IP_FAMILY, this.clock.now() / 1000);
    if (this.initialized) this.runner.run();
  }

  /** Waits for the Service and EndpointSlice caches, then syncs at once and keeps syncing until stop(). */
  async run(signal?: AbortSignal): Promise<boolean> {
    this.opts.health?.updated();
    const synced = await Promise.all([this.opts.serviceInformer.waitForSync(signal), this.opts.endpointSliceInformer.waitForSync(signal)]);
    if (!synced.every(Boolean) || signal?.aborted) return false;
    this.initialized = true;
    this.runner.loop();
    return true;
  }

  async stop(): Promise<void> {
    this.runner.stop();
    await this.runner.idle();
  }

  private onNode(node: Node): void {
    if (node.metadata?.name !== this.opts.nodeName) {
      this.log?.error({ eventNode: node.metadata?.name, currentNode: this.opts.nodeName }, "Received a watch event for a node that doesn't match the current node");
      return;
    }
    this.opts.health?.syncNode(node);
    const ip = (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP' && isIP(a.address) === 4)?.address;
    const labels = JSON.stringify(node.metadata?.labels ?? {});
    if ((ip && ip !== this.nodeIP) || labels !== this.nodeLabels) {
      if (ip) this.nodeIP = ip;
      this.nodeLabels = labels;
      this.needFullSync = true;
      this.sync();
    }
  }

  /** The local addresses NodePorts answer on; undefined for all of them. */
  nodePortIPs(): string[] | undefined {
    const cidrs = this.opts.nodePortAddresses ?? [];
    if (cidrs.length === 0) return undefined;
    const locals = this.opts.localAddresses?.() ?? localIPv4Addresses();
    const list = new BlockList();
    const out = new Set<string>();
    for (const c of cidrs) {
      if (c === 'primary') {
        if (this.nodeIP) out.add(this.nodeIP);
        continue;
      }
      const [base, bits] = c.split('/');
      if (isIP(base ?? '') === 4) list.addSubnet(base!, Number(bits ?? 32), 'ipv4');
    }
    for (const ip of locals) if (list.check(ip, 'ipv4')) out.add(ip);
    return [...out].sort();
  }

  /** One sync: render from the caches and apply if changed (or on a full sync). */
  async syncProxyRules(): Promise<void> {
    if (!this.initialized) {
      this.log?.debug({}, 'Not syncing iptables until Services and Endpoints have been received from master');
      return;
    }
    const { iptables, metrics } = this.opts;
    const start = this.clock.now();
    const fullSync = this.needFullSync || start - this.lastFullSync >= this.opts.syncPeriodMs;
    const triggerTimes = this.pendingTriggerTimes;
    this.pendingTriggerTimes = [];
    const fail = () => {
      this.needFullSync = true;
      this.pendingTriggerTimes.push(...triggerTimes);
      this.log?.info({ retryingTimeMs: this.opts.syncPeriodMs }, 'Sync failed');
      this.runner.retryAfter(this.opts.syncPeriodMs);
    };

    let existing: Iterable<string> = this.lastActiveChains;
    if (fullSync) {
      try {
        // The jumps from the built-in chains: on start, and again whenever something may have flushed them.
        await ensureJumps(iptables, this.opts.rules.localhostNodePorts ? [...JUMP_CHAINS, ...KUBELET_JUMP_CHAINS] : JUMP_CHAINS);
        existing = chainsFromSave(await iptables.save('nat'));
      } catch (err) {
        this.log?.error({ err }, 'Failed to ensure the jump rules and read the nat table');
        return fail();
      }
    }

    const input = {
      services: this.opts.serviceInformer.store.list() as unknown as Service[],
      endpointSlices: this.opts.endpointSliceInformer.store.list() as unknown as EndpointSlice[],
      nodeName: this.opts.nodeName,
      options: { ...this.opts.rules, nodeIP: this.nodeIP, nodePortIPs: this.nodePortIPs() },
    };
    const rules = renderProxyRules({ ...input, existingNatChains: existing });
    const key = rules.deletedChains.length ? renderProxyRules(input).text : rules.text;

    if (fullSync || key !== this.lastText) {
      try {
        await iptables.restore(rules.text, { noflush: true });
        this.restoreCount++;
      } catch (err) {
        const line = err instanceof RestoreError ? err.line : undefined;
        this.log?.error({ err, ...(line ? { rules: extractLines(rules.text, line, 3) } : {}) }, 'Failed to execute iptables-restore');
        metrics?.iptablesRestoreFailures.inc(IP_FAMILY);
        return fail();
      }
      this.log?.debug({ fullSync, deletedChains: rules.deletedChains.length, ...rules.counts }, 'Reloaded service iptables data');
    }
    this.lastText = key;
    this.lastActiveChains = rules.activeNatChains;
    this.needFullSync = false;
    if (fullSync) this.lastFullSync = start;

    const now = this.clock.now();
    const seconds = (now - start) / 1000;
    metrics?.syncProxyRulesLatency.observe(IP_FAMILY, seconds);
    (fullSync ? metrics?.syncFullProxyRulesLatency : metrics?.syncPartialProxyRulesLatency)?.observe(IP_FAMILY, seconds);
    metrics?.syncProxyRulesLastTimestamp.set(IP_FAMILY, now / 1000);
    metrics?.iptablesRulesTotal.set({ table: 'filter', ...IP_FAMILY }, rules.counts.filterRules);
    metrics?.iptablesRulesTotal.set({ table: 'nat', ...IP_FAMILY }, rules.counts.natRules);
    metrics?.iptablesRulesLastSync.set({ table: 'filter', ...IP_FAMILY }, rules.counts.filterRules);
    metrics?.iptablesRulesLastSync.set({ table: 'nat', ...IP_FAMILY }, rules.counts.natRules);
    for (const t of triggerTimes) metrics?.networkProgrammingLatency.observe(IP_FAMILY, Math.max(0, now - t) / 1000);
    if (metrics) {
      let internal = 0;
      let external = 0;
      for (const svc of rules.servicePorts) {
        const c = categorizeEndpoints(rules.endpoints.get(servicePortKey(svc.name, svc.protocol)) ?? [], svc);
        if (!c.hasAnyEndpoints) continue;
        if (svc.internalPolicyLocal && c.local.length === 0) internal++;
        if (svc.externalPolicyLocal && c.local.length === 0) external++;
      }
      metrics.noLocalEndpointsTotal.set({ traffic_policy: 'internal', ...IP_FAMILY }, internal);
      metrics.noLocalEndpointsTotal.set({ traffic_policy: 'external', ...IP_FAMILY }, external);
    }
    this.opts.health?.updated();

    // Housekeeping: stale UDP conntrack entries, best effort.
    const udp = udpServiceStates(rules.servicePorts, rules.endpoints);
    const deletions = staleUDPDeletions(this.lastUDP, udp);
    this.lastUDP = udp;
    if (this.opts.conntrack) {
      for (const d of deletions) {
        try {
          if (!(await this.opts.conntrack.delete(d))) {
            this.log?.debug({}, 'conntrack is not installed: stale UDP entries are not cleared');
            break;
          }
        } catch (err) {
          this.log?.error({ err }, 'Failed to clear stale conntrack entries');
        }
      }
    }
  }
}

/** IPv4 addresses of this network namespace's interfaces. */
export function localIPv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((a) => a ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => a.address);
}
