// The resource quota controller (upstream's pkg/controller/resourcequota): keeps every ResourceQuota's
// status.hard equal to spec.hard and status.used equal to what the namespace's objects use, with the
// evaluator the apiserver's ResourceQuota admission charges with (@kubelab/api quota). A quota is
// recalculated when it is created or its spec changes, when an object it counts appears, goes away or
// changes what it uses (a pod that finishes frees its share), when a deleted pod's grace period ends,
// and on the full resync every --resource-quota-sync-period. Status is written through /status.
import {
  calculateQuotaUsage,
  isConflict,
  isNotFound,
  podCountsAgainstQuota,
  prettyPrintQuotaUsage,
  quotaStatus,
  quotaTrackedResources,
  usageOf,
  type KubeObject,
} from '@kubelab/api';
import { delayOn, metaNamespaceKey, realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';

/** Upstream's --resource-quota-sync-period default. */
export const RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60_000;

export interface ResourceQuotaClient {
  /** PUT .../resourcequotas/<name>/status with the quota's resourceVersion (409 Conflict when stale). */
  updateStatus(quota: ResourceQuota): Promise<unknown>;
}

/** An informer of a resource whose objects quotas count. */
export interface QuotaTrackedInformer {
  group: string;
  resource: string;
  informer: Informer<KubeObject>;
}

export interface ResourceQuotaControllerOptions {
  quotaInformer: Informer<KubeObject>;
  /** The namespaced resources quotas may count (count/<resource>.<group> and the named ones). */
  informers: QuotaTrackedInformer[];
  client: ResourceQuotaClient;
  /** --resource-quota-sync-period: every quota is recalculated this often. */
  resyncPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
}

const key = (group: string, resource: string) => `${group}/${resource}`;

/** What about an object can change a quota's usage: what it uses, whether it counts, and what scopes see. */
function footprint(group: string, resource: string, obj: KubeObject, now: Date): string {
  if (!group && resource === 'pods') {
    const pod = obj as unknown as Pod;
    if (!podCountsAgainstQuota(pod, now)) return 'terminal';
    return `${prettyPrintQuotaUsage(usageOf(group, resource, obj))}|${pod.spec?.activeDeadlineSeconds ?? ''}|${pod.spec?.priorityClassName ?? ''}`;
  }
  return prettyPrintQuotaUsage(usageOf(group, resource, obj));
}

function sameResourceList(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a![k] === b![k]);
}

export class ResourceQuotaController implements RunnableController {
  readonly name = 'resourcequota-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: ResourceQuotaControllerOptions;
  private readonly clock: Clock;
  private readonly tracked = new Map<string, Informer<KubeObject>>();

  constructor(opts: ResourceQuotaControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    opts.quotaInformer.addEventHandler({ onAdd: (q) => this.enqueue(q), onUpdate: (old, q) => this.quotaUpdated(old, q) });
    for (const { group, resource, informer } of opts.informers) {
      this.tracked.set(key(group, resource), informer);
      informer.addEventHandler({
        onAdd: (obj) => this.objectChanged(group, resource, undefined, obj),
        onUpdate: (old, obj) => this.objectChanged(group, resource, old, obj),
        onDelete: (obj) => this.objectChanged(group, resource, undefined, obj),
      });
    }
  }

  /** A quota's update event: our own status writes come back too, so only a spec change or a stale status needs work. */
  quotaUpdated(old: KubeObject, q: KubeObject): void {
    const cur = q as ResourceQuota;
    const prev = old as ResourceQuota;
    const specChanged = JSON.stringify(prev.spec ?? {}) !== JSON.stringify(cur.spec ?? {});
    const usedMissing = Object.keys(cur.spec?.hard ?? {}).some((k) => cur.status?.used?.[k] === undefined);
    if (specChanged || usedMissing || !sameResourceList(cur.spec?.hard, cur.status?.hard)) this.enqueue(q);
  }

  /**
   * An object of a tracked resource was added or deleted (`old` undefined) or updated: queues the namespace's
   * quotas that count the resource, for an update only when it changes what the object uses (upstream's replenishment).
   */
  objectChanged(group: string, resource: string, old: KubeObject | undefined, obj: KubeObject): void {
    if (old) {
      this.watchGracePeriod(group, resource, obj);
      const now = new Date(this.clock.now());
      if (footprint(group, resource, old, now) === footprint(group, resource, obj, now)) return;
    }
    const ns = obj.metadata?.namespace;
    if (!ns) return;
    for (const q of this.opts.quotaInformer.lister.list(ns) as ResourceQuota[]) {
      const tracks = quotaTrackedResources(Object.keys(q.spec?.hard ?? {})).some((gr) => gr.group === group && gr.resource === resource);
      if (tracks) this.enqueue(q as KubeObject);
    }
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    const delay = delayOn(this.clock);
    const resync = (async () => {
      const period = this.opts.resyncPeriodMs ?? RESOURCE_QUOTA_SYNC_PERIOD_MS;
      while (!signal.aborted) {
        await delay(period, signal);
        if (!signal.aborted) this.resyncAll();
      }
    })();
    await runQueue(this.queue, workers, (k) => this.sync(k), signal, this.opts.logger);
    await resync;
  }

  /** Queues every quota (the full resync). */
  resyncAll(): void {
    for (const q of this.opts.quotaInformer.lister.list()) this.enqueue(q);
  }

  private enqueue(q: KubeObject): void {
    this.queue.add(metaNamespaceKey(q));
  }

  /** A deleted pod stops counting when its grace period ends, possibly with no event then: look again at that time. */
  private watchGracePeriod(group: string, resource: string, obj: KubeObject): void {
    if (group || resource !== 'pods') return;
    const { deletionTimestamp, deletionGracePeriodSeconds } = obj.metadata ?? {};
    if (!deletionTimestamp || deletionGracePeriodSeconds === undefined) return;
    const at = Date.parse(deletionTimestamp) + deletionGracePeriodSeconds * 1000 + 1000;
    const ms = at - this.clock.now();
    if (ms <= 0) return;
    const ns = obj.metadata.namespace!;
    for (const q of this.opts.quotaInformer.lister.list(ns)) this.queue.addAfter(metaNamespaceKey(q), ms);
  }

  /** Recalculates one quota (`namespace/name`) and writes its status when it differs. */
  async sync(quotaKey: string): Promise<void> {
    const slash = quotaKey.indexOf('/');
    const ns = quotaKey.slice(0, slash);
    const name = quotaKey.slice(slash + 1);
    const quota = this.opts.quotaInformer.lister.get(ns, name) as ResourceQuota | undefined;
    if (!quota) return;
    const used = calculateQuotaUsage(quota, (group, resource) => this.tracked.get(key(group, resource))?.lister.list(ns), new Date(this.clock.now()));
    const status = quotaStatus(quota, used);
    if (sameResourceList(status.hard, quota.status?.hard) && sameResourceList(status.used, quota.status?.used)) return;
    try {
      await this.opts.client.updateStatus({ ...quota, status });
    } catch (err) {
      if (isNotFound(err)) return;
      // A stale cache (the admission charged meanwhile): the quota's update event queues it again.
      if (isConflict(err)) {
        this.queue.addRateLimited(quotaKey);
        return;
      }
      throw err;
    }
  }
}
