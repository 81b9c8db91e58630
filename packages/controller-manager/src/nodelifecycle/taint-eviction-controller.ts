// The NoExecute taint manager (upstream's pkg/controller/tainteviction, the taint-eviction-controller):
// a pod bound to a node with NoExecute taints it does not tolerate is deleted at once; one that
// tolerates them for tolerationSeconds is deleted that long after the eviction was first scheduled;
// an eviction is cancelled when the taints go away.
import { isNotFound, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import { nowRFC3339, runQueue, type RunnableController } from '../controller-utils.js';
import { getMatchingTolerations } from '@kubelab/api';
import { minTolerationSeconds } from './taints.js';

export interface TaintEvictionClient {
  /** Adds the DisruptionTarget condition to a pod's status before it is deleted. */
  patchPodStatus(namespace: string, name: string, status: { conditions: PodCondition[] }): Promise<unknown>;
  deletePod(namespace: string, name: string): Promise<unknown>;
}

export interface TaintEvictionControllerOptions {
  nodeInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  client: TaintEvictionClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

export class TaintEvictionController implements RunnableController {
  readonly name = 'taint-eviction-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: TaintEvictionControllerOptions;
  private readonly clock: Clock;
  /** Pod key -> when its eviction was first scheduled (upstream's TimedWorker.CreatedAt). */
  private readonly scheduled = new Map<string, number>();

  constructor(opts: TaintEvictionControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const enqueuePod = (p: KubeObject) => this.queue.add(metaNamespaceKey(p));
    opts.podInformer.addEventHandler({ onAdd: enqueuePod, onUpdate: (_o, p) => enqueuePod(p), onDelete: enqueuePod });
    const nodeChanged = (old: KubeObject | undefined, node: KubeObject) => {
      if (old && JSON.stringify(noExecute(old as Node)) === JSON.stringify(noExecute(node as Node))) return;
      for (const p of opts.podInformer.lister.list() as Pod[]) if (p.spec?.nodeName === node.metadata.name) enqueuePod(p as KubeObject);
    };
    opts.nodeInformer.addEventHandler({ onAdd: (n) => nodeChanged(undefined, n), onUpdate: nodeChanged, onDelete: (n) => nodeChanged(undefined, n) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  /** Whether an eviction is pending for the pod (for tests and logs). */
  isScheduled(key: string): boolean {
    return this.scheduled.has(key);
  }

  private cancel(key: string, pod: Pod | undefined): void {
    if (!this.scheduled.delete(key)) return;
    if (pod) this.opts.recorder.event(pod as KubeObject, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.opts.podInformer.lister.get(namespace, name) as Pod | undefined;
    if (!pod || pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) {
      this.scheduled.delete(key);
      return;
    }
    const node = this.opts.nodeInformer.lister.get('', pod.spec.nodeName) as Node | undefined;
    const taints = node ? noExecute(node) : [];
    if (!taints.length) return this.cancel(key, pod);
    const { all, used } = getMatchingTolerations(taints, pod.spec.tolerations ?? []);
    const now = this.clock.now();
    if (all) {
      const seconds = minTolerationSeconds(used);
      if (seconds < 0) return this.cancel(key, pod);
      let start = this.scheduled.get(key);
      if (start === undefined) this.scheduled.set(key, (start = now));
      const at = start + seconds * 1000;
      if (now < at) {
        this.queue.addAfter(key, at - now);
        return;
      }
    }
    await this.evict(key, pod);
  }

  private async evict(key: string, pod: Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    this.opts.recorder.event(pod as KubeObject, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
      conditions.push(
        { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: nowRFC3339(this.clock) },
      );
      await this.opts.client.patchPodStatus(ns, name, { conditions });
      await this.opts.client.deletePod(ns, name);
      this.opts.logger?.info?.({ pod: key, node: pod.spec?.nodeName }, 'Deleted pod due to NoExecute taint');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.scheduled.delete(key);
  }
}

function noExecute(node: Node) {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}
