// Machinery every controller shares (upstream's pkg/controller/controller_utils.go in spirit):
// controllerRefs, expectations, pod predicates and ranking, the pod-creating side effect behind an
// interface, and the queue runner. Events are recorded through @kubelab/client's EventRecorder.
import { findResource, isNotFound, type KubeObject, type ResourceInfo, rfc3339 } from '@kubelab/api';
import { runWorkers, type Clock, type EventRecorder, type Logger, type RestClient, type WorkQueue } from '@kubelab/client';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { instrumentQueue } from './metrics.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export const PODS = findResource('', 'v1', 'pods')!;

/** The owner reference with controller=true, if any. */
export function getControllerOf(obj: KubeObject | undefined): OwnerReference | undefined {
  return obj?.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** A controllerRef pointing at `owner` (blockOwnerDeletion and controller set, as upstream). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = getControllerOf(obj);
  return !!ref && ref.uid === owner.metadata.uid;
}

export function nowRFC3339(clock: Clock): string {
  return rfc3339(clock.now());
}

// ---------------------------------------------------------------------------------------------
// Pods

export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds at `nowMs` (upstream's IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = readyCondition(pod)?.lastTransitionTime;
  if (!since) return false;
  return Date.parse(since) + minReadySeconds * 1000 <= nowMs;
}

function phaseRank(pod: Pod): number {
  const p = pod.status?.phase;
  return p === 'Pending' ? 0 : p === 'Unknown' ? 1 : p === 'Running' ? 2 : 3;
}

function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  const n = v === undefined ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/**
 * Sorts pods so that the ones to delete first come first (upstream's ActivePodsWithRanks): unassigned
 * before assigned, Pending < Unknown < Running, not ready before ready, more co-located pods (rank)
 * first, lower deletion cost first, ready for a shorter time first, more restarts first, newer first.
 */
export function sortPodsForDeletion(pods: Pod[], rank: (pod: Pod) => number = () => 0): Pod[] {
  const ts = (s: string | undefined) => (s ? Date.parse(s) : 0);
  return [...pods].sort((a, b) => {
    const an = a.spec?.nodeName ? 1 : 0;
    const bn = b.spec?.nodeName ? 1 : 0;
    if (an !== bn) return an - bn;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const ar = isPodReady(a) ? 1 : 0;
    const br = isPodReady(b) ? 1 : 0;
    if (ar !== br) return ar - br;
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (ar && br) {
      const at = ts(readyCondition(a)?.lastTransitionTime);
      const bt = ts(readyCondition(b)?.lastTransitionTime);
      if (at !== bt) return bt - at;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return ts(b.metadata?.creationTimestamp) - ts(a.metadata?.creationTimestamp);
  });
}

// ---------------------------------------------------------------------------------------------
// Expectations

interface Expectation {
  add: number;
  deletions: Set<string>;
  at: number;
}

/** Five minutes, as upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

/**
 * What a controller still expects to see in its cache after creating or deleting pods (upstream's
 * UIDTrackingControllerExpectations): a sync only acts once its previous writes have been observed.
 */
export class ControllerExpectations {
  private readonly items = new Map<string, Expectation>();
  constructor(private readonly clock: Clock) {}

  /** True when nothing is pending for `key` (or the expectation has expired). */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.deletions.size === 0) return true;
    return this.clock.now() - e.at > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, n: number): void {
    this.items.set(key, { add: n, deletions: new Set(), at: this.clock.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.items.set(key, { add: 0, deletions: new Set(podKeys), at: this.clock.now() });
  }

  creationObserved(key: string): void {
    const e = this.items.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.items.get(key)?.deletions.delete(podKey);
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  /** For tests and logs. */
  pending(key: string): { add: number; del: number } | undefined {
    const e = this.items.get(key);
    return e && { add: e.add, del: e.deletions.size };
  }
}

// ---------------------------------------------------------------------------------------------
// Pod control

/** The side effects a pod-owning controller has on pods (upstream's PodControlInterface). */
export interface PodControl {
  createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Promise<Pod>;
  deletePod(namespace: string, name: string, owner: KubeObject): Promise<void>;
  /** A merge patch on a pod (adoption and release). */
  patchPod(namespace: string, name: string, patch: object): Promise<Pod>;
}

/** The pod a controller would create from a template. */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      annotations: meta.annotations ? { ...meta.annotations } : undefined,
      finalizers: meta.finalizers ? [...meta.finalizers] : undefined,
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template.spec) as Pod['spec'],
  };
}

export class RealPodControl implements PodControl {
  constructor(
    private readonly client: RestClient,
    private readonly recorder: EventRecorder,
  ) {}

  async createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference): Promise<Pod> {
    const pod = podFromTemplate(template, owner, controllerRef);
    if (!Object.keys(pod.metadata!.labels!).length) throw new Error('unable to create pods, no labels');
    try {
      const created = (await this.client.resource(PODS, namespace).create(pod as KubeObject)) as Pod;
      this.recorder.eventf(owner, 'Normal', 'SuccessfulCreate', 'Created pod: %v', created.metadata!.name);
      return created;
    } catch (err) {
      this.recorder.eventf(owner, 'Warning', 'FailedCreate', 'Error creating: %v', (err as Error).message);
      throw err;
    }
  }

  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.client.resource(PODS, namespace).delete(name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.recorder.eventf(owner, 'Warning', 'FailedDelete', 'Error deleting: %v', (err as Error).message);
      throw err;
    }
    this.recorder.eventf(owner, 'Normal', 'SuccessfulDelete', 'Deleted pod: %v', name);
  }

  async patchPod(namespace: string, name: string, patch: object): Promise<Pod> {
    return (await this.client.resource(PODS, namespace).patch(name, patch, 'merge')) as Pod;
  }
}

// ---------------------------------------------------------------------------------------------
// Claiming (adoption and release, upstream's ControllerRefManager)

export interface ClaimOptions<T extends KubeObject> {
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  matches: (obj: T) => boolean;
  /** Patches `obj` (merge patch). */
  patch: (obj: T, patch: object) => Promise<T>;
  /** A fresh check that the owner may adopt (not being deleted, same uid), done once before the first adoption. */
  canAdopt: () => Promise<void>;
}

/**
 * Returns the objects that belong to `owner`: the ones it controls and still matches, plus matching
 * orphans it adopts. Controlled objects that stopped matching are released. A vanished object is skipped.
 */
export async function claimObjects<T extends KubeObject>(objs: T[], opts: ClaimOptions<T>): Promise<T[]> {
  const claimed: T[] = [];
  let adoptChecked: Promise<void> | undefined;
  const uid = opts.owner.metadata.uid;
  for (const obj of objs) {
    const ref = getControllerOf(obj);
    const refs = obj.metadata.ownerReferences ?? [];
    if (ref) {
      if (ref.uid !== uid) continue;
      if (opts.matches(obj)) {
        claimed.push(obj);
        continue;
      }
      if (opts.owner.metadata.deletionTimestamp) continue;
      try {
        await opts.patch(obj, { metadata: { uid: obj.metadata.uid, ownerReferences: refs.filter((r) => r.uid !== uid) } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      continue;
    }
    if (!opts.matches(obj) || opts.owner.metadata.deletionTimestamp || obj.metadata.deletionTimestamp) continue;
    adoptChecked ??= opts.canAdopt();
    await adoptChecked;
    try {
      const adopted = await opts.patch(obj, {
        metadata: {
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
          ownerReferences: [...refs, newControllerRef(opts.owner, opts.ownerApiVersion, opts.ownerKind)],
        },
      });
      claimed.push(adopted);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return claimed;
}

/** canAdopt for claimObjects: re-reads the owner from the API (upstream's RecheckDeletionTimestamp). */
export function recheckOwner(client: RestClient, info: ResourceInfo, owner: KubeObject): () => Promise<void> {
  return async () => {
    const fresh = await client.resource(info, owner.metadata.namespace).get(owner.metadata.name!);
    if (fresh.metadata.uid !== owner.metadata.uid) {
      throw new Error(`original ${info.kind} ${owner.metadata.namespace}/${owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`);
    }
    if (fresh.metadata.deletionTimestamp) {
      throw new Error(`${info.kind} ${owner.metadata.namespace}/${owner.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Running

/** Anything the controller manager can run until `signal` aborts. */
export interface RunnableController {
  readonly name: string;
  run(workers: number, signal: AbortSignal): Promise<void>;
}

/** Runs `workers` workers on `queue` until `signal` aborts, then shuts the queue down. */
export async function runQueue(queue: WorkQueue<string>, workers: number, sync: (key: string) => Promise<void>, signal: AbortSignal, logger?: Logger): Promise<void> {
  if (signal.aborted) return;
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  const metered = instrumentQueue(queue, sync);
  await runWorkers(queue, workers, metered.sync, { logger }).finally(metered.stop);
}
