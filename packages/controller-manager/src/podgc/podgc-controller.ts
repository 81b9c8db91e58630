// The pod garbage collector (upstream's pkg/controller/podgc): every gcCheckPeriod it deletes
// terminated pods above --terminated-pod-gc-threshold (oldest first), pods bound to nodes that no
// longer exist (after a quarantine and a fresh check against the API), unscheduled pods that are
// terminating, and terminating pods on not-ready nodes that carry the out-of-service taint.
import { isNotFound, type KubeObject } from '@kubelab/api';
import { delayOn, metaNamespaceKey, realClock, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { Node, Pod, PodCondition, Taint } from 'kubernetes-types/core/v1';
import { nowRFC3339, type RunnableController } from '../controller-utils.js';
import { isTerminal } from '../endpoints/endpoints-util.js';

/** Upstream's gcCheckPeriod. */
export const GC_CHECK_PERIOD_MS = 20_000;
/** Upstream's quarantineTime: how long a node must stay missing before its pods are orphans. */
export const QUARANTINE_MS = 40_000;
export const TAINT_NODE_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export interface PodGCClient {
  /** Reads a node from the API; rejects with NotFound when it does not exist. */
  getNode(name: string): Promise<unknown>;
  /** Adds a status condition (and phase Failed when given) to a pod before its deletion. */
  patchPodStatus(namespace: string, name: string, status: { phase?: string; conditions: PodCondition[] }): Promise<unknown>;
  /** Deletes a pod with grace period 0. */
  forceDeletePod(namespace: string, name: string): Promise<unknown>;
}

export interface PodGCControllerOptions {
  podInformer: Informer<KubeObject>;
  nodeInformer: Informer<KubeObject>;
  client: PodGCClient;
  /** --terminated-pod-gc-threshold; 0 disables the terminated pod pass. */
  terminatedPodThreshold: number;
  gcCheckPeriodMs?: number;
  quarantineMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export class PodGCController implements RunnableController {
  readonly name = 'pod-garbage-collector-controller';
  private readonly opts: PodGCControllerOptions;
  private readonly clock: Clock;
  /** Node names missing from the cache, with when they were first seen missing. */
  private readonly missingSince = new Map<string, number>();

  constructor(opts: PodGCControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
  }

  async run(_workers: number, signal: AbortSignal): Promise<void> {
    const delay = delayOn(this.clock);
    while (!signal.aborted) {
      try {
        await this.gc();
      } catch (err) {
        this.opts.logger?.error?.({ err }, 'Pod garbage collection failed');
      }
      await delay(this.opts.gcCheckPeriodMs ?? GC_CHECK_PERIOD_MS, signal);
    }
  }

  /** One pass (upstream's gc): terminated, terminating on out-of-service nodes, orphaned, unscheduled terminating. */
  async gc(): Promise<void> {
    const pods = this.opts.podInformer.lister.list() as Pod[];
    const nodes = this.opts.nodeInformer.lister;
    if (this.opts.terminatedPodThreshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods, (n) => nodes.get('', n) as Node | undefined);
    await this.gcOrphaned(pods, (n) => nodes.get('', n) as Node | undefined);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter(isTerminal);
    const excess = terminated.length - this.opts.terminatedPodThreshold;
    if (excess <= 0) return;
    // Evicted pods first, then the oldest.
    const evicted = (p: Pod) => (p.status?.reason === 'Evicted' ? 0 : 1);
    const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
    terminated.sort((a, b) => evicted(a) - evicted(b) || created(a) - created(b));
    this.opts.logger?.info?.({ count: excess }, 'Garbage collecting terminated pods');
    await Promise.all(terminated.slice(0, excess).map((p) => this.deletePod(p)));
  }

  private async gcTerminating(pods: Pod[], node: (name: string) => Node | undefined): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp || isTerminal(pod) || !pod.spec?.nodeName) continue;
      const n = node(pod.spec.nodeName);
      if (!n || isNodeReady(n) || !hasTaintKey(n.spec?.taints, TAINT_NODE_OUT_OF_SERVICE)) continue;
      await this.deletePod(pod, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node is out of service' });
    }
  }

  private async gcOrphaned(pods: Pod[], node: (name: string) => Node | undefined): Promise<void> {
    const now = this.clock.now();
    const quarantine = this.opts.quarantineMs ?? QUARANTINE_MS;
    const missing = new Set<string>();
    for (const pod of pods) {
      const n = pod.spec?.nodeName;
      if (n && !node(n)) missing.add(n);
    }
    for (const n of [...this.missingSince.keys()]) if (!missing.has(n)) this.missingSince.delete(n);
    const gone = new Set<string>();
    for (const n of missing) {
      const since = this.missingSince.get(n);
      if (since === undefined) {
        this.missingSince.set(n, now);
        continue;
      }
      if (now - since < quarantine) continue;
      try {
        await this.opts.client.getNode(n);
        this.missingSince.delete(n);
      } catch (err) {
        if (isNotFound(err)) gone.add(n);
      }
    }
    for (const pod of pods) {
      if (!pod.spec?.nodeName || !gone.has(pod.spec.nodeName)) continue;
      this.opts.logger?.info?.({ object: metaNamespaceKey(pod as KubeObject), node: pod.spec.nodeName }, 'Found orphaned Pod assigned to the Node, deleting');
      await this.deletePod(pod, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    }
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp || pod.spec?.nodeName) continue;
      await this.deletePod(pod);
    }
  }

  /** Upstream's markFailedAndDeletePodWithCondition: a non-terminal pod is marked Failed with the condition first. */
  private async deletePod(pod: Pod, condition?: Omit<PodCondition, 'lastTransitionTime'>): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    try {
      if (condition) {
        const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== condition.type);
        conditions.push({ ...condition, lastTransitionTime: nowRFC3339(this.clock) });
        await this.opts.client.patchPodStatus(ns, name, isTerminal(pod) ? { conditions } : { phase: 'Failed', conditions });
      }
      await this.opts.client.forceDeletePod(ns, name);
    } catch (err) {
      if (!isNotFound(err)) this.opts.logger?.error?.({ err, object: `${ns}/${name}` }, 'Failed to delete pod');
    }
  }
}

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

function hasTaintKey(taints: Taint[] | undefined, key: string): boolean {
  return (taints ?? []).some((t) => t.key === key);
}
