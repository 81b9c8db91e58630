// The DaemonSet controller (upstream's pkg/controller/daemon): one pod per eligible node, pinned to it
// with required node affinity on `metadata.name` (the scheduler binds it), the daemon tolerations
// added, RollingUpdate bounded by maxUnavailable, ControllerRevisions, and status counts.
import { findUntoleratedTaint, isNotFound, podMatchesNodeSelectorAndAffinity, scaledValueFromIntOrPercent, selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1';
import type { Node, Pod, PodSpec, Toleration } from 'kubernetes-types/core/v1';
import {
  claimObjects,
  ControllerExpectations,
  getControllerOf,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  runQueue,
  type RunnableController,
} from '../controller-utils.js';
import { CONTROLLER_REVISION_HASH_LABEL, ensureUpdateRevision, revisionData, sortRevisions, type HistoryClient } from '../history/controller-history.js';
import { ignoreNotFound, type PodWriter } from '../history/pod-writer.js';

export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

export interface DaemonSetControllerOptions {
  dsInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  nodeInformer: Informer<KubeObject>;
  revisionInformer: Informer<KubeObject>;
  pods: PodWriter;
  history: HistoryClient;
  updateStatus(ds: DaemonSet): Promise<DaemonSet>;
  canAdopt?(ds: DaemonSet): Promise<void>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

/** The tolerations every daemon pod gets (upstream's AddOrUpdateDaemonPodTolerations). */
export function daemonPodTolerations(spec: PodSpec): Toleration[] {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const out = [...(spec.tolerations ?? [])];
  for (const t of add) {
    const i = out.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/**
 * Whether a daemon pod should be started on `node`, and whether one already there should keep running
 * (upstream's NodeShouldRunDaemonPod): the node must match the pod's nodeName, node selector and
 * required affinity; a taint the daemon pod does not tolerate keeps new pods off the node, but only an
 * untolerated NoExecute taint removes a running one. So the daemon pods of a node that turns NotReady or
 * unreachable (taints with both effects) stay: they tolerate those NoExecute taints.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec!.template.spec!;
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec.nodeName && spec.nodeName !== node.metadata!.name) return no;
  const fields = { name: node.metadata!.name!, labels: node.metadata?.labels ?? {} };
  if (!podMatchesNodeSelectorAndAffinity({ spec }, fields)) return no;
  const taints = node.spec?.taints ?? [];
  const tolerations = daemonPodTolerations(spec);
  if (!findUntoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute'])) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: !findUntoleratedTaint(taints, tolerations, ['NoExecute']) };
}

/** The node a daemon pod is for: its nodeName, else the node its affinity pins it to. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

const isFailed = (p: Pod) => p.status?.phase === 'Failed';
const hashOf = (p: Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];

export class DaemonSetController implements RunnableController {
  readonly name = 'daemonset-controller';
  readonly queue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly clock: Clock;

  constructor(private readonly opts: DaemonSetControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'daemonset', clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    const enqueue = (d: KubeObject) => this.queue.add(metaNamespaceKey(d));
    const enqueueAll = () => opts.dsInformer.lister.list().forEach(enqueue);
    opts.dsInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, d) => enqueue(d), onDelete: enqueue });
    opts.nodeInformer.addEventHandler({ onAdd: enqueueAll, onUpdate: (o, n) => nodeChanged(o, n) && enqueueAll(), onDelete: enqueueAll });
    const podChanged = (p: KubeObject, how: 'add' | 'update' | 'delete') => {
      const ref = getControllerOf(p);
      if (ref?.kind !== 'DaemonSet') return;
      const ds = opts.dsInformer.lister.get(p.metadata.namespace!, ref.name);
      if (!ds || ds.metadata.uid !== ref.uid) return;
      const key = metaNamespaceKey(ds);
      if (how === 'add') this.expectations.creationObserved(key);
      this.queue.add(key);
    };
    opts.podInformer.addEventHandler({
      onAdd: (p) => podChanged(p, 'add'),
      onUpdate: (_o, p) => podChanged(p, 'update'),
      onDelete: (p) => podChanged(p, 'delete'),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  private event(ds: DaemonSet, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.opts.recorder.event(ds as KubeObject, type, reason, message);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ds = this.opts.dsInformer.lister.get(namespace, name) as DaemonSet | undefined;
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    if (ds.metadata?.deletionTimestamp) return;
    const selector = selectorFromLabelSelector(ds.spec?.selector);
    const pods = (await claimObjects(this.opts.podInformer.lister.list(namespace), {
      owner: ds as KubeObject,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'DaemonSet',
      matches: (p) => !selector.empty() && selector.matches(p.metadata.labels ?? {}),
      patch: async (p, patch) => (await this.opts.pods.patch(namespace, p.metadata.name!, patch)) as KubeObject,
      canAdopt: () => this.opts.canAdopt?.(ds) ?? Promise.resolve(),
    })) as Pod[];
    const nodes = this.opts.nodeInformer.lister.list() as Node[];
    const revisions = (this.opts.revisionInformer.lister.list(namespace) as ControllerRevision[]).filter((r) => getControllerOf(r as KubeObject)?.uid === ds.metadata!.uid);
    const ensured = await ensureUpdateRevision(
      this.opts.history,
      ds as KubeObject,
      'DaemonSet',
      ds.spec?.template?.metadata?.labels,
      revisionData(ds.spec?.template),
      revisions,
      ds.status?.collisionCount ?? 0,
    );
    const hash = ensured.revision.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;

    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const n = targetNodeName(p);
      if (n) byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }

    let err: Error | undefined;
    if (this.expectations.satisfied(key)) {
      try {
        await this.manage(key, ds, nodes, byNode, hash);
        if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') await this.rollingUpdate(ds, nodes, byNode, hash);
      } catch (e) {
        err = e as Error;
      }
    }
    await this.truncateHistory(ds, pods, [...revisions, ensured.revision], ensured.revision);
    const status = computeStatus(ds, nodes, byNode, hash, ensured.collisionCount, this.clock.now());
    if (!statusEqual(ds.status, status)) await this.opts.updateStatus({ ...ds, status });
    if (err) throw err;
  }

  /** Creates pods on nodes missing one; deletes pods on nodes that should not run one, extras and failed pods. */
  private async manage(key: string, ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const toCreate: string[] = [];
    const toDelete: Pod[] = [];
    const nodeNames = new Set(nodes.map((n) => n.metadata!.name!));
    for (const node of nodes) {
      const nodeName = node.metadata!.name!;
      const daemonPods = (byNode.get(nodeName) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      if (shouldRun && daemonPods.length === 0) {
        toCreate.push(nodeName);
      } else if (shouldContinueRunning) {
        const failed = daemonPods.filter(isFailed);
        for (const p of failed) {
          this.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${p.metadata!.namespace}/${p.metadata!.name} on node ${nodeName}, will try to kill it`);
          toDelete.push(p);
        }
        const running = daemonPods.filter((p) => !isFailed(p));
        if (running.length > 1) {
          // Keep the oldest (preferring one at the current revision is left to the rolling update).
          const sorted = [...running].sort((a, b) => Date.parse(a.metadata!.creationTimestamp ?? '0') - Date.parse(b.metadata!.creationTimestamp ?? '0'));
          toDelete.push(...sorted.slice(1));
        }
      } else {
        toDelete.push(...daemonPods);
      }
    }
    // Unscheduled pods pinned to nodes that no longer exist.
    for (const [nodeName, ps] of byNode) {
      if (!nodeNames.has(nodeName)) toDelete.push(...ps.filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp));
    }
    if (!toCreate.length && !toDelete.length) return;
    // Only creations are expected: a repeated delete from a stale cache is harmless (NotFound), a repeated create is not.
    this.expectations.expectCreations(key, toCreate.length);
    const errors: Error[] = [];
    await Promise.all([
      ...toCreate.map(async (nodeName) => {
        try {
          const pod = await this.opts.pods.create(this.newPod(ds, nodeName, hash));
          this.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata!.name}`);
        } catch (e) {
          this.expectations.creationObserved(key);
          this.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          errors.push(e as Error);
        }
      }),
      ...toDelete.map((p) => this.deletePod(ds, p).catch((e) => errors.push(e as Error))),
    ]);
    if (errors.length) throw errors[0];
  }

  private async deletePod(ds: DaemonSet, pod: Pod): Promise<void> {
    try {
      await this.opts.pods.delete(pod.metadata!.namespace!, pod.metadata!.name!, pod.metadata!.uid);
      this.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
    } catch (e) {
      if (isNotFound(e)) return;
      this.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * Deletes old-revision pods so that they are replaced: unavailable ones at once, available ones
   * only while fewer than maxUnavailable nodes lack an available pod (surge is not supported).
   */
  private async rollingUpdate(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const nowMs = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    // Nodes that should run a daemon pod, and nodes whose daemon pods may keep running there (upstream
    // updates every node with daemon pods; the desired ones set maxUnavailable).
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun);
    const maxUnavailable = scaledValueFromIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired.length, true);
    const updatable = nodes.filter((n) => {
      const should = nodeShouldRunDaemonPod(n, ds);
      return should.shouldRun || (should.shouldContinueRunning && byNode.has(n.metadata!.name!));
    });
    let unavailable = 0;
    const oldAvailable: Pod[] = [];
    const oldUnavailable: Pod[] = [];
    for (const node of updatable) {
      const ps = (byNode.get(node.metadata!.name!) ?? []).filter((p) => !isFailed(p));
      const live = ps.filter((p) => !p.metadata?.deletionTimestamp);
      const available = live.some((p) => isPodAvailable(p, minReady, nowMs));
      if (!available) unavailable++;
      for (const p of live) {
        if (hashOf(p) === hash) continue;
        (isPodAvailable(p, minReady, nowMs) ? oldAvailable : oldUnavailable).push(p);
      }
    }
    const victims = [...oldUnavailable];
    for (const p of oldAvailable) {
      if (unavailable >= maxUnavailable) break;
      victims.push(p);
      unavailable++;
    }
    if (!victims.length) return;
    const errors: Error[] = [];
    await Promise.all(victims.map((p) => this.deletePod(ds, p).catch((e) => errors.push(e as Error))));
    if (errors.length) throw errors[0];
  }

  /** The daemon pod for one node (upstream's template plus node affinity and tolerations). */
  newPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
    const tpl = structuredClone(ds.spec!.template);
    const spec = tpl.spec!;
    spec.tolerations = daemonPodTolerations(spec);
    const nodeAffinity = { ...(spec.affinity?.nodeAffinity ?? {}) };
    nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    };
    spec.affinity = { ...(spec.affinity ?? {}), nodeAffinity };
    const labels: Record<string, string> = { ...(tpl.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash };
    if (ds.metadata?.generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = String(ds.metadata.generation);
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata!.name}-`,
        namespace: ds.metadata!.namespace,
        labels,
        annotations: tpl.metadata?.annotations ? { ...tpl.metadata.annotations } : undefined,
        ownerReferences: [newControllerRef(ds as KubeObject, 'apps/v1', 'DaemonSet')],
      },
      spec,
    };
  }

  private async truncateHistory(ds: DaemonSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision): Promise<void> {
    const liveHashes = new Set(pods.map(hashOf));
    const seen = new Set<string>();
    const history = sortRevisions(revisions).filter((r) => {
      const n = r.metadata!.name!;
      if (seen.has(n)) return false;
      seen.add(n);
      return n !== current.metadata!.name && !liveHashes.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]);
    });
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    for (const r of history.slice(0, Math.max(0, history.length - limit))) {
      await ignoreNotFound(() => this.opts.history.delete(r.metadata!.namespace!, r.metadata!.name!));
    }
  }
}

function nodeChanged(o: KubeObject, n: KubeObject): boolean {
  return (
    JSON.stringify(o.metadata.labels ?? {}) !== JSON.stringify(n.metadata.labels ?? {}) ||
    JSON.stringify(o.spec?.taints ?? []) !== JSON.stringify(n.spec?.taints ?? []) ||
    o.spec?.unschedulable !== n.spec?.unschedulable
  );
}

/** Upstream's updateDaemonSetStatus counts. */
export function computeStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, collisionCount: number, nowMs: number): DaemonSetStatus {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of nodes) {
    const ps = (byNode.get(node.metadata!.name!) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
    const should = nodeShouldRunDaemonPod(node, ds).shouldRun;
    if (should) desired++;
    if (ps.length === 0) continue;
    if (!should) {
      misscheduled++;
      continue;
    }
    current++;
    const oldest = [...ps].sort((a, b) => Date.parse(a.metadata!.creationTimestamp ?? '0') - Date.parse(b.metadata!.creationTimestamp ?? '0'))[0]!;
    if (isPodReady(oldest)) {
      ready++;
      if (isPodAvailable(oldest, minReady, nowMs)) available++;
    }
    if (ps.some((p) => hashOf(p) === hash)) updated++;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata?.generation,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
  if (collisionCount) status.collisionCount = collisionCount;
  if (!status.numberAvailable) delete status.numberAvailable;
  if (!status.numberUnavailable) delete status.numberUnavailable;
  return status;
}

function statusEqual(a: DaemonSetStatus | undefined, b: DaemonSetStatus): boolean {
  const keys: Array<keyof DaemonSetStatus> = [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
    'collisionCount',
  ];
  return keys.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));
}
