// What objects use of a ResourceQuota (upstream's pkg/quota/v1/evaluator/core): object counts
// (count/<resource>[.<group>] and the legacy names pods, services, configmaps, ...), compute resources
// of pods (requests.*, limits.*, cpu, memory), services' node ports and load balancers, PVC storage,
// and the scopes that select pods. Pure functions, shared by the apiserver's ResourceQuota admission
// (which charges a create) and the controller-manager's resource quota controller (which recomputes
// status.used from the namespace's objects).
import type { Pod, ResourceQuota, ResourceQuotaStatus, Service } from 'kubernetes-types/core/v1';
import { Quantity } from '../quantity.js';
import type { KubeObject } from '../types.js';

/** Quota resource name -> amount. */
export type QuotaUsage = Map<string, Quantity>;

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

/** The compute resources a pod's plain quota names (cpu, memory, ephemeral-storage) charge as requests. */
export const QUOTA_COMPUTE_RESOURCES: readonly string[] = ['cpu', 'memory', 'ephemeral-storage'];

function one(): Quantity {
  return Quantity.fromValue(1);
}

function countName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

export function addQuotaUsage(u: QuotaUsage, k: string, v: Quantity): void {
  u.set(k, (u.get(k) ?? Quantity.zero()).add(v));
}

/** Sum over containers, raised to the largest init container, plus the pod overhead. */
function podResources(pod: Pod, field: 'requests' | 'limits'): QuotaUsage {
  const sum: QuotaUsage = new Map();
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) addQuotaUsage(sum, k, Quantity.parse(v));
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.[field] ?? {})) {
      const q = Quantity.parse(v);
      const cur = sum.get(k);
      if (!cur || q.cmp(cur) > 0) sum.set(k, q);
    }
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) if (sum.has(k)) addQuotaUsage(sum, k, Quantity.parse(v));
  return sum;
}

/**
 * Whether a stored pod still uses quota (upstream's QuotaV1Pod): not Succeeded or Failed, and not past
 * its deletion grace period.
 */
export function podCountsAgainstQuota(pod: Pod, now: Date): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  const del = pod.metadata?.deletionTimestamp;
  if (del && pod.metadata?.deletionGracePeriodSeconds !== undefined) {
    return now.getTime() <= new Date(del).getTime() + pod.metadata.deletionGracePeriodSeconds * 1000;
  }
  return true;
}

/** What one object of a resource uses, by quota resource name. */
export function usageOf(group: string, resource: string, obj: KubeObject): QuotaUsage {
  const u: QuotaUsage = new Map();
  u.set(countName(group, resource), one());
  if (!group && LEGACY_COUNTS[resource]) u.set(LEGACY_COUNTS[resource], one());
  if (!group && resource === 'pods') {
    const pod = obj as unknown as Pod;
    for (const [k, v] of podResources(pod, 'requests')) {
      u.set(`requests.${k}`, v);
      if (QUOTA_COMPUTE_RESOURCES.includes(k)) u.set(k, v);
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
  if (QUOTA_COMPUTE_RESOURCES.includes(name) || name.startsWith('requests.') || name.startsWith('limits.')) return { group: '', resource: 'pods' };
  return undefined;
}

/** The distinct resources whose objects a set of quota resource names counts. */
export function quotaTrackedResources(names: Iterable<string>): Array<{ group: string; resource: string }> {
  const out = new Map<string, { group: string; resource: string }>();
  for (const n of names) {
    const gr = resourceOfQuotaName(n);
    if (gr) out.set(`${gr.group}/${gr.resource}`, gr);
  }
  return [...out.values()];
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

/**
 * Adds to `used` (only the names it already holds) what the quota-selected objects of one resource use;
 * pods that no longer count (finished, past their grace period) are skipped. Returns the objects' names.
 */
export function addObjectsUsage(used: QuotaUsage, quota: ResourceQuota, group: string, resource: string, objects: readonly KubeObject[], now: Date): Set<string> {
  const present = new Set<string>();
  for (const obj of objects) {
    present.add(obj.metadata?.name ?? '');
    if (!group && resource === 'pods' && !podCountsAgainstQuota(obj as unknown as Pod, now)) continue;
    if (!quotaSelects(quota, group, resource, obj)) continue;
    for (const [k, v] of usageOf(group, resource, obj)) if (used.has(k)) addQuotaUsage(used, k, v);
  }
  return present;
}

/**
 * A quota's usage from the namespace's objects: every name in spec.hard, zero when nothing uses it.
 * `objectsOf` returns a resource's objects in the quota's namespace, or undefined for a resource the
 * caller does not know (its names stay zero).
 */
export function calculateQuotaUsage(quota: ResourceQuota, objectsOf: (group: string, resource: string) => readonly KubeObject[] | undefined, now: Date): QuotaUsage {
  const names = Object.keys(quota.spec?.hard ?? {});
  const used: QuotaUsage = new Map(names.map((n) => [n, Quantity.zero()] as const));
  for (const { group, resource } of quotaTrackedResources(names)) {
    const objects = objectsOf(group, resource);
    if (objects) addObjectsUsage(used, quota, group, resource, objects, now);
  }
  return used;
}

/** The status a quota reports: hard copied from spec.hard, used for each of its names (sorted). */
export function quotaStatus(quota: ResourceQuota, used: QuotaUsage): ResourceQuotaStatus {
  const hard = quota.spec?.hard ?? {};
  return {
    hard: { ...hard },
    used: Object.fromEntries(
      Object.keys(hard)
        .sort()
        .map((k) => [k, (used.get(k) ?? Quantity.zero()).toString()]),
    ),
  };
}

/** Resource lists as upstream prints them: sorted `name=value` joined by commas. */
export function prettyPrintQuotaUsage(u: QuotaUsage): string {
  return [...u.keys()]
    .sort()
    .map((k) => `${k}=${u.get(k)!.toString()}`)
    .join(',');
}
