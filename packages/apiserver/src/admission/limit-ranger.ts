// LimitRanger: LimitRange objects in a pod's namespace give its containers default requests and limits
// (mutating), and bound them by min, max and maxLimitRequestRatio per Container and per Pod, and PVC
// storage requests per PersistentVolumeClaim (validating).
import { Quantity, type KubeObject } from '@kubelab/api';
import type { Container, LimitRange, LimitRangeItem, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { forbiddenFor, isCore } from './util.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';
type ResourceList = Record<string, string>;

export interface LimitRangerDeps {
  /** The LimitRanges of a namespace (from the watch cache). */
  listLimitRanges(namespace: string): Promise<KubeObject[]>;
}

function q(v: string | number): Quantity {
  return Quantity.parse(v);
}

/** Sets missing requests and limits of each container from the Container items; returns the annotation parts. */
export function applyContainerDefaults(pod: Pod, ranges: LimitRange[]): string[] {
  const notes: string[] = [];
  const items = ranges.flatMap((r) => r.spec?.limits ?? []).filter((i) => i.type === 'Container');
  if (!items.length) return notes;
  // Later LimitRanges do not override what an earlier one set (upstream applies them in list order).
  const defaultLimits: ResourceList = {};
  const defaultRequests: ResourceList = {};
  for (const item of items) {
    for (const [k, v] of Object.entries(item.default ?? {})) defaultLimits[k] ??= String(v);
    for (const [k, v] of Object.entries(item.defaultRequest ?? {})) defaultRequests[k] ??= String(v);
  }
  const visit = (c: Container, kind: string) => {
    const setRequests: string[] = [];
    const setLimits: string[] = [];
    c.resources ??= {};
    for (const [k, v] of Object.entries(defaultLimits)) {
      if (c.resources.limits?.[k] === undefined) {
        c.resources.limits = { ...(c.resources.limits ?? {}), [k]: v };
        setLimits.push(k);
      }
    }
    for (const [k, v] of Object.entries(defaultRequests)) {
      if (c.resources.requests?.[k] === undefined) {
        c.resources.requests = { ...(c.resources.requests ?? {}), [k]: v };
        setRequests.push(k);
      }
    }
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${kind} ${c.name}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${kind} ${c.name}`);
  };
  for (const c of pod.spec?.initContainers ?? []) visit(c, 'init container');
  for (const c of pod.spec?.containers ?? []) visit(c, 'container');
  return notes;
}

function minConstraint(type: string, resource: string, min: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[resource];
  const lim = limits[resource];
  if (req === undefined) return `minimum ${resource} usage per ${type} is ${min}.  No request is specified`;
  if (q(req).cmp(min) < 0) return `minimum ${resource} usage per ${type} is ${min}, but request is ${q(req)}`;
  if (lim !== undefined && q(lim).cmp(min) < 0) return `minimum ${resource} usage per ${type} is ${min}, but limit is ${q(lim)}`;
  return undefined;
}

function maxConstraint(type: string, resource: string, max: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[resource];
  const lim = limits[resource];
  if (lim === undefined) return `maximum ${resource} usage per ${type} is ${max}.  No limit is specified`;
  if (q(lim).cmp(max) > 0) return `maximum ${resource} usage per ${type} is ${max}, but limit is ${q(lim)}`;
  if (req !== undefined && q(req).cmp(max) > 0) return `maximum ${resource} usage per ${type} is ${max}, but request is ${q(req)}`;
  return undefined;
}

function ratioConstraint(type: string, resource: string, ratio: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[resource] !== undefined ? q(requests[resource]) : undefined;
  const lim = limits[resource] !== undefined ? q(limits[resource]) : undefined;
  const head = `${resource} max limit to request ratio per ${type} is ${ratio}`;
  if (!req || req.isZero()) return `${head}, but no request is specified or request is 0`;
  if (!lim || lim.isZero()) return `${head}, but no limit is specified or limit is 0`;
  const observed = Number(lim.milliValue()) / Number(req.milliValue());
  if (observed * 1000 > Number(ratio.milliValue())) return `${head}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function checkItem(type: string, item: LimitRangeItem, requests: ResourceList, limits: ResourceList): string[] {
  const errs: string[] = [];
  for (const [k, v] of Object.entries(item.min ?? {})) {
    const e = minConstraint(type, k, q(v), requests, limits);
    if (e) errs.push(e);
  }
  for (const [k, v] of Object.entries(item.max ?? {})) {
    const e = maxConstraint(type, k, q(v), requests, limits);
    if (e) errs.push(e);
  }
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const e = ratioConstraint(type, k, q(v), requests, limits);
    if (e) errs.push(e);
  }
  return errs;
}

function strings(list: Record<string, unknown> | undefined): ResourceList {
  return Object.fromEntries(Object.entries(list ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Sum over containers, raised to the largest init container (init containers run one at a time). */
function podTotal(pod: Pod, field: 'requests' | 'limits'): ResourceList {
  const sum = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(strings(c.resources?.[field]))) sum.set(k, (sum.get(k) ?? Quantity.zero()).add(q(v)));
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(strings(c.resources?.[field]))) {
      const cur = sum.get(k);
      if (!cur || q(v).cmp(cur) > 0) sum.set(k, q(v));
    }
  }
  return Object.fromEntries([...sum].map(([k, v]) => [k, v.toString()]));
}

/** Every violation of the namespace's LimitRanges by a pod. */
export function podLimitViolations(pod: Pod, ranges: LimitRange[]): string[] {
  const errs: string[] = [];
  for (const item of ranges.flatMap((r) => r.spec?.limits ?? [])) {
    if (item.type === 'Container') {
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
        errs.push(...checkItem('Container', item, strings(c.resources?.requests), strings(c.resources?.limits)));
      }
    } else if (item.type === 'Pod') {
      errs.push(...checkItem('Pod', item, podTotal(pod, 'requests'), podTotal(pod, 'limits')));
    }
  }
  return errs;
}

/** Violations of PersistentVolumeClaim items (storage requests and limits). */
export function pvcLimitViolations(pvc: PersistentVolumeClaim, ranges: LimitRange[]): string[] {
  const errs: string[] = [];
  for (const item of ranges.flatMap((r) => r.spec?.limits ?? [])) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    const requests = strings(pvc.spec?.resources?.requests);
    const limits = strings(pvc.spec?.resources?.limits);
    for (const [k, v] of Object.entries(item.min ?? {})) {
      const e = requests[k] === undefined ? `minimum ${k} usage per PersistentVolumeClaim is ${q(v)}.  No request is specified` : minConstraint('PersistentVolumeClaim', k, q(v), requests, limits);
      if (e) errs.push(e);
    }
    for (const [k, v] of Object.entries(item.max ?? {})) {
      // A claim states a request; the max bounds it (a limit, when given, too).
      const r = requests[k];
      if (r === undefined) errs.push(`maximum ${k} usage per PersistentVolumeClaim is ${q(v)}.  No request is specified`);
      else if (q(r).cmp(q(v)) > 0) errs.push(`maximum ${k} usage per PersistentVolumeClaim is ${q(v)}, but request is ${q(r)}`);
    }
  }
  return errs;
}

/** utilerrors.NewAggregate's message: one error as is, several in brackets. */
export function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

export class LimitRanger implements AdmissionPlugin {
  readonly name = 'LimitRanger';

  constructor(private readonly deps: LimitRangerDeps) {}

  private async ranges(namespace: string): Promise<LimitRange[]> {
    return (await this.deps.listLimitRanges(namespace)) as unknown as LimitRange[];
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !isCore(a, 'pods') || !a.object) return;
    const ranges = await this.ranges(a.namespace);
    if (!ranges.length) return;
    const pod = a.object as unknown as Pod;
    const notes = applyContainerDefaults(pod, ranges);
    if (notes.length) {
      pod.metadata ??= {};
      pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
    }
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !a.object) return;
    let errs: string[];
    if (isCore(a, 'pods')) {
      const ranges = await this.ranges(a.namespace);
      errs = podLimitViolations(a.object as unknown as Pod, ranges);
    } else if (isCore(a, 'persistentvolumeclaims')) {
      const ranges = await this.ranges(a.namespace);
      errs = pvcLimitViolations(a.object as unknown as PersistentVolumeClaim, ranges);
    } else return;
    if (errs.length) throw forbiddenFor(a, aggregate(errs));
  }
}
