// ResourceQuota: a namespace's ResourceQuotas cap object counts (pods, services, count/<resource>, ...)
// and compute (requests.cpu, limits.memory, ...). A create is checked against every quota that tracks
// something it uses; if all allow it, each quota's status.used is charged with optimistic concurrency
// on the ResourceQuota (a conflict re-reads and re-checks), before the object is stored.
//
// Usage is recomputed from the namespace's objects (the watch cache), plus charges this server made for
// objects the cache has not shown yet, so a deleted object frees its share without a quota controller.
import { Quantity, StatusError, type KubeObject } from '@kubelab/api';
import type { Pod, ResourceQuota, Service } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { forbiddenFor } from './util.js';

export type Usage = Map<string, Quantity>;

/** Resources counted by their plain name as well as count/<resource>. */
const LEGACY_COUNTS: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};
const COMPUTE = ['cpu', 'memory', 'ephemeral-storage'];

function one(): Quantity {
  return Quantity.fromValue(1);
}

function countName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

function addTo(u: Usage, k: string, v: Quantity) {
  u.set(k, (u.get(k) ?? Quantity.zero()).add(v));
}

/** Sum over containers, raised to the largest init container, plus the pod overhead. */
function podResources(pod: Pod, field: 'requests' | 'limits'): Usage {
  const sum: Usage = new Map();
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) addTo(sum, k, Quantity.parse(v));
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) {
      const q = Quantity.parse(v);
      const cur = sum.get(k);
      if (!cur || q.cmp(cur) > 0) sum.set(k, q);
    }
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) if (sum.has(k)) addTo(sum, k, Quantity.parse(v));
  return sum;
}

/** Whether a stored pod still uses quota: not finished, and not past its deletion grace period. */
export function podCountsAgainstQuota(pod: Pod, now: Date): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  const del = pod.metadata?.deletionTimestamp;
  if (del && pod.metadata?.deletionGracePeriodSeconds !== undefined) {
    return now.getTime() <= new Date(del).getTime() + pod.metadata.deletionGracePeriodSeconds * 1000;
  }
  return true;
}

/** What one object of a resource uses, by quota resource name. */
export function usageOf(group: string, resource: string, obj: KubeObject): Usage {
  const u: Usage = new Map();
  u.set(countName(group, resource), one());
  if (!group && LEGACY_COUNTS[resource]) u.set(LEGACY_COUNTS[resource], one());
  if (!group && resource === 'pods') {
    const pod = obj as unknown as Pod;
    for (const [k, v] of podResources(pod, 'requests')) {
      u.set(`requests.${k}`, v);
      if (COMPUTE.includes(k)) u.set(k, v);
    }
    for (const [k, v] of podResources(pod, 'limits')) u.set(`limits.${k}`, v);
  } else if (!group && resource === 'services') {
    const svc = obj as unknown as Service;
    const type = svc.spec?.type ?? 'ClusterIP';
    if (type === 'LoadBalancer') u.set('services.loadbalancers', one());
    if (type === 'NodePort' || (type === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false)) {
      u.set('services.nodeports', Quantity.fromValue((svc.spec?.ports ?? []).length));
    }
  } else if (!group && resource === 'persistentvolumeclaims') {
    const storage = (obj as { spec?: { resources?: { requests?: Record<string, string> } } }).spec?.resources?.requests?.storage;
    if (storage !== undefined) u.set('requests.storage', Quantity.parse(storage));
  }
  return u;
}

/** The (group, resource) whose objects a quota resource name counts. */
export function resourceOfQuotaName(name: string): { group: string; resource: string } | undefined {
  if (name.startsWith('count/')) {
    const rest = name.slice('count/'.length);
    const dot = rest.indexOf('.');
    return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
  }
  if (LEGACY_COUNTS[name]) return { group: '', resource: name };
  if (name === 'requests.storage') return { group: '', resource: 'persistentvolumeclaims' };
  if (name.startsWith('services.')) return { group: '', resource: 'services' };
  if (COMPUTE.includes(name) || name.startsWith('requests.') || name.startsWith('limits.')) return { group: '', resource: 'pods' };
  return undefined;
}

function isBestEffort(pod: Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].every(
    (c) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length,
  );
}

/** Whether a quota's scopes select an object (scoped quotas only ever select pods). */
export function quotaSelects(quota: ResourceQuota, group: string, resource: string, obj: KubeObject): boolean {
  const scopes = [...(quota.spec?.scopes ?? [])];
  const exprs = quota.spec?.scopeSelector?.matchExpressions ?? [];
  if (!scopes.length && !exprs.length) return true;
  if (group !== '' || resource !== 'pods') return false;
  const pod = obj as unknown as Pod;
  const has = (scope: string, op: string, values: string[] = []): boolean => {
    let v: boolean;
    switch (scope) {
      case 'Terminating':
        v = pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null;
        break;
      case 'NotTerminating':
        v = pod.spec?.activeDeadlineSeconds === undefined || pod.spec.activeDeadlineSeconds === null;
        break;
      case 'BestEffort':
        v = isBestEffort(pod);
        break;
      case 'NotBestEffort':
        v = !isBestEffort(pod);
        break;
      case 'PriorityClass': {
        const pc = pod.spec?.priorityClassName ?? '';
        if (op === 'In') return values.includes(pc);
        if (op === 'NotIn') return !values.includes(pc);
        if (op === 'Exists') return pc !== '';
        return pc === '';
      }
      default:
        return false;
    }
    return op === 'DoesNotExist' ? !v : v;
  };
  return scopes.every((s) => has(s, 'Exists')) && exprs.every((e) => has(e.scopeName, e.operator, e.values));
}

/** Resource lists as upstream prints them: sorted `name=value` joined by commas. */
export function prettyPrint(u: Usage): string {
  return [...u.keys()].sort().map((k) => `${k}=${u.get(k)!.toString()}`).join(',');
}

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
      if (COMPUTE.includes(k)) [field, res] = ['requests', k];
      else if (k.startsWith('requests.') && COMPUTE.includes(k.slice(9))) [field, res] = ['requests', k.slice(9)];
      else if (k.startsWith('limits.') && COMPUTE.includes(k.slice(7))) [field, res] = ['limits', k.slice(7)];
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
  usage: Usage;
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
    let delta: Usage;
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

  private async checkAndCharge(a: AdmissionAttributes, delta: Usage): Promise<void> {
    const { group, resource } = a.resource;
    for (let attempt = 0; ; attempt++) {
      const quotas = (await this.deps.listQuotas(a.namespace)) as unknown as ResourceQuota[];
      const charges: { quota: ResourceQuota; used: Usage }[] = [];
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
          const pick = (u: Usage) => new Map(exceeded.map((k) => [k, u.get(k) ?? Quantity.zero()] as const));
          throw forbiddenFor(a, `exceeded quota: ${quota.metadata!.name}, requested: ${prettyPrint(pick(delta))}, used: ${prettyPrint(pick(used))}, limited: ${prettyPrint(pick(hard))}`);
        }
        for (const k of tracked) if (delta.has(k)) used.set(k, (used.get(k) ?? Quantity.zero()).add(delta.get(k)!));
        charges.push({ quota, used });
      }
      if (!charges.length || a.dryRun) return;
      try {
        for (const { quota, used } of charges) {
          const hard = quota.spec?.hard ?? {};
          const status = {
            hard: { ...hard },
            used: Object.fromEntries(Object.keys(hard).sort().map((k) => [k, (used.get(k) ?? Quantity.zero()).toString()])),
          };
          await this.deps.updateQuotaStatus(a.namespace, quota.metadata!.name!, quota.metadata!.resourceVersion!, status);
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
  private async currentUsage(namespace: string, quota: ResourceQuota, names: string[]): Promise<Usage> {
    const now = this.clock();
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i].expires < now.getTime()) this.pending.splice(i, 1);
    const used: Usage = new Map(names.map((n) => [n, Quantity.zero()] as const));
    const resources = new Map<string, { group: string; resource: string }>();
    for (const n of names) {
      const gr = resourceOfQuotaName(n);
      if (gr) resources.set(`${gr.group}/${gr.resource}`, gr);
    }
    for (const { group, resource } of resources.values()) {
      const objects = await this.deps.listObjects(group, resource, namespace);
      if (!objects) continue;
      const present = new Set<string>();
      for (const obj of objects) {
        present.add(obj.metadata?.name ?? '');
        if (!group && resource === 'pods' && !podCountsAgainstQuota(obj as unknown as Pod, now)) continue;
        if (!quotaSelects(quota, group, resource, obj)) continue;
        for (const [k, v] of usageOf(group, resource, obj)) if (used.has(k)) addTo(used, k, v);
      }
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const p = this.pending[i];
        if (p.namespace !== namespace || p.group !== group || p.resource !== resource) continue;
        // Once the cache shows the object, it is counted from there.
        if (present.has(p.name)) {
          this.pending.splice(i, 1);
          continue;
        }
        if (!quotaSelects(quota, group, resource, p.object)) continue;
        for (const [k, v] of p.usage) if (used.has(k)) addTo(used, k, v);
      }
    }
    return used;
  }
}
