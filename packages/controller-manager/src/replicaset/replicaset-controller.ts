// The ReplicaSet controller (and, with kind ReplicationController, the RC controller): keeps
// spec.replicas active pods that match the selector, adopting orphans and releasing pods that stop
// matching, and reports status (upstream's pkg/controller/replicaset).
import { selectorFromLabelSelector, selectorFromSet, isNotFound, type KubeObject, type Selector } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import {
  claimObjects,
  ControllerExpectations,
  getControllerOf,
  isPodActive,
  newControllerRef,
  nowRFC3339,
  runQueue,
  sortPodsForDeletion,
  type PodControl,
  type RunnableController,
} from '../controller-utils.js';
import { calculateStatus, statusEqual } from './replicaset-status.js';

/** Upstream's BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;
/** Upstream's SlowStartInitialBatchSize. */
const SLOW_START_INITIAL_BATCH = 1;

export type ReplicatedKind = 'ReplicaSet' | 'ReplicationController';

export interface ReplicaSetControllerOptions {
  kind?: ReplicatedKind;
  rsInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  podControl: PodControl;
  /** PUT .../status; resolves with the stored object. A Conflict error requeues the key. */
  updateStatus(rs: KubeObject): Promise<KubeObject>;
  /** A fresh check before adopting orphans (upstream re-reads the owner). */
  canAdopt?(rs: KubeObject): Promise<void>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
  burstReplicas?: number;
}

export class ReplicaSetController implements RunnableController {
  readonly name: string;
  readonly kind: ReplicatedKind;
  readonly apiVersion: string;
  readonly queue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly rsInformer: Informer<KubeObject>;
  private readonly podInformer: Informer<KubeObject>;
  private readonly opts: ReplicaSetControllerOptions;
  private readonly clock: Clock;
  private readonly log?: Logger;
  private readonly burst: number;

  constructor(opts: ReplicaSetControllerOptions) {
    this.opts = opts;
    this.kind = opts.kind ?? 'ReplicaSet';
    this.apiVersion = this.kind === 'ReplicaSet' ? 'apps/v1' : 'v1';
    this.name = this.kind === 'ReplicaSet' ? 'replicaset-controller' : 'replicationcontroller-controller';
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.burst = opts.burstReplicas ?? BURST_REPLICAS;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    this.rsInformer = opts.rsInformer;
    this.podInformer = opts.podInformer;

    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, rs) => this.enqueue(rs),
      onDelete: (rs) => this.enqueue(rs),
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod as Pod),
      onUpdate: (old, cur) => this.podUpdated(old as Pod, cur as Pod),
      onDelete: (pod) => this.podDeleted(pod as Pod),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  enqueue(rs: KubeObject): void {
    this.queue.add(metaNamespaceKey(rs));
  }

  selectorOf(rs: KubeObject): Selector {
    return this.kind === 'ReplicaSet' ? selectorFromLabelSelector(rs.spec?.selector) : selectorFromSet(rs.spec?.selector ?? {});
  }

  /** The owner named by a pod's controllerRef, if it is one of ours and still the same object. */
  private resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): KubeObject | undefined {
    if (!ref || ref.kind !== this.kind) return undefined;
    const rs = this.rsInformer.lister.get(namespace, ref.name);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets in the pod's namespace whose selector matches it. */
  private matchingOwners(pod: Pod): KubeObject[] {
    const labels = pod.metadata?.labels ?? {};
    return this.rsInformer.lister.list(pod.metadata?.namespace).filter((rs) => {
      const sel = this.selectorOf(rs);
      return !sel.empty() && sel.matches(labels);
    });
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const ref = getControllerOf(pod as KubeObject);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata!.namespace!, ref);
      if (!rs) return;
      this.expectations.creationObserved(metaNamespaceKey(rs));
      this.enqueue(rs);
      return;
    }
    for (const rs of this.matchingOwners(pod)) this.enqueue(rs);
  }

  private podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // A graceful delete: the pod no longer counts, so act on it now rather than when it is gone.
      this.podDeleted(cur);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
    const oldRef = getControllerOf(old as KubeObject);
    const curRef = getControllerOf(cur as KubeObject);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const prev = this.resolveControllerRef(old.metadata!.namespace!, oldRef);
      if (prev) this.enqueue(prev);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata!.namespace!, curRef);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isReady(old) && isReady(cur)) this.queue.addAfter(metaNamespaceKey(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || oldRef) for (const rs of this.matchingOwners(cur)) this.enqueue(rs);
  }

  private podDeleted(pod: Pod): void {
    const ref = getControllerOf(pod as KubeObject);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata!.namespace!, ref);
    if (!rs) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObserved(key, metaNamespaceKey(pod as KubeObject));
    this.enqueue(rs);
  }

  /** Brings one ReplicaSet to its desired state. Level-triggered: everything is read from the caches. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const rs = this.rsInformer.lister.get(namespace, name);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const selector = this.selectorOf(rs);
    const active = (this.podInformer.lister.list(namespace) as Pod[]).filter(isPodActive);
    const pods = (await claimObjects(active as KubeObject[], {
      owner: rs,
      ownerApiVersion: this.apiVersion,
      ownerKind: this.kind,
      matches: (p) => !selector.empty() && selector.matches(p.metadata.labels ?? {}),
      patch: async (p, patch) => (await this.opts.podControl.patchPod(namespace, p.metadata.name!, patch)) as KubeObject,
      canAdopt: () => this.opts.canAdopt?.(rs) ?? Promise.resolve(),
    })) as Pod[];

    let manageError: Error | undefined;
    if (needsSync) {
      try {
        await this.manageReplicas(key, pods, rs);
      } catch (err) {
        manageError = err as Error;
      }
    }

    const status = calculateStatus(rs as never, pods, manageError, this.clock.now(), nowRFC3339(this.clock));
    let current = rs;
    if (!statusEqual(rs.status, status)) {
      current = await this.opts.updateStatus({ ...rs, status });
      this.log?.debug?.({ object: key, replicas: status.replicas, ready: status.readyReplicas }, 'Updated status');
    }
    const minReady = current.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && status.readyReplicas === (current.spec?.replicas ?? 1) && status.availableReplicas !== status.readyReplicas) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  private async manageReplicas(key: string, pods: Pod[], rs: KubeObject): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    const ns = rs.metadata.namespace!;
    if (diff < 0) {
      const n = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, n);
      const ref = newControllerRef(rs, this.apiVersion, this.kind);
      const { succeeded, error } = await slowStartBatch(n, SLOW_START_INITIAL_BATCH, () =>
        this.opts.podControl.createPod(ns, rs.spec.template, rs, ref).then(() => undefined),
      );
      // Creates that failed or were skipped will never be observed.
      for (let i = succeeded; i < n; i++) this.expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, this.burst);
      const related = this.podInformer.lister.list(ns) as Pod[];
      const victims = podsToDelete(pods, related, n);
      const victimKeys = victims.map((p) => metaNamespaceKey(p as KubeObject));
      this.expectations.expectDeletions(key, victimKeys);
      const errors: Error[] = [];
      await Promise.all(
        victims.map(async (pod, i) => {
          try {
            await this.opts.podControl.deletePod(ns, pod.metadata!.name!, rs);
          } catch (err) {
            this.expectations.deletionObserved(key, victimKeys[i]!);
            if (!isNotFound(err)) errors.push(err as Error);
          }
        }),
      );
      if (errors.length) throw errors[0];
    }
  }
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The `n` pods to delete first. Pods are ranked by how many active pods related to the owner share
 * their node (upstream's getPodsRankedByRelatedPodsOnSameNode), then by sortPodsForDeletion.
 */
export function podsToDelete(pods: Pod[], related: Pod[], n: number): Pod[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p) || !p.spec?.nodeName) continue;
    perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return sortPodsForDeletion(pods, rank).slice(0, n);
}

/**
 * Calls `fn` `count` times in batches that double in size (1, 2, 4, ...), stopping after the first
 * batch with an error (upstream's slowStartBatch).
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ succeeded: number; error?: Error }> {
  let remaining = count;
  let succeeded = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    succeeded += batch - failed.length;
    if (failed.length) return { succeeded, error: failed[0]!.reason as Error };
    remaining -= batch;
  }
  return { succeeded };
}
