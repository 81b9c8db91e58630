// The disruption controller (upstream's pkg/controller/disruption): keeps every PodDisruptionBudget's status
// current so the eviction subresource can decide: the pods it selects (policy/v1: an empty selector selects
// the whole namespace), how many are expected (the pods' controllers' scale for maxUnavailable and percentage
// minAvailable, the pod count for an integer minAvailable), how many must stay healthy, how many are healthy
// (Ready and not being deleted, not just evicted), disruptionsAllowed and the DisruptionAllowed condition.
// Evicted pods recorded in status.disruptedPods stop counting as healthy until they are deleted or 2 minutes pass.
import { intOrStringIsPercent, isConflict, isNotFound, rfc3339, scaledValueFromIntOrPercent, selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { metaNamespaceKey, realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Condition } from 'kubernetes-types/meta/v1';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1';
import { getControllerOf, isPodReady, runQueue, type RunnableController } from '../controller-utils.js';

/** Upstream's DeletionTimeout: how long an evicted pod may take to show its deletion. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export interface DisruptionClient {
  /** PUT .../poddisruptionbudgets/<name>/status with the budget's resourceVersion. */
  updateStatus(pdb: PodDisruptionBudget): Promise<unknown>;
}

/** Informers of the controllers whose scale gives a budget's expected pod count. */
export interface ScaleInformers {
  replicationControllers?: Informer<KubeObject>;
  replicaSets?: Informer<KubeObject>;
  deployments?: Informer<KubeObject>;
  statefulSets?: Informer<KubeObject>;
}

export interface DisruptionControllerOptions {
  pdbInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  scale: ScaleInformers;
  client: DisruptionClient;
  clock?: Clock;
  logger?: Logger;
}

class SyncError extends Error {}

export class DisruptionController implements RunnableController {
  readonly name = 'disruption-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: DisruptionControllerOptions;
  private readonly clock: Clock;

  constructor(opts: DisruptionControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const enqueue = (pdb: KubeObject) => this.queue.add(metaNamespaceKey(pdb));
    opts.pdbInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
    opts.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (old, p) => {
        this.podChanged(p);
        if (JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(p.metadata.labels ?? {})) this.podChanged(old);
      },
      onDelete: (p) => this.podChanged(p),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (k) => this.sync(k), signal, this.opts.logger);
  }

  /** Queues the budgets selecting a pod (upstream's getPdbForPod). */
  podChanged(pod: KubeObject): void {
    const ns = pod.metadata.namespace;
    if (!ns) return;
    for (const pdb of this.opts.pdbInformer.lister.list(ns) as PodDisruptionBudget[]) {
      try {
        if (selectorFromLabelSelector(pdb.spec?.selector).matches(pod.metadata.labels ?? {})) this.queue.add(metaNamespaceKey(pdb as KubeObject));
      } catch {
        // An invalid selector selects nothing; its budget reports the error when synced.
      }
    }
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const pdb = this.opts.pdbInformer.lister.get(key.slice(0, slash), key.slice(slash + 1)) as PodDisruptionBudget | undefined;
    if (!pdb) return;
    let status: PodDisruptionBudgetStatus;
    try {
      status = this.computeStatus(pdb);
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      // Upstream's failSafe: a budget that cannot be computed allows no disruption.
      status = {
        ...(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }),
        disruptionsAllowed: 0,
        observedGeneration: pdb.metadata?.generation,
        conditions: this.condition(pdb, 'False', 'SyncFailed', err.message),
      };
    }
    if (JSON.stringify(status) === JSON.stringify(pdb.status ?? {})) return;
    try {
      await this.opts.client.updateStatus({ ...pdb, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) {
        this.queue.addRateLimited(key);
        return;
      }
      throw err;
    }
  }

  /** The status the budget should report (upstream's trySync). */
  computeStatus(pdb: PodDisruptionBudget): PodDisruptionBudgetStatus {
    const ns = pdb.metadata!.namespace!;
    let selector: ReturnType<typeof selectorFromLabelSelector>;
    try {
      selector = selectorFromLabelSelector(pdb.spec?.selector);
    } catch (err) {
      throw new SyncError((err as Error).message);
    }
    const pods = (this.opts.podInformer.lister.list(ns) as Pod[]).filter((p) => selector.matches(p.metadata?.labels ?? {}));
    let counts: { expectedCount: number; desiredHealthy: number };
    try {
      counts = this.expectedPodCount(pdb, pods);
    } catch (err) {
      throw err instanceof SyncError ? err : new SyncError((err as Error).message);
    }
    const { expectedCount, desiredHealthy } = counts;
    const now = this.clock.now();
    const disruptedPods = this.disruptedPods(pdb, pods, now);
    const currentHealthy = pods.filter((p) => !p.metadata?.deletionTimestamp && !disruptedPods[p.metadata!.name!] && isPodReady(p)).length;
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const status: PodDisruptionBudgetStatus = {
      ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      observedGeneration: pdb.metadata?.generation,
      conditions: disruptionsAllowed > 0 ? this.condition(pdb, 'True', 'SufficientPods', '') : this.condition(pdb, 'False', 'InsufficientPods', ''),
    };
    return status;
  }

  /** The DisruptionAllowed condition, keeping its transition time while its status stays the same. */
  private condition(pdb: PodDisruptionBudget, status: 'True' | 'False', reason: string, message: string): Condition[] {
    const others = (pdb.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
    const old = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : rfc3339(this.clock.now());
    return [...others, { type: 'DisruptionAllowed', status, reason, message, observedGeneration: pdb.metadata?.generation, lastTransitionTime }];
  }

  /** Upstream's getExpectedPodCount. */
  private expectedPodCount(pdb: PodDisruptionBudget, pods: Pod[]): { expectedCount: number; desiredHealthy: number } {
    const { maxUnavailable, minAvailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const expectedCount = this.expectedScale(pdb, pods);
      const max = scaledValueFromIntOrPercent(maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max) };
    }
    if (minAvailable !== undefined && minAvailable !== null) {
      if (!intOrStringIsPercent(minAvailable)) return { expectedCount: pods.length, desiredHealthy: Number(minAvailable) };
      const expectedCount = this.expectedScale(pdb, pods);
      return { expectedCount, desiredHealthy: scaledValueFromIntOrPercent(minAvailable, expectedCount, true) };
    }
    return { expectedCount: 0, desiredHealthy: 0 };
  }

  /** The sum of the scales of the controllers of the selected pods; every pod must have one we know. */
  private expectedScale(pdb: PodDisruptionBudget, pods: Pod[]): number {
    const ns = pdb.metadata!.namespace!;
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const ref = getControllerOf(pod as KubeObject);
      if (!ref) throw new SyncError(`found no controller ref for pod "${pod.metadata!.name}"`);
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ns, ref.apiVersion, ref.kind, ref.name, ref.uid);
      if (!found) throw new SyncError(`found no controllers for pod "${pod.metadata!.name}"`);
      scales.set(found.uid, found.replicas);
    }
    return [...scales.values()].reduce((a, b) => a + b, 0);
  }

  /** A pod's controller and its spec.replicas; a ReplicaSet owned by a Deployment answers with the Deployment. */
  private controllerScale(ns: string, apiVersion: string, kind: string, name: string, uid: string): { uid: string; replicas: number } | undefined {
    const get = (inf: Informer<KubeObject> | undefined, n: string, u: string) => {
      const o = inf?.lister.get(ns, n);
      return o && o.metadata.uid === u ? o : undefined;
    };
    const replicas = (o: KubeObject) => (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    const { scale } = this.opts;
    if (apiVersion === 'v1' && kind === 'ReplicationController') {
      const rc = get(scale.replicationControllers, name, uid);
      return rc && { uid, replicas: replicas(rc) };
    }
    if (apiVersion === 'apps/v1' && kind === 'ReplicaSet') {
      const rs = get(scale.replicaSets, name, uid);
      if (!rs) return undefined;
      const owner = getControllerOf(rs);
      if (owner?.apiVersion === 'apps/v1' && owner.kind === 'Deployment') {
        const d = get(scale.deployments, owner.name, owner.uid);
        return d && { uid: owner.uid, replicas: replicas(d) };
      }
      return { uid, replicas: replicas(rs) };
    }
    if (apiVersion === 'apps/v1' && kind === 'StatefulSet') {
      const sts = get(scale.statefulSets, name, uid);
      return sts && { uid, replicas: replicas(sts) };
    }
    return undefined;
  }

  /** status.disruptedPods without the pods that are gone, being deleted, or evicted too long ago; rechecks at the next expiry. */
  private disruptedPods(pdb: PodDisruptionBudget, pods: Pod[], now: number): Record<string, string> {
    const byName = new Map(pods.map((p) => [p.metadata!.name!, p] as const));
    const out: Record<string, string> = {};
    let next: number | undefined;
    for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
      const pod = byName.get(name);
      if (!pod || pod.metadata?.deletionTimestamp) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expires < now) {
        this.opts.logger?.info?.({ pod: `${pdb.metadata!.namespace}/${name}` }, 'Pod was expected to be deleted but it was not');
        continue;
      }
      out[name] = at;
      next = next === undefined ? expires : Math.min(next, expires);
    }
    if (next !== undefined) this.queue.addAfter(metaNamespaceKey(pdb as KubeObject), next - now + 1000);
    return out;
  }
}
