// kube-scheduler: informers feed the cache and the scheduling queue; one loop pops a pod, runs its
// profile's framework against the cache (synchronously), assumes the chosen node and binds
// asynchronously. Failures write a FailedScheduling event and the PodScheduled=False condition and
// park the pod until a cluster event its rejecting plugins care about.
import { findResource, isNotFound, rfc3339, type KubeObject } from '@kubelab/api';
import { runLeaderElected, serveComponent, silentLogger, type ComponentServer, type LeaderElected, type Logger } from '@kubelab/component-base';
import {
  EventsV1Broadcaster,
  RestClient,
  SharedInformerFactory,
  loadKubeconfig,
  realClock,
  type Clock,
  type EventsV1Recorder,
  type Informer,
} from '@kubelab/client';
import type { Namespace, Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { SchedulerCache, podKey } from './cache.js';
import type { SchedulerConfig } from './config.js';
import { FitError } from './framework/fit-error.js';
import { CycleState, type ClusterEvent } from './framework/interface.js';
import { PodInfo } from './framework/node-info.js';
import { Framework, type NodeDecision } from './framework/runtime.js';
import { KeyedWrites, Limiter } from './limiter.js';
import { SchedulerMetrics } from './metrics.js';
import type { PreemptionHandle } from './plugins/default-preemption.js';
import { buildPlugins } from './plugins/registry.js';
import { volumeBindingInformers, type VolumeBindingHandle } from './plugins/volume-binding.js';
import { SchedulingQueue, type QueuedPodInfo } from './scheduling-queue.js';

export const EXPLAIN_ANNOTATION = 'scheduler.kubelab.io/explain';
export const DECISION_ANNOTATION = 'scheduler.kubelab.io/decision';
const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const PDBS = findResource('policy', 'v1', 'poddisruptionbudgets')!;
/** How many decisions (per node) an annotation keeps. */
const MAX_DECISION_NODES = 50;

export interface SchedulerOptions {
  client?: RestClient;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** Records every profile's events (default: events.k8s.io Events, one recorder per profile, as upstream). */
  eventRecorder?: EventsV1Recorder;
  /** Concurrent binding requests (upstream binds every pod in its own goroutine). */
  bindingParallelism?: number;
  /** Called when the lease is lost after leading (a process exits then, as upstream). */
  onLeadershipLost?: () => void;
}

/** A pod as an object events can refer to (informer objects may lack apiVersion and kind). */
const podObject = (pod: Pod): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', ...pod }) as KubeObject;

/** events.k8s.io's limit on a note (validation.NoteLengthLimit). */
const NOTE_LENGTH_LIMIT = 1024;

/** Shortens a message to the note limit, ending in " ..." (upstream's truncateMessage). */
export function truncateMessage(message: string): string {
  if (message.length <= NOTE_LENGTH_LIMIT) return message;
  const suffix = ' ...';
  return message.slice(0, NOTE_LENGTH_LIMIT - suffix.length) + suffix;
}

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}
function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Did anything but status (and bookkeeping metadata) change? (upstream's isPodUpdated) The decision
 * record is the scheduler's own write: it must not send the pod back to be retried.
 */
function podSpecOrMetaChanged(a: Pod, b: Pod): boolean {
  const strip = (p: Pod) => {
    const annotations = p.metadata?.annotations && { ...p.metadata.annotations, [DECISION_ANNOTATION]: undefined };
    const metadata = { ...p.metadata, annotations, resourceVersion: undefined, managedFields: undefined, generation: undefined };
    return JSON.stringify({ ...p, status: undefined, metadata });
  };
  return strip(a) !== strip(b);
}

/** Did anything the filters read change? (upstream's node update event classification) */
function nodeSchedulingPropertiesChanged(a: Node, b: Node): boolean {
  const pick = (n: Node) =>
    JSON.stringify([
      n.metadata?.labels,
      n.spec?.taints,
      n.spec?.unschedulable,
      n.status?.allocatable,
      (n.status?.conditions ?? []).map((c) => [c.type, c.status]),
      n.status?.images?.length,
    ]);
  return pick(a) !== pick(b);
}

export class Scheduler {
  readonly config: Readonly<SchedulerConfig>;
  readonly client: RestClient;
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly metrics = new SchedulerMetrics();
  readonly frameworks = new Map<string, Framework>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly eventBroadcaster?: EventsV1Broadcaster;
  /** The event recorder of each profile (reportingController: its schedulerName). */
  private readonly recorders = new Map<string, EventsV1Recorder>();
  private readonly binder: Limiter;
  /** PodScheduled conditions and decision records: coalesced per pod, dropped when the pod goes. */
  private readonly writes: KeyedWrites;
  private readonly writer = new Limiter(8);
  private factory?: SharedInformerFactory;
  private podInformer?: Informer<Pod & KubeObject>;
  private pdbInformer?: Informer<PodDisruptionBudget & KubeObject>;
  private volumes?: VolumeBindingHandle;
  private server?: ComponentServer;
  private election?: LeaderElected;
  private readonly abort = new AbortController();
  private loopDone?: Promise<void>;
  private running = false;

  constructor(
    config: Readonly<SchedulerConfig>,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.config = config;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'kube-scheduler' });
    this.client =
      opts.client ??
      new RestClient({ ...loadKubeconfig(config.kubeconfig), qps: config.kubeAPIQPS, burst: config.kubeAPIBurst, userAgent: 'kube-scheduler' });
    if (!opts.eventRecorder) {
      this.eventBroadcaster = new EventsV1Broadcaster({
        client: this.client,
        clock: this.clock,
        onError: (err) => this.log.warn({ err: (err as Error).message }, 'Failed to write event'),
      });
    }
    this.binder = new Limiter(opts.bindingParallelism ?? 64);
    this.writes = new KeyedWrites(this.writer, (err, pod) => {
      if (isNotFound(err)) this.log.debug?.({ pod }, 'Pod is gone; dropped a write about it');
      else this.log.warn({ pod, err: (err as Error).message }, 'Error updating pod');
    });
    for (const profile of config.profiles) {
      this.recorders.set(profile.schedulerName, opts.eventRecorder ?? this.eventBroadcaster!.newRecorder(profile.schedulerName));
      const { plugins, weights } = buildPlugins(profile, {
        preemption: () => this.preemptionHandle(this.frameworks.get(profile.schedulerName)!),
        volumes: () => this.volumes,
      });
      this.frameworks.set(
        profile.schedulerName,
        new Framework({ schedulerName: profile.schedulerName, plugins, weights, percentageOfNodesToScore: profile.percentageOfNodesToScore, random: opts.random }),
      );
    }
    this.queue = new SchedulingQueue({
      clock: this.clock,
      initialBackoffMs: config.podInitialBackoffMs,
      maxBackoffMs: config.podMaxBackoffMs,
      eventMayHelp: (p, ev) => this.frameworkFor(p.info.pod)?.eventMayHelp(p.unschedulablePlugins, ev) ?? true,
    });
    this.metrics.pendingPodsSource = () => this.queue.lengths();
  }

  private frameworkFor(pod: Pod): Framework | undefined {
    return this.frameworks.get(pod.spec?.schedulerName ?? 'default-scheduler');
  }

  /** The event recorder of the pod's profile (pods of unknown profiles are never tried). */
  private recorderFor(pod: Pod): EventsV1Recorder | undefined {
    return this.recorders.get(pod.spec?.schedulerName ?? 'default-scheduler');
  }

  private preemptionHandle(fwk: Framework): PreemptionHandle {
    return {
      runFilter: (s, p, n, snap) => fwk.runFilter(s, p, n, snap),
      runAddPod: (s, p, o, n, snap) => fwk.runAddPod(s, p, o, n, snap),
      runRemovePod: (s, p, o, n, snap) => fwk.runRemovePod(s, p, o, n, snap),
      listPDBs: () => this.pdbInformer?.lister.list() ?? [],
      evict: async (victim, preemptor, nodeName) => {
        this.recorderFor(preemptor)?.eventf(podObject(victim), podObject(preemptor), 'Normal', 'Preempted', 'Preempting', 'Preempted by pod %v on node %v', preemptor.metadata?.uid, nodeName);
        try {
          await this.client.resource(PODS, victim.metadata?.namespace).delete(victim.metadata!.name!);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
    };
  }

  /** Serves metrics and health, then schedules (after winning the election if --leader-elect). */
  async start(): Promise<void> {
    await this.serve();
    this.election = runLeaderElected({
      config: this.config,
      client: this.client,
      identity: this.config.identity,
      clock: this.clock,
      logger: this.log,
      lead: (signal) => {
        this.loopDone = this.runLeading(AbortSignal.any([signal, this.abort.signal]));
      },
      lost: () => void this.stop().then(() => this.opts.onLeadershipLost?.()),
    });
  }

  /** The metrics/health server's port (after start). */
  port(): number | undefined {
    return this.server?.port();
  }

  isLeader(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    // Releases the Lease (as upstream's ReleaseOnCancel) while the client is still open.
    const electionStopped = this.election?.stop();
    this.queue.close();
    await this.loopDone;
    await this.factory?.shutdown();
    await this.binder.idle();
    await this.writer.idle();
    // Events already recorded are written; failed writes are not retried any more.
    this.eventBroadcaster?.shutdown();
    await this.eventBroadcaster?.flush();
    await electionStopped;
    await this.server?.close();
    this.client.close();
  }

  private async serve(): Promise<void> {
    this.server = await serveComponent({ ...this.config, component: 'kube-scheduler', client: this.client, metrics: this.metrics.registry, logger: this.log });
  }

  private async runLeading(signal: AbortSignal): Promise<void> {
    this.running = true;
    this.factory = new SharedInformerFactory(this.client, { logger: this.log, clock: this.clock });
    const pods = (this.podInformer = this.factory.forResource<Pod & KubeObject>(PODS));
    const nodes = this.factory.forResource<Node & KubeObject>(NODES);
    const namespaces = this.factory.forResource<Namespace & KubeObject>(NAMESPACES);
    this.pdbInformer = this.factory.forResource<PodDisruptionBudget & KubeObject>(PDBS);
    this.addEventHandlers(pods, nodes, namespaces);
    this.volumes = volumeBindingInformers(this.factory, this.client, (ev) => this.moveAll(ev));
    this.factory.start();
    if (!(await this.factory.waitForCacheSync(signal))) return;
    this.queue.run();
    this.log.info({}, 'Scheduler started');
    let lastYield = Date.now();
    while (!signal.aborted) {
      const qpi = await this.queue.pop();
      if (!qpi) break;
      try {
        await this.scheduleOne(qpi);
      } catch (err) {
        this.log.error({ err, pod: qpi.key }, 'Scheduling cycle failed');
        this.queue.addUnschedulable(qpi, { error: true });
      }
      // Let informer events and binding responses in between cycles.
      if (Date.now() - lastYield > 5) {
        await new Promise((r) => setImmediate(r));
        lastYield = Date.now();
      }
    }
    this.running = false;
  }

  /**
   * A pending pod was deleted, is terminating or got bound: out of every sub-queue now (an attempt in
   * flight is not requeued), and its status writes not yet sent are dropped.
   */
  private podLeftQueue(pod: Pod): void {
    this.queue.delete(pod);
    // A bound pod keeps its decision record; a deleted or terminating one gets no more writes.
    this.writes.forget(podKey(pod), isAssigned(pod) && !pod.metadata?.deletionTimestamp ? 'status' : undefined);
  }

  /**
   * The informer's copy of a pod if it still waits for this scheduler (upstream's skipPodSchedule and
   * the lister check before requeueing): undefined once it is deleted, terminating or bound. Without
   * informers (unit tests) the given copy stands.
   */
  private pendingCopy(pod: Pod): Pod | undefined {
    const cur = this.currentCopy(pod);
    return cur && !isAssigned(cur) && !cur.metadata?.deletionTimestamp ? cur : undefined;
  }

  /** The informer's copy of this very pod (same uid), if it still exists. */
  private currentCopy(pod: Pod): Pod | undefined {
    if (!this.podInformer) return pod;
    const cur = this.podInformer.lister.get(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '') as Pod | undefined;
    if (!cur || (pod.metadata?.uid && cur.metadata?.uid && cur.metadata.uid !== pod.metadata.uid)) return undefined;
    return cur;
  }

  private responsibleFor(pod: Pod): boolean {
    return this.frameworks.has(pod.spec?.schedulerName ?? 'default-scheduler');
  }

  private moveAll(ev: ClusterEvent): void {
    this.queue.moveAllToActiveOrBackoff(ev);
  }

  private addEventHandlers(pods: Informer<Pod & KubeObject>, nodes: Informer<Node & KubeObject>, namespaces: Informer<Namespace & KubeObject>): void {
    pods.addEventHandler({
      onAdd: (pod) => {
        if (isAssigned(pod)) {
          if (isTerminal(pod)) return;
          this.cache.addPod(pod);
          this.moveAll({ resource: 'AssignedPod', action: 'Add' });
        } else if (this.responsibleFor(pod) && !pod.metadata.deletionTimestamp) this.queue.add(pod);
      },
      onUpdate: (old, pod) => {
        if (isAssigned(pod)) {
          if (!isAssigned(old)) this.podLeftQueue(pod);
          if (isTerminal(pod)) {
            this.cache.removePod(pod);
            if (!isTerminal(old)) this.moveAll({ resource: 'AssignedPod', action: 'Delete' });
            return;
          }
          this.cache.updatePod(pod);
          if (!isAssigned(old)) this.moveAll({ resource: 'AssignedPod', action: 'Add' });
          else if (JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) this.moveAll({ resource: 'AssignedPod', action: 'Update' });
          return;
        }
        if (!this.responsibleFor(pod)) return;
        if (pod.metadata.deletionTimestamp) return this.podLeftQueue(pod);
        if (podSpecOrMetaChanged(old, pod)) this.queue.update(pod);
      },
      onDelete: (pod) => {
        if (isAssigned(pod)) {
          this.cache.removePod(pod);
          this.moveAll({ resource: 'AssignedPod', action: 'Delete' });
        } else this.podLeftQueue(pod);
      },
    });
    nodes.addEventHandler({
      onAdd: (node) => {
        this.cache.addNode(node);
        this.moveAll({ resource: 'Node', action: 'Add' });
      },
      onUpdate: (old, node) => {
        this.cache.updateNode(node);
        if (nodeSchedulingPropertiesChanged(old, node)) this.moveAll({ resource: 'Node', action: 'Update' });
      },
      onDelete: (node) => {
        this.cache.removeNode(node);
        this.moveAll({ resource: 'Node', action: 'Delete' });
      },
    });
    namespaces.addEventHandler({
      onAdd: (ns) => this.cache.setNamespace(ns),
      onUpdate: (_o, ns) => this.cache.setNamespace(ns),
      onDelete: (ns) => this.cache.setNamespace(ns, true),
    });
  }

  /** One scheduling cycle for one pod (upstream's ScheduleOne). */
  async scheduleOne(qpi: QueuedPodInfo): Promise<void> {
    // Deleted, terminating, bound or assumed pods are not attempted (upstream's skipPodSchedule).
    const pod = this.pendingCopy(qpi.info.pod);
    if (!pod || this.cache.isAssumed(qpi.key)) {
      this.queue.done(qpi.key);
      return;
    }
    const fwk = this.frameworkFor(pod);
    if (!fwk) {
      this.queue.done(qpi.key);
      return;
    }
    if (pod !== qpi.info.pod) qpi.info = new PodInfo(pod);
    const profile = fwk.schedulerName;
    const start = this.clock.now();
    const explain = this.config.decisionRecords && pod.metadata?.annotations?.[EXPLAIN_ANNOTATION] === 'true';
    const state = new CycleState();
    let nodeName: string;
    try {
      const result = fwk.schedulePod(state, qpi.info, this.cache, explain);
      nodeName = result.nodeName;
      this.metrics.algorithmDuration.observe((this.clock.now() - start) / 1000);
      if (explain) this.recordDecision(pod, nodeName, result.decisions);
    } catch (err) {
      const seconds = (this.clock.now() - start) / 1000;
      if (err instanceof FitError) {
        let nominated: string | undefined;
        if (fwk.postFilters.length) {
          this.metrics.preemptionAttempts.inc();
          const r = await fwk.runPostFilter(state, qpi.info, err.diagnosis.nodeToStatus, this.cache);
          if (r.status.isSuccess()) nominated = r.result?.nominatedNodeName;
          else {
            err.diagnosis.postFilterMsg = r.status.message();
            err.refresh();
            if (r.result?.nominatedNodeName === '') nominated = '';
          }
        }
        qpi.unschedulablePlugins = err.diagnosis.unschedulablePlugins;
        if (explain) {
          const decisions = new Map<string, NodeDecision>();
          for (const [n, s] of err.diagnosis.nodeToStatus) decisions.set(n, { filter: { plugin: s.plugin, reasons: [...s.reasons] } });
          this.recordDecision(pod, '', decisions);
        }
        this.metrics.scheduleAttempts.inc({ result: 'unschedulable', profile });
        this.metrics.attemptDuration.observe({ result: 'unschedulable', profile }, seconds);
        this.handleFailure(qpi, pod, err.message, 'Unschedulable', nominated, false);
      } else {
        this.metrics.scheduleAttempts.inc({ result: 'error', profile });
        this.metrics.attemptDuration.observe({ result: 'error', profile }, seconds);
        const msg = (err as Error).message;
        // No nodes at all is "unschedulable until a node appears", not a scheduler fault.
        const noNodes = this.cache.nodeCount() === 0;
        if (noNodes) qpi.unschedulablePlugins = new Set();
        this.handleFailure(qpi, pod, msg, noNodes ? 'Unschedulable' : 'SchedulerError', undefined, !noNodes);
      }
      return;
    }
    this.cache.assumePod(qpi.info, nodeName);
    void this.binder.run(() => this.bind(qpi, pod, nodeName, start, profile, state, fwk));
  }

  private async bind(qpi: QueuedPodInfo, pod: Pod, nodeName: string, start: number, profile: string, state?: CycleState, fwk?: Framework): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    if (state && fwk?.preBind.length) {
      const pre = await fwk.runPreBind(state, pod, nodeName);
      if (!pre.isSuccess()) {
        this.cache.forgetPod(qpi.key);
        this.moveAll({ resource: 'AssignedPod', action: 'Delete' });
        this.metrics.scheduleAttempts.inc({ result: 'error', profile });
        this.handleFailure(qpi, pod, `running PreBind plugin "${pre.plugin}": ${pre.message()}`, 'SchedulerError', undefined, true);
        return;
      }
    }
    try {
      await this.client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/binding`,
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
    } catch (err) {
      this.cache.forgetPod(qpi.key);
      this.moveAll({ resource: 'AssignedPod', action: 'Delete' });
      this.metrics.scheduleAttempts.inc({ result: 'error', profile });
      if (isNotFound(err)) {
        // The pod was deleted meanwhile: nothing to retry, and nothing to write about it.
        this.queue.done(qpi.key);
        this.writes.forget(qpi.key);
        return;
      }
      this.log.warn({ pod: qpi.key, node: nodeName, err: (err as Error).message }, 'Failed to bind pod');
      this.handleFailure(qpi, pod, `running Bind plugin "DefaultBinder": ${(err as Error).message}`, 'SchedulerError', undefined, true);
      return;
    }
    const seconds = (this.clock.now() - start) / 1000;
    this.metrics.scheduleAttempts.inc({ result: 'scheduled', profile });
    this.metrics.attemptDuration.observe({ result: 'scheduled', profile }, seconds);
    this.metrics.podSchedulingAttempts.observe(qpi.attempts);
    this.queue.done(qpi.key);
    this.log.debug?.({ pod: qpi.key, node: nodeName }, 'Successfully bound pod to node');
    this.recorderFor(pod)?.eventf(podObject(pod), undefined, 'Normal', 'Scheduled', 'Binding', 'Successfully assigned %v/%v to %v', ns, name, nodeName);
  }

  private handleFailure(qpi: QueuedPodInfo, pod: Pod, message: string, reason: string, nominated: string | undefined, error: boolean): void {
    if (!this.pendingCopy(pod)) {
      // Deleted or bound while it was being tried (upstream checks its lister before requeueing).
      this.queue.done(qpi.key);
      return;
    }
    this.log.info({ pod: qpi.key, err: message }, 'Unable to schedule pod; waiting');
    this.recorderFor(pod)?.eventf(podObject(pod), undefined, 'Warning', 'FailedScheduling', 'Scheduling', truncateMessage(message));
    this.queue.addUnschedulable(qpi, { error });
    this.updatePodStatus(pod, { type: 'PodScheduled', status: 'False', reason, message }, nominated);
  }

  /**
   * Writes the PodScheduled condition (and nominatedNodeName) through pods/status, only when it
   * changes. The write is queued per pod and compared against the pod as it is when sent, so attempts
   * repeated while the client is throttled cost one request, and a pod deleted meanwhile costs none.
   */
  private updatePodStatus(pod: Pod, cond: PodCondition, nominated: string | undefined): void {
    this.writes.schedule(podKey(pod), 'status', async () => {
      const cur = this.pendingCopy(pod);
      if (cur) await this.writePodStatus(cur, cond, nominated).catch((err) => this.goneOnServer(cur, err));
    });
  }

  /**
   * A write about a pending pod answered NotFound: the pod is deleted even if the informer has not
   * heard yet (its watch may lag behind a throttled client), so it leaves the queue now instead of
   * being retried until the delete event arrives.
   */
  private goneOnServer(pod: Pod, err: unknown): void {
    if (!isNotFound(err)) throw err;
    this.log.info({ pod: podKey(pod) }, 'Pod no longer exists; removing it from the scheduling queue');
    this.podLeftQueue({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: pod.metadata?.deletionTimestamp ?? rfc3339(this.clock.now()) } });
  }

  private async writePodStatus(pod: Pod, cond: PodCondition, nominated: string | undefined): Promise<void> {
    const conditions = [...(pod.status?.conditions ?? [])];
    const i = conditions.findIndex((c) => c.type === cond.type);
    const old = i >= 0 ? conditions[i] : undefined;
    const condChanged = !old || old.status !== cond.status || old.reason !== cond.reason || old.message !== cond.message;
    const nomChanged = nominated !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominated;
    if (!condChanged && !nomChanged) return;
    const now = rfc3339(this.clock.now());
    const next: PodCondition = {
      ...cond,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : now,
    };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
    const status: Record<string, unknown> = { conditions };
    if (nomChanged) status.nominatedNodeName = nominated || null;
    await this.client.resource(PODS, pod.metadata?.namespace).patch(pod.metadata!.name!, { status }, 'merge', { subresource: 'status' });
  }

  /** The opt-in decision record: per node, the rejecting filter or each plugin's weighted score. */
  private recordDecision(pod: Pod, nodeName: string, decisions: Map<string, NodeDecision> | undefined): void {
    const entries = [...(decisions ?? new Map<string, NodeDecision>())];
    entries.sort((a, b) => (b[1].total ?? -1) - (a[1].total ?? -1));
    const record = {
      selectedNode: nodeName || undefined,
      nodes: Object.fromEntries(
        entries.slice(0, MAX_DECISION_NODES).map(([n, d]) => [
          n,
          d.filter ? { rejectedBy: d.filter.plugin, reasons: d.filter.reasons } : { scores: d.scores ?? {}, total: d.total ?? 0 },
        ]),
      ),
    };
    const value = JSON.stringify(record);
    this.writes.schedule(podKey(pod), 'decision', async () => {
      const cur = nodeName ? this.currentCopy(pod) : this.pendingCopy(pod);
      if (!cur || cur.metadata?.annotations?.[DECISION_ANNOTATION] === value) return;
      await this.client
        .resource(PODS, pod.metadata?.namespace)
        .patch(pod.metadata!.name!, { metadata: { annotations: { [DECISION_ANNOTATION]: value } } }, 'merge')
        .catch((err) => (nodeName ? Promise.reject(err) : this.goneOnServer(cur, err)));
    });
  }

  /** Pods bound or in flight to bind (tests, benchmarks). */
  async waitForBindings(): Promise<void> {
    await this.binder.idle();
  }

  /** Status and decision-record writes queued or in flight (tests, debugging). */
  pendingWrites(): number {
    return this.writes.size;
  }

  /** Resolves once queued status and decision-record writes are done (tests). */
  async waitForWrites(): Promise<void> {
    await this.writer.idle();
  }
}

/** Builds a scheduler from its config; call start() to run it. */
export function createScheduler(config: Readonly<SchedulerConfig>, opts: SchedulerOptions = {}): Scheduler {
  return new Scheduler(config, opts);
}

export { podKey };
