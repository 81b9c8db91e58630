// The StatefulSet controller (upstream's pkg/controller/statefulset): pods with stable names
// `<set>-<ordinal>`, created in order and each waited for until Running and Ready (OrderedReady) or
// all at once (Parallel), removed from the highest ordinal down, updated with RollingUpdate from the
// highest ordinal down to the partition, and a ControllerRevision per template.
// Each pod gets a PersistentVolumeClaim per volumeClaimTemplate, <template>-<set>-<ordinal>, created before
// the pod when missing and mounted in its place (upstream's createPersistentVolumeClaims and updateStorage).
import { isAlreadyExists, selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1';
import { claimObjects, getControllerOf, isPodAvailable, isPodReady, newControllerRef, runQueue, type RunnableController } from '../controller-utils.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  ensureUpdateRevision,
  revisionData,
  sortRevisions,
  templateFromRevision,
  type HistoryClient,
} from '../history/controller-history.js';
import { ignoreNotFound, type PodWriter } from '../history/pod-writer.js';

export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export interface StatefulSetControllerOptions {
  setInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  revisionInformer: Informer<KubeObject>;
  pods: PodWriter;
  history: HistoryClient;
  updateStatus(set: StatefulSet): Promise<StatefulSet>;
  canAdopt?(set: StatefulSet): Promise<void>;
  /** The claims of the set's volumeClaimTemplates: looked up in this cache, created through createClaim. */
  claimInformer?: Informer<KubeObject>;
  createClaim?(claim: PersistentVolumeClaim): Promise<unknown>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

/** The ordinal of a pod named `<set>-<n>`, or undefined for any other name. */
export function getOrdinal(set: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${set.metadata!.name}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

const isTerminated = (p: Pod) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const isRunningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);
const revisionOfPod = (p: Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];

export class StatefulSetController implements RunnableController {
  readonly name = 'statefulset-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: StatefulSetControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'statefulset', clock: this.clock });
    const enqueue = (s: KubeObject) => this.queue.add(metaNamespaceKey(s));
    opts.setInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: enqueue });
    const podChanged = (p: KubeObject) => {
      const ref = getControllerOf(p);
      if (ref) {
        if (ref.kind === 'StatefulSet') this.queue.add(`${p.metadata.namespace}/${ref.name}`);
        return;
      }
      for (const s of opts.setInformer.lister.list(p.metadata.namespace)) {
        const sel = selectorFromLabelSelector(s.spec?.selector);
        if (!sel.empty() && sel.matches(p.metadata.labels ?? {})) enqueue(s);
      }
    };
    opts.podInformer.addEventHandler({ onAdd: podChanged, onUpdate: (_o, p) => podChanged(p), onDelete: podChanged });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  private event(set: StatefulSet, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.opts.recorder.event(set as KubeObject, type, reason, message);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const set = this.opts.setInformer.lister.get(namespace, name) as StatefulSet | undefined;
    if (!set || set.metadata?.deletionTimestamp) return;
    const selector = selectorFromLabelSelector(set.spec?.selector);
    const pods = (await claimObjects(this.opts.podInformer.lister.list(namespace), {
      owner: set as KubeObject,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'StatefulSet',
      matches: (p) => !selector.empty() && selector.matches(p.metadata.labels ?? {}) && getOrdinal(set, p as Pod) !== undefined,
      patch: async (p, patch) => (await this.opts.pods.patch(namespace, p.metadata.name!, patch)) as KubeObject,
      canAdopt: () => this.opts.canAdopt?.(set) ?? Promise.resolve(),
    })) as Pod[];
    const revisions = (this.opts.revisionInformer.lister.list(namespace) as ControllerRevision[]).filter(
      (r) => getControllerOf(r as KubeObject)?.uid === set.metadata!.uid,
    );

    // Revisions: the one for the current template (update) and the one the set last completed (current).
    const collisionCount = set.status?.collisionCount ?? 0;
    const ensured = await ensureUpdateRevision(this.opts.history, set as KubeObject, 'StatefulSet', set.spec?.template?.metadata?.labels, revisionData(set.spec?.template), revisions, collisionCount);
    const updateRevision = ensured.revision;
    const all = [...revisions.filter((r) => r.metadata!.name !== updateRevision.metadata!.name), updateRevision];
    const currentRevision = all.find((r) => r.metadata!.name === set.status?.currentRevision) ?? updateRevision;

    let err: Error | undefined;
    try {
      await this.updatePods(set, pods, currentRevision, updateRevision);
    } catch (e) {
      err = e as Error;
    }

    const status = computeStatus(set, pods, currentRevision, updateRevision, ensured.collisionCount, this.clock.now());
    await this.truncateHistory(set, pods, all, currentRevision, updateRevision);
    if (!statusEqual(set.status, status)) await this.opts.updateStatus({ ...set, status });
    if (err) throw err;
  }

  /** The pod for an ordinal, from a revision's template (upstream's newVersionedStatefulSetPod). */
  newPod(set: StatefulSet, rev: ControllerRevision, ordinal: number): Pod {
    const tpl = templateFromRevision(rev);
    const name = `${set.metadata!.name}-${ordinal}`;
    const spec = structuredClone(tpl.spec!);
    spec.hostname = name;
    const claims = getPersistentVolumeClaims(set, ordinal);
    if (claims.length) {
      const names = new Set(claims.map((c) => c.template));
      const volumes: Volume[] = claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata!.name! } }));
      spec.volumes = [...volumes, ...(spec.volumes ?? []).filter((v) => !names.has(v.name))];
    }
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: set.metadata!.namespace,
        labels: {
          ...(tpl.metadata?.labels ?? {}),
          [STATEFULSET_POD_NAME_LABEL]: name,
          [POD_INDEX_LABEL]: String(ordinal),
          [CONTROLLER_REVISION_HASH_LABEL]: rev.metadata!.name!,
        },
        annotations: tpl.metadata?.annotations ? { ...tpl.metadata.annotations } : undefined,
        ownerReferences: [newControllerRef(set as KubeObject, 'apps/v1', 'StatefulSet')],
      },
      spec,
    };
  }

  /** Creates the pod's missing claims (upstream's createPersistentVolumeClaims). */
  private async createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = getOrdinal(set, pod);
    if (ordinal === undefined || !this.opts.createClaim) return;
    const deleteWithSet = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    for (const { claim } of getPersistentVolumeClaims(set, ordinal)) {
      const name = claim.metadata!.name!;
      // persistentVolumeClaimRetentionPolicy.whenDeleted Delete: the garbage collector deletes the claim with the set.
      if (deleteWithSet) claim.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata!.name!, uid: set.metadata!.uid! }];
      if (this.opts.claimInformer?.lister.get(claim.metadata!.namespace!, name)) continue;
      try {
        await this.opts.createClaim(claim);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        this.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${(e as Error).message}`);
        throw e;
      }
      this.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} success`);
    }
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<void> {
    await this.createPersistentVolumeClaims(set, pod);
    try {
      try {
        await this.opts.pods.create(pod);
      } catch (e) {
        // Our cache has not seen the pod we created on an earlier pass yet.
        if (isAlreadyExists(e)) return;
        throw e;
      }
      this.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} successful`);
    } catch (e) {
      this.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await ignoreNotFound(() => this.opts.pods.delete(pod.metadata!.namespace!, pod.metadata!.name!, pod.metadata!.uid));
      this.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} successful`);
    } catch (e) {
      this.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Upstream's updateStatefulSet: create, replace, delete and update pods, in order unless Parallel. */
  private async updatePods(set: StatefulSet, pods: Pod[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const replicaCount = set.spec?.replicas ?? 1;
    const ordered = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const partition = set.spec?.updateStrategy?.type === 'OnDelete' ? replicaCount : (set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0);
    const replicas: Array<Pod | undefined> = Array.from({ length: replicaCount });
    const condemned: Pod[] = [];
    for (const p of pods) {
      const ord = getOrdinal(set, p)!;
      if (ord < replicaCount) replicas[ord] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => getOrdinal(set, b)! - getOrdinal(set, a)!);
    const revisionFor = (ord: number) => (ord < partition ? current : update);

    // Replace failed pods, create missing ones, and (in order) wait for each to be Running and Ready.
    for (let ord = 0; ord < replicaCount; ord++) {
      const pod = replicas[ord];
      if (pod && isTerminated(pod)) {
        this.opts.logger?.info?.({ object: `${pod.metadata!.namespace}/${pod.metadata!.name}` }, 'StatefulSet is recreating failed Pod');
        await this.deletePod(set, pod);
        if (ordered) return;
        continue;
      }
      if (!pod) {
        await this.createPod(set, this.newPod(set, revisionFor(ord), ord));
        if (ordered) return;
        continue;
      }
      if (ordered && (pod.metadata?.deletionTimestamp || !isRunningAndReady(pod))) return;
    }

    // Scale down from the highest ordinal, one at a time unless Parallel (and only when all others are healthy).
    for (const pod of condemned) {
      if (pod.metadata?.deletionTimestamp) {
        if (ordered) return;
        continue;
      }
      if (ordered && replicas.some((p) => !p || !isRunningAndReady(p))) return;
      await this.deletePod(set, pod);
      if (ordered) return;
    }

    // RollingUpdate: replace the highest-ordinal pod not at the update revision, down to the partition.
    if (set.spec?.updateStrategy?.type === 'OnDelete') return;
    if (replicas.some((p) => !p || !isRunningAndReady(p) || p.metadata?.deletionTimestamp)) return;
    for (let ord = replicaCount - 1; ord >= partition; ord--) {
      const pod = replicas[ord]!;
      if (revisionOfPod(pod) !== update.metadata!.name) {
        this.opts.logger?.info?.({ object: `${pod.metadata!.namespace}/${pod.metadata!.name}`, revision: update.metadata!.name }, 'StatefulSet terminating Pod for update');
        await this.deletePod(set, pod);
        return;
      }
    }
  }

  /** Deletes the oldest revisions no pod uses beyond revisionHistoryLimit. */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set([current.metadata!.name, update.metadata!.name, ...pods.map(revisionOfPod)]);
    const history = sortRevisions(revisions).filter((r) => !live.has(r.metadata!.name));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    for (const r of history.slice(0, Math.max(0, history.length - limit))) {
      await ignoreNotFound(() => this.opts.history.delete(r.metadata!.namespace!, r.metadata!.name!));
    }
  }
}

/** The set's status from its pods (upstream's computeReplicaStatus plus completeRollingUpdate). */
export function computeStatus(set: StatefulSet, pods: Pod[], current: ControllerRevision, update: ControllerRevision, collisionCount: number, nowMs: number): StatefulSetStatus {
  const counted = pods.filter((p) => !isTerminated(p) && !p.metadata?.deletionTimestamp);
  const minReady = set.spec?.minReadySeconds ?? 0;
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation,
    replicas: counted.length,
    readyReplicas: counted.filter(isRunningAndReady).length,
    availableReplicas: counted.filter((p) => isRunningAndReady(p) && isPodAvailable(p, minReady, nowMs)).length,
    currentReplicas: counted.filter((p) => revisionOfPod(p) === current.metadata!.name).length,
    updatedReplicas: counted.filter((p) => revisionOfPod(p) === update.metadata!.name).length,
    currentRevision: current.metadata!.name,
    updateRevision: update.metadata!.name,
    collisionCount,
  };
  const replicas = set.spec?.replicas ?? 1;
  if (
    set.spec?.updateStrategy?.type !== 'OnDelete' &&
    status.updatedReplicas === replicas &&
    status.readyReplicas === replicas &&
    status.replicas === replicas
  ) {
    status.currentRevision = status.updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}

function statusEqual(a: StatefulSetStatus | undefined, b: StatefulSetStatus): boolean {
  const keys: Array<keyof StatefulSetStatus> = [
    'observedGeneration',
    'replicas',
    'readyReplicas',
    'availableReplicas',
    'currentReplicas',
    'updatedReplicas',
    'currentRevision',
    'updateRevision',
    'collisionCount',
  ];
  return keys.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));
}

/**
 * The claims of an ordinal's pod, one per volumeClaimTemplate (upstream's getPersistentVolumeClaims): named
 * <template>-<set>-<ordinal>, in the set's namespace, labelled with the set's selector's matchLabels.
 */
export function getPersistentVolumeClaims(set: StatefulSet, ordinal: number): Array<{ template: string; claim: PersistentVolumeClaim }> {
  return (set.spec?.volumeClaimTemplates ?? []).map((tpl) => {
    const claim = structuredClone(tpl) as PersistentVolumeClaim;
    const template = tpl.metadata?.name ?? '';
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = { ...(claim.metadata ?? {}), name: `${template}-${set.metadata!.name}-${ordinal}`, namespace: set.metadata!.namespace };
    claim.metadata.labels = { ...(claim.metadata.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
    delete (claim as { status?: unknown }).status;
    return { template, claim };
  });
}
