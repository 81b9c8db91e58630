// The Deployment controller (upstream's pkg/controller/deployment): owns ReplicaSets, one per pod
// template (named <deployment>-<pod-template-hash>), and moves replicas from the old ones to the new
// one by the RollingUpdate or Recreate strategy, keeping revisions, conditions and history.
import { isAlreadyExists, isNotFound, selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import {
  claimObjects,
  getControllerOf,
  isControlledBy,
  newControllerRef,
  nowRFC3339,
  runQueue,
  type RunnableController,
} from '../controller-utils.js';
import {
  byCreation,
  byRevision,
  calculateDeploymentStatus,
  computeHash,
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DESIRED_REPLICAS_ANNOTATION,
  deploymentComplete,
  deploymentProgressing,
  deploymentStatusEqual,
  deploymentTimedOut,
  equalIgnoreHash,
  FAILED_RS_CREATE_REASON,
  findNewReplicaSet,
  findOldReplicaSets,
  FOUND_NEW_RS_REASON,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxScaledDown,
  maxSurge,
  maxUnavailable,
  NEW_RS_AVAILABLE_REASON,
  NEW_RS_REASON,
  newCondition,
  newRSNewReplicas,
  PAUSED_DEPLOY_REASON,
  proportionalSizes,
  removeCondition,
  replicasOf,
  RESUMED_DEPLOY_REASON,
  REVISION_ANNOTATION,
  RS_UPDATED_REASON,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  TIMED_OUT_REASON,
} from './deployment-util.js';

/** The writes the Deployment controller makes. */
export interface DeploymentControl {
  createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  /** Merge patch (adoption and release). */
  patchReplicaSet(namespace: string, name: string, patch: object): Promise<ReplicaSet>;
  deleteReplicaSet(namespace: string, name: string, uid: string): Promise<void>;
  /** Merge patch on the deployment's metadata (revision annotation). */
  patchDeployment(namespace: string, name: string, patch: object): Promise<Deployment>;
  updateDeploymentStatus(d: Deployment): Promise<Deployment>;
  /** Re-reads the deployment before adopting orphans. */
  canAdopt?(d: Deployment): Promise<void>;
}

export interface DeploymentControllerOptions {
  deploymentInformer: Informer<KubeObject>;
  rsInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  control: DeploymentControl;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

/** The deployment being synced: a private copy, and the status last written (the baseline for "changed"). */
interface SyncState {
  d: Deployment;
  written: DeploymentStatus | undefined;
  rsList: ReplicaSet[];
}

const asRS = (o: KubeObject) => o as unknown as ReplicaSet;
const asKube = (o: { metadata?: unknown }) => o as unknown as KubeObject;
const isActive = (rs: ReplicaSet | undefined): rs is ReplicaSet => !!rs && replicasOf(rs) > 0;

export class DeploymentController implements RunnableController {
  readonly name = 'deployment-controller';
  readonly queue: WorkQueue<string>;
  private readonly dInformer: Informer<KubeObject>;
  private readonly rsInformer: Informer<KubeObject>;
  private readonly podInformer: Informer<KubeObject>;
  private readonly control: DeploymentControl;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log?: Logger;

  constructor(opts: DeploymentControllerOptions) {
    this.dInformer = opts.deploymentInformer;
    this.rsInformer = opts.rsInformer;
    this.podInformer = opts.podInformer;
    this.control = opts.control;
    this.recorder = opts.recorder;
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });

    this.dInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_o, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(d),
    });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.rsChanged(undefined, rs),
      onUpdate: (old, rs) => this.rsChanged(old, rs),
      onDelete: (rs) => this.rsChanged(undefined, rs),
    });
    this.podInformer.addEventHandler({ onDelete: (pod) => this.podDeleted(pod as Pod) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  enqueue(d: KubeObject): void {
    this.queue.add(metaNamespaceKey(d));
  }

  private ownerOf(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): KubeObject | undefined {
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.dInformer.lister.get(namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private rsChanged(old: KubeObject | undefined, rs: KubeObject): void {
    const ns = rs.metadata.namespace!;
    const oldRef = old && getControllerOf(old);
    const ref = getControllerOf(rs);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.ownerOf(ns, oldRef);
      if (prev) this.enqueue(prev);
    }
    if (ref) {
      const d = this.ownerOf(ns, ref);
      if (d) this.enqueue(d);
      return;
    }
    // An orphan: every deployment that selects it may want to adopt it.
    for (const d of this.dInformer.lister.list(ns)) {
      const sel = selectorFromLabelSelector(d.spec?.selector);
      if (!sel.empty() && sel.matches(rs.metadata.labels ?? {})) this.enqueue(d);
    }
  }

  /** Recreate waits for old pods to go away, so it needs to hear about pod deletions. */
  private podDeleted(pod: Pod): void {
    const ref = getControllerOf(pod as KubeObject);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.lister.get(pod.metadata!.namespace!, ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const d = this.ownerOf(rs.metadata.namespace!, getControllerOf(rs));
    if (d && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  private now(): string {
    return nowRFC3339(this.clock);
  }

  // -------------------------------------------------------------------------------------------
  // sync

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.dInformer.lister.get(namespace, name) as unknown as Deployment | undefined;
    if (!cached) return;
    const d = structuredClone(cached);
    const st: SyncState = { d, written: cached.status, rsList: [] };
    const selector = selectorFromLabelSelector(d.spec?.selector);
    if (selector.empty()) {
      this.recorder.event(asKube(d), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        await this.writeStatus(st, { ...(d.status ?? {}), observedGeneration: d.metadata?.generation });
      }
      return;
    }
    st.rsList = await this.getReplicaSetsForDeployment(d, selector);

    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(st);
    await this.checkPausedConditions(st);
    if (d.spec?.paused) return this.syncScale(st);
    if (await this.isScalingEvent(st)) return this.syncScale(st);
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(st);
    return this.rolloutRolling(st);
  }

  /** ReplicaSets this deployment controls, adopting matching orphans and releasing ones that stopped matching. */
  private async getReplicaSetsForDeployment(d: Deployment, selector: ReturnType<typeof selectorFromLabelSelector>): Promise<ReplicaSet[]> {
    const all = this.rsInformer.lister.list(d.metadata!.namespace);
    const claimed = await claimObjects(all, {
      owner: asKube(d),
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      matches: (rs) => selector.matches(rs.metadata.labels ?? {}),
      patch: async (rs, patch) => asKube(await this.control.patchReplicaSet(rs.metadata.namespace!, rs.metadata.name!, patch)),
      canAdopt: () => this.control.canAdopt?.(d) ?? Promise.resolve(),
    });
    return claimed.map((rs) => structuredClone(asRS(rs)));
  }

  private async writeStatus(st: SyncState, status: DeploymentStatus): Promise<void> {
    const updated = await this.control.updateDeploymentStatus({ ...st.d, status });
    st.d.metadata = { ...st.d.metadata, resourceVersion: updated.metadata?.resourceVersion };
    st.d.status = structuredClone(status);
    st.written = status;
  }

  private replaceRS(st: SyncState, rs: ReplicaSet, lists: ReplicaSet[][]): void {
    for (const list of [st.rsList, ...lists]) {
      const i = list.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
      if (i >= 0) list[i] = rs;
    }
  }

  private async checkPausedConditions(st: SyncState): Promise<void> {
    const d = st.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === TIMED_OUT_REASON) return;
    const pausedExists = cond?.reason === PAUSED_DEPLOY_REASON;
    const status = structuredClone(d.status ?? {});
    if (d.spec?.paused && !pausedExists) {
      setCondition(status, newCondition('Progressing', 'Unknown', PAUSED_DEPLOY_REASON, 'Deployment is paused', this.now()));
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(status, newCondition('Progressing', 'Unknown', RESUMED_DEPLOY_REASON, 'Deployment is resumed', this.now()));
    } else return;
    await this.writeStatus(st, status);
  }

  /** Sets the deployment's revision annotation (a metadata patch, which does not bump generation). */
  private async setDeploymentRevision(st: SyncState, revision: string): Promise<void> {
    if (st.d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const patched = await this.control.patchDeployment(st.d.metadata!.namespace!, st.d.metadata!.name!, {
      metadata: { annotations: { [REVISION_ANNOTATION]: revision } },
    });
    st.d.metadata = { ...st.d.metadata, annotations: patched.metadata?.annotations, resourceVersion: patched.metadata?.resourceVersion };
  }

  /**
   * The new ReplicaSet (created when `create` and missing) and the old ones; brings the new one's
   * revision and annotations up to date, and the deployment's revision with it.
   */
  private async getAllReplicaSetsAndSyncRevision(st: SyncState, create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const d = st.d;
    const existing = findNewReplicaSet(d, st.rsList);
    const oldRSs = findOldReplicaSets(d, st.rsList, existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      let rs = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, rs, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsChanged || (rs.spec?.minReadySeconds ?? 0) !== minReady) {
        rs.spec = { ...rs.spec!, minReadySeconds: minReady };
        rs = await this.control.updateReplicaSet(rs);
        this.replaceRS(st, rs, []);
      }
      await this.setDeploymentRevision(st, rs.metadata!.annotations![REVISION_ANNOTATION]!);
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const status = (d.status ??= {});
        setCondition(status, newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${rs.metadata!.name}"`, this.now()));
      }
      return { newRS: rs, oldRSs };
    }
    if (!create) return { oldRSs };

    const hash = computeHash(d.spec!.template, d.status?.collisionCount);
    const template = structuredClone(d.spec!.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash } };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash };
    const rsName = `${d.metadata!.name}-${hash}`;
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: d.metadata!.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(asKube(d), 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    try {
      created = await this.control.createReplicaSet(newRS);
    } catch (err) {
      if (isAlreadyExists(err)) {
        const found = this.rsInformer.lister.get(d.metadata!.namespace!, rsName) as unknown as ReplicaSet | undefined;
        if (found && isControlledBy(asKube(found), asKube(d)) && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
          // Our own create whose event has not reached the cache yet.
          return { newRS: structuredClone(found), oldRSs };
        }
        // A hash collision: bump collisionCount so the next sync picks another name.
        const status = structuredClone(d.status ?? {});
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.writeStatus(st, status);
        throw new Error(`hash collision for ReplicaSet "${rsName}"; collisionCount is now ${status.collisionCount}`);
      }
      const msg = `Failed to create new replica set "${rsName}": ${(err as Error).message}`;
      if (hasProgressDeadline(d)) {
        const status = structuredClone(d.status ?? {});
        setCondition(status, newCondition('Progressing', 'False', FAILED_RS_CREATE_REASON, msg, this.now()));
        await this.writeStatus(st, status).catch(() => undefined);
      }
      this.recorder.event(asKube(d), 'Warning', FAILED_RS_CREATE_REASON, msg);
      throw err;
    }
    if (replicas > 0) {
      this.recorder.event(asKube(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${replicas}`);
    }
    st.rsList.push(created);
    await this.setDeploymentRevision(st, String(newRevision));
    if (hasProgressDeadline(d)) {
      const status = (d.status ??= {});
      setCondition(status, newCondition('Progressing', 'True', NEW_RS_REASON, `Created new replica set "${rsName}"`, this.now()));
    }
    return { newRS: created, oldRSs };
  }

  /** A scaling event: some active ReplicaSet was sized for another replica count. */
  private async isScalingEvent(st: SyncState): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, false);
    for (const rs of [...oldRSs, newRS].filter(isActive)) {
      const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION];
      if (desired === undefined) continue;
      if (Number(desired) !== replicasOf(st.d)) return true;
    }
    return false;
  }

  /** Resizes a ReplicaSet (and its replica annotations); emits ScalingReplicaSet when the size changes. */
  private async scaleReplicaSet(st: SyncState, rs: ReplicaSet, newScale: number, lists: ReplicaSet[][]): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const d = st.d;
    const oldScale = replicasOf(rs);
    const copy = structuredClone(rs);
    const sizeChanged = oldScale !== newScale;
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (!sizeChanged && !annotationsChanged) return { scaled: false, rs };
    copy.spec = { ...copy.spec!, replicas: newScale };
    const updated = await this.control.updateReplicaSet(copy);
    this.replaceRS(st, updated, lists);
    if (sizeChanged) {
      const op = newScale > oldScale ? 'up' : 'down';
      this.recorder.event(asKube(d), 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata!.name} from ${oldScale} to ${newScale}`);
    }
    return { scaled: sizeChanged, rs: updated };
  }

  private async scaleAndRecord(st: SyncState, rs: ReplicaSet, newScale: number, lists: ReplicaSet[][]): Promise<boolean> {
    if (replicasOf(rs) === newScale) return false;
    return (await this.scaleReplicaSet(st, rs, newScale, lists)).scaled;
  }

  // -------------------------------------------------------------------------------------------
  // RollingUpdate

  private async rolloutRolling(st: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, true);
    const allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    const d = st.d;
    if (newRS) {
      let scaledUp = false;
      if (replicasOf(newRS) > replicasOf(d)) scaledUp = await this.scaleAndRecord(st, newRS, replicasOf(d), [allRSs]);
      else if (replicasOf(newRS) < replicasOf(d)) scaledUp = await this.scaleAndRecord(st, newRS, newRSNewReplicas(d, allRSs, newRS), [allRSs]);
      if (scaledUp) return this.syncRolloutStatus(st, allRSs, this.current(allRSs, newRS));
    }
    const scaledDown = await this.reconcileOldReplicaSets(st, allRSs, oldRSs, this.current(allRSs, newRS));
    if (scaledDown) return this.syncRolloutStatus(st, allRSs, this.current(allRSs, newRS));
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(st, oldRSs);
    return this.syncRolloutStatus(st, allRSs, this.current(allRSs, newRS));
  }

  /** The latest copy of `rs` in `list` (after scaling replaced it). */
  private current(list: ReplicaSet[], rs: ReplicaSet | undefined): ReplicaSet | undefined {
    return rs && list.find((x) => x.metadata?.uid === rs.metadata?.uid);
  }

  private async reconcileOldReplicaSets(st: SyncState, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<boolean> {
    const d = st.d;
    if (oldRSs.reduce((n, rs) => n + replicasOf(rs), 0) === 0) return false;
    const budget = maxScaledDown(d, allRSs, newRS);
    if (budget <= 0) return false;
    // First scale down old ReplicaSets' unhealthy replicas, which cost no availability.
    let cleaned = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (cleaned >= budget) break;
      const cur = this.current(oldRSs, rs)!;
      const available = cur.status?.availableReplicas ?? 0;
      if (replicasOf(cur) === 0 || replicasOf(cur) === available) continue;
      const n = Math.min(budget - cleaned, replicasOf(cur) - available);
      await this.scaleAndRecord(st, cur, replicasOf(cur) - n, [allRSs, oldRSs]);
      cleaned += n;
    }
    // Then scale down healthy ones as far as availability allows.
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const available = allRSs.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of [...oldRSs].sort(byCreation)) {
        if (scaled >= total) break;
        const cur = this.current(oldRSs, rs)!;
        if (replicasOf(cur) === 0) continue;
        const n = Math.min(replicasOf(cur), total - scaled);
        await this.scaleAndRecord(st, cur, replicasOf(cur) - n, [allRSs, oldRSs]);
        scaled += n;
      }
    }
    return cleaned + scaled > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Recreate

  private async rolloutRecreate(st: SyncState): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, false);
    let allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    let scaledDown = false;
    for (const rs of oldRSs.filter(isActive)) {
      if (await this.scaleAndRecord(st, this.current(oldRSs, rs)!, 0, [allRSs, oldRSs])) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(st, allRSs, newRS);
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(st, allRSs, newRS);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, true));
      allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    }
    if (newRS) await this.scaleAndRecord(st, newRS, replicasOf(st.d), [allRSs]);
    if (deploymentComplete(st.d, st.d.status ?? {})) await this.cleanupDeployment(st, oldRSs);
    return this.syncRolloutStatus(st, allRSs, this.current(allRSs, newRS));
  }

  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const ns = (newRS ?? oldRSs[0])?.metadata?.namespace;
    if (!ns) return false;
    const oldUIDs = new Set(oldRSs.map((rs) => rs.metadata!.uid));
    for (const pod of this.podInformer.lister.list(ns) as Pod[]) {
      const ref = getControllerOf(pod as KubeObject);
      if (!ref || !oldUIDs.has(ref.uid) || ref.uid === newRS?.metadata?.uid) continue;
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Scaling, paused deployments, cleanup

  /** A paused deployment or a scaling event: resize without rolling (upstream's sync). */
  private async syncScale(st: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, false);
    const allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    await this.scale(st, newRS, oldRSs, allRSs);
    if (st.d.spec?.paused) await this.cleanupDeployment(st, oldRSs);
    return this.syncDeploymentStatus(st, allRSs, this.current(allRSs, newRS));
  }

  private async scale(st: SyncState, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], allRSs: ReplicaSet[]): Promise<void> {
    const d = st.d;
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== replicasOf(d)) await this.scaleAndRecord(st, activeOrLatest, replicasOf(d), [allRSs, oldRSs]);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const rs of oldRSs.filter(isActive)) await this.scaleAndRecord(st, this.current(oldRSs, rs)!, 0, [allRSs, oldRSs]);
      return;
    }
    if (isRollingUpdate(d)) {
      const active = allRSs.filter(isActive);
      const sizes = proportionalSizes(d, active);
      for (const rs of active) {
        await this.scaleReplicaSet(st, this.current(allRSs, rs)!, sizes.get(rs.metadata!.name!)!, [allRSs, oldRSs]);
      }
    }
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private async cleanupDeployment(st: SyncState, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = st.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
    const diff = alive.length - limit;
    for (let i = 0; i < diff; i++) {
      const rs = alive[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.control.deleteReplicaSet(rs.metadata!.namespace!, rs.metadata!.name!, rs.metadata!.uid!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status

  private async syncStatusOnly(st: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(st, false);
    return this.syncDeploymentStatus(st, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  private async syncDeploymentStatus(st: SyncState, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = calculateDeploymentStatus(allRSs, newRS, st.d, this.now());
    if (deploymentStatusEqual(st.written, status)) return;
    await this.writeStatus(st, status);
  }

  /** Status plus the Progressing condition of a rollout; requeues a rollout that may time out. */
  private async syncRolloutStatus(st: SyncState, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = st.d;
    const now = this.now();
    const status = calculateDeploymentStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const cur = getCondition(d.status, 'Progressing');
    const isComplete = status.replicas === status.updatedReplicas && cur?.reason === NEW_RS_AVAILABLE_REASON;
    const rsName = newRS?.metadata?.name;
    if (hasProgressDeadline(d) && !isComplete) {
      if (deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : 'Deployment has successfully progressed.';
        setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : 'Deployment is progressing.';
        const cond = newCondition('Progressing', 'True', RS_UPDATED_REASON, msg, now);
        if (cur?.status === 'True') cond.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, this.clock.now())) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata!.name}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, msg, now));
      }
    }
    // Surface a ReplicaSet's failure to create pods.
    const failure = allRSs.flatMap((rs) => rs.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure)
      setCondition(status, {
        type: 'ReplicaFailure',
        status: 'True',
        reason: failure.reason,
        message: failure.message,
        lastUpdateTime: now,
        lastTransitionTime: failure.lastTransitionTime ?? now,
      });
    else removeCondition(status, 'ReplicaFailure');

    if (deploymentStatusEqual(st.written, status)) {
      this.requeueStuckDeployment(d, status);
      return;
    }
    await this.writeStatus(st, status);
  }

  /** Checks the deployment again when its progress deadline would pass. */
  private requeueStuckDeployment(d: Deployment, status: DeploymentStatus): void {
    const cond = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === TIMED_OUT_REASON) return;
    const from = Date.parse(cond.lastUpdateTime ?? '');
    if (!Number.isFinite(from)) return;
    const after = from + d.spec!.progressDeadlineSeconds! * 1000 - this.clock.now();
    const key = metaNamespaceKey(asKube(d));
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after + 1000);
  }
}

/** The only active ReplicaSet, or the newest one when none is active; undefined when several are active. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sorted = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = [...sorted, ...(newRS ? [newRS] : [])].filter(isActive);
  if (active.length === 0) return newRS ?? sorted[0];
  if (active.length === 1) return active[0];
  return undefined;
}
