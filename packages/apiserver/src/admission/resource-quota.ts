// ResourceQuota: a namespace's ResourceQuotas cap object counts (pods, services, count/<resource>, ...)
// and compute (requests.cpu, limits.memory, ...). A create is checked against every quota that tracks
// something it uses; if all allow it, each quota's status.used is charged with optimistic concurrency
// on the ResourceQuota (a conflict re-reads and re-checks), before the object is stored.
//
// Usage is recomputed from the namespace's objects (the watch cache) with the evaluator shared with the
// controller-manager's resource quota controller (@kubelab/api quota), plus charges this server made for
// objects the cache has not shown yet, so a deleted object frees its share before the controller resyncs.
import {
  addObjectsUsage,
  addQuotaUsage,
  prettyPrintQuotaUsage,
  Quantity,
  QUOTA_COMPUTE_RESOURCES,
  quotaSelects,
  quotaStatus,
  quotaTrackedResources,
  resourceOfQuotaName,
  StatusError,
  usageOf,
  type KubeObject,
  type QuotaUsage,
} from '@kubelab/api';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { forbiddenFor } from './util.js';

/**
 * Quotas on compute resources require every container to state them (a missing request or limit
 * could not be charged): `must specify limits.cpu for: a,b; requests.memory for: a`.
 */
function missingCompute(pod: Pod, hard: string[]): string | undefined {
  const missing = new Map<string, Set<string>>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const k of hard) {
      let field: 'requests' | 'limits';
      let res: string;
      if (QUOTA_COMPUTE_RESOURCES.includes(k)) [field, res] = ['requests', k];
      else if (k.startsWith('requests.') && QUOTA_COMPUTE_RESOURCES.includes(k.slice(9))) [field, res] = ['requests', k.slice(9)];
      else if (k.startsWith('limits.') && QUOTA_COMPUTE_RESOURCES.includes(k.slice(7))) [field, res] = ['limits', k.slice(7)];
      else continue;
      if (res === 'ephemeral-storage') continue;
      if (c.resources?.[field]?.[res] === undefined) {
        if (!missing.has(k)) missing.set(k, new Set());
        missing.get(k)!.add(c.name);
      }
    }
  }
  if (!missing.size) return undefined;
  return `must specify ${[...missing.keys()].sort().map((k) => `${k} for: ${[...missing.get(k)!].sort().join(',')}`).join('; ')}`;
}

export interface ResourceQuotaDeps {
  /** The namespace's ResourceQuotas as stored now (their resourceVersions guard the charge). */
  listQuotas(namespace: string): Promise<KubeObject[]>;
  /** The namespace's objects of a resource (watch cache), or undefined for a resource this server lacks. */
  listObjects(group: string, resource: string, namespace: string): Promise<KubeObject[] | undefined>;
  /** Writes a quota's status if its resourceVersion is still `resourceVersion` (409 Conflict otherwise). */
  updateQuotaStatus(namespace: string, name: string, resourceVersion: string, status: ResourceQuota['status']): Promise<void>;
  clock?: () => Date;
}

interface PendingCharge {
  namespace: string;
  group: string;
  resource: string;
  name: string;
  object: KubeObject;
  usage: QuotaUsage;
  expires: number;
}

/** How long a charge for an object the cache has not shown yet keeps counting (a failed write is forgotten then). */
const PENDING_TTL_MS = 60_000;
const MAX_CONFLICT_RETRIES = 5;

export class ResourceQuotaAdmission implements AdmissionPlugin {
  readonly name = 'ResourceQuota';
  private readonly pending: PendingCharge[] = [];
  private readonly locks = new Map<string, Promise<void>>();
  private readonly clock: () => Date;

  constructor(private readonly deps: ResourceQuotaDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.subresource || !a.namespace || !a.object) return;
    const { group, resource } = a.resource;
    // Pods and most objects are charged once, when created; a service's type can change what it uses.
    let delta: QuotaUsage;
    if (a.operation === 'CREATE') delta = usageOf(group, resource, a.object);
    else if (a.operation === 'UPDATE' && !group && resource === 'services' && a.oldObject) {
      const before = usageOf(group, resource, a.oldObject);
      delta = new Map([...usageOf(group, resource, a.object)].map(([k, v]) => [k, v.sub(before.get(k) ?? Quantity.zero())] as const).filter(([, v]) => v.sign() > 0));
    } else return;
    if (!delta.size) return;
    const quotas = await this.deps.listQuotas(a.namespace);
    if (!quotas.length) return;
    await this.serialized(a.namespace, () => this.checkAndCharge(a, delta));
  }

  /** One check-and-charge at a time per namespace in this server. */
  private async serialized(namespace: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.locks.get(namespace) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chain = prev.then(() => mine);
    this.locks.set(namespace, chain);
    await prev;
    try {
      await fn();
    } finally {
      release();
      if (this.locks.get(namespace) === chain) this.locks.delete(namespace);
    }
  }

  private async checkAndCharge(a: AdmissionAttributes, delta: QuotaUsage): Promise<void> {
    const { group, resource } = a.resource;
    for (let attempt = 0; ; attempt++) {
      const quotas = (await this.deps.listQuotas(a.namespace)) as unknown as ResourceQuota[];
      const charges: { quota: ResourceQuota; used: QuotaUsage }[] = [];
      for (const quota of [...quotas].sort((x, y) => (x.metadata!.name! < y.metadata!.name! ? -1 : 1))) {
        const hard = new Map(Object.entries(quota.spec?.hard ?? {}).map(([k, v]) => [k, Quantity.parse(v)] as const));
        // A quota is involved when it tracks anything of this resource, even what this object does not use.
        const tracked = [...hard.keys()].filter((k) => {
          const gr = resourceOfQuotaName(k);
          return gr?.group === group && gr.resource === resource;
        });
        if (!tracked.length || !quotaSelects(quota, group, resource, a.object!)) continue;
        if (!group && resource === 'pods') {
          const why = missingCompute(a.object as unknown as Pod, [...hard.keys()]);
          if (why) throw forbiddenFor(a, `failed quota: ${quota.metadata!.name}: ${why}`);
        }
        const used = await this.currentUsage(a.namespace, quota, [...hard.keys()]);
        const exceeded = tracked.filter((k) => delta.has(k) && (used.get(k) ?? Quantity.zero()).add(delta.get(k)!).cmp(hard.get(k)!) > 0).sort();
        if (exceeded.length) {
          const pick = (u: QuotaUsage) => new Map(exceeded.map((k) => [k, u.get(k) ?? Quantity.zero()] as const));
          throw forbiddenFor(a, `exceeded quota: ${quota.metadata!.name}, requested: ${prettyPrintQuotaUsage(pick(delta))}, used: ${prettyPrintQuotaUsage(pick(used))}, limited: ${prettyPrintQuotaUsage(pick(hard))}`);
        }
        for (const k of tracked) if (delta.has(k)) used.set(k, (used.get(k) ?? Quantity.zero()).add(delta.get(k)!));
        charges.push({ quota, used });
      }
      if (!charges.length || a.dryRun) return;
      try {
        for (const { quota, used } of charges) {
          await this.deps.updateQuotaStatus(a.namespace, quota.metadata!.name!, quota.metadata!.resourceVersion!, quotaStatus(quota, used));
        }
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'Conflict' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
      const name = a.object!.metadata?.name ?? a.name;
      this.pending.push({ namespace: a.namespace, group, resource, name, object: structuredClone(a.object!), usage: delta, expires: this.clock().getTime() + PENDING_TTL_MS });
      return;
    }
  }

  /** What the namespace's objects use now, for the quota's resources and scopes. */
  private async currentUsage(namespace: string, quota: ResourceQuota, names: string[]): Promise<QuotaUsage> {
    const now = this.clock();
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i].expires < now.getTime()) this.pending.splice(i, 1);
    const used: QuotaUsage = new Map(names.map((n) => [n, Quantity.zero()] as const));
    for (const { group, resource } of quotaTrackedResources(names)) {
      const objects = await this.deps.listObjects(group, resource, namespace);
      if (!objects) continue;
      const present = addObjectsUsage(used, quota, group, resource, objects, now);
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const p = this.pending[i];
        if (p.namespace !== namespace || p.group !== group || p.resource !== resource) continue;
        // Once the cache shows the object, it is counted from there.
        if (present.has(p.name)) {
          this.pending.splice(i, 1);
          continue;
        }
        if (!quotaSelects(quota, group, resource, p.object)) continue;
        for (const [k, v] of p.usage) if (used.has(k)) addQuotaUsage(used, k, v);
      }
    }
    return used;
  }
}
