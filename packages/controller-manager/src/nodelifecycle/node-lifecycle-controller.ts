// The node lifecycle controller (upstream's pkg/controller/nodelifecycle): watches each node's
// heartbeats (its Lease in kube-node-lease and its Ready condition). When neither has moved for
// --node-monitor-grace-period, the node's conditions become Unknown ("Kubelet stopped posting node
// status."), and it gets the unreachable/not-ready NoSchedule and NoExecute taints that its Ready
// condition calls for; the pods on a node that is not ready are marked Ready=False.
import type { KubeObject } from '@kubelab/api';
import { type Clock, delayOn, type EventRecorder, type Informer, type Logger, realClock, WorkQueue } from '@kubelab/client';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, NodeCondition, Pod } from 'kubernetes-types/core/v1';
import { nowRFC3339, runQueue, type RunnableController } from '../controller-utils.js';
import { condition, desiredConditionTaints, reconcileTaints } from './taints.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Upstream's --node-monitor-grace-period, --node-monitor-period and --node-startup-grace-period defaults. */
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;

/** The conditions besides Ready that become Unknown with it (NetworkUnavailable is not the kubelet's). */
const KUBELET_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeLifecycleClient {
  updateNodeStatus(node: Node): Promise<Node>;
  /** Writes the node (its spec.taints), with resourceVersion as precondition. */
  updateNode(node: Node): Promise<Node>;
  updatePodStatus(pod: Pod): Promise<unknown>;
}

export interface NodeLifecycleControllerOptions {
  nodeInformer: Informer<KubeObject>;
  leaseInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  client: NodeLifecycleClient;
  recorder: EventRecorder;
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  nodeStartupGracePeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** What the controller last saw of a node (upstream's nodeHealthData). */
interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  heartbeat?: string;
  transition?: string;
  leaseRenewTime?: string;
  readyStatus?: string;
}

export class NodeLifecycleController implements RunnableController {
  readonly name = 'node-lifecycle-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: NodeLifecycleControllerOptions;
  private readonly clock: Clock;
  private readonly grace: number;
  private readonly startupGrace: number;
  private readonly health = new Map<string, NodeHealth>();

  constructor(opts: NodeLifecycleControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.grace = opts.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.startupGrace = opts.nodeStartupGracePeriodMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const enqueue = (n: KubeObject) => this.queue.add(n.metadata.name!);
    opts.nodeInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    opts.leaseInformer.addEventHandler({
      onAdd: (l) => this.leaseChanged(l),
      onUpdate: (_o, l) => this.leaseChanged(l),
    });
  }

  private leaseChanged(lease: KubeObject): void {
    if (lease.metadata.namespace === NODE_LEASE_NAMESPACE) this.queue.add(lease.metadata.name!);
  }

  /** Checks every node each --node-monitor-period (upstream's monitorNodeHealth) besides reacting to events. */
  async run(workers: number, signal: AbortSignal): Promise<void> {
    const delay = delayOn(this.clock);
    const period = this.opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    const ticker = (async () => {
      while (!signal.aborted) {
        for (const n of this.opts.nodeInformer.lister.list()) this.queue.add(n.metadata.name!);
        await delay(period, signal);
      }
    })();
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
    await ticker;
  }

  async sync(name: string): Promise<void> {
    let node = this.opts.nodeInformer.lister.get('', name) as Node | undefined;
    if (!node) {
      this.health.delete(name);
      return;
    }
    const prevReady = this.health.get(name)?.readyStatus;
    node = await this.updateNodeHealth(node);
    const ready = condition(node, 'Ready')?.status;
    this.health.get(name)!.readyStatus = ready;

    const taints = reconcileTaints(node.spec?.taints ?? [], desiredConditionTaints(node), nowRFC3339(this.clock));
    if (taints) {
      node = await this.opts.client.updateNode({ ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
      this.opts.logger?.info?.({ node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) }, 'Updated node taints');
    }

    if (prevReady === 'True' && ready !== 'True') {
      this.opts.recorder.event(node as KubeObject, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    // Unknown: no kubelet will correct its pods, so they are kept not ready. False: once, on the transition.
    if (ready === 'Unknown' || (ready === 'False' && prevReady === 'True')) await this.markPodsNotReady(name);
  }

  /** Upstream's tryUpdateNodeHealth: refreshes the probe time from heartbeats; past the grace period, conditions go Unknown. */
  private async updateNodeHealth(node: Node): Promise<Node> {
    const name = node.metadata!.name!;
    const now = this.clock.now();
    const ready = condition(node, 'Ready');
    const lease = this.opts.leaseInformer.lister.get(NODE_LEASE_NAMESPACE, name) as Lease | undefined;
    const renew = lease?.spec?.renewTime;
    let h = this.health.get(name);
    if (!h) {
      h = { probeTimestamp: now, readyTransitionTimestamp: now, heartbeat: ready?.lastHeartbeatTime, transition: ready?.lastTransitionTime, leaseRenewTime: renew };
      this.health.set(name, h);
    } else {
      if (ready?.lastHeartbeatTime !== h.heartbeat) {
        h.probeTimestamp = now;
        h.heartbeat = ready?.lastHeartbeatTime;
      }
      if (ready?.lastTransitionTime !== h.transition) {
        h.readyTransitionTimestamp = now;
        h.transition = ready?.lastTransitionTime;
      }
      if (renew && (!h.leaseRenewTime || Date.parse(renew) > Date.parse(h.leaseRenewTime))) {
        h.probeTimestamp = now;
        h.leaseRenewTime = renew;
      }
    }
    const grace = ready ? this.grace : this.startupGrace;
    if (now <= h.probeTimestamp + grace) return node;

    const conditions = markConditionsUnknown(node, nowRFC3339(this.clock));
    if (!conditions) return node;
    this.opts.logger?.info?.({ node: name }, 'Node hasn\'t been updated within the grace period; marking its conditions Unknown');
    const updated = await this.opts.client.updateNodeStatus({ ...node, status: { ...node.status, conditions } });
    h.transition = condition(updated, 'Ready')?.lastTransitionTime;
    return updated;
  }

  /** Upstream's MarkPodsNotReady: the Ready condition of every pod bound to the node becomes False. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const now = nowRFC3339(this.clock);
    const errors: unknown[] = [];
    for (const pod of this.opts.podInformer.lister.list() as Pod[]) {
      if (pod.spec?.nodeName !== nodeName || pod.metadata?.deletionTimestamp) continue;
      const conds = pod.status?.conditions ?? [];
      const i = conds.findIndex((c) => c.type === 'Ready');
      if (i < 0 || conds[i]!.status === 'False') continue;
      const next = conds.map((c, j) => (j === i ? { ...c, status: 'False', lastTransitionTime: now } : c));
      try {
        await this.opts.client.updatePodStatus({ ...pod, status: { ...pod.status, conditions: next } });
        this.opts.recorder.event(pod as KubeObject, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }
}

/**
 * The node's conditions after its kubelet went silent: Ready and the pressure conditions become
 * Unknown ("NodeStatusUnknown"), missing ones are added ("NodeStatusNeverUpdated"). Undefined if
 * nothing changes.
 */
export function markConditionsUnknown(node: Node, now: string): NodeCondition[] | undefined {
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of ['Ready', ...KUBELET_CONDITIONS]) {
    const i = conditions.findIndex((c) => c.type === type);
    if (i < 0) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: now,
      });
      changed = true;
    } else if (conditions[i]!.status !== 'Unknown') {
      conditions[i] = { ...conditions[i]!, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now };
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}
