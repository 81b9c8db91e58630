// The node IPAM controller with the RangeAllocator (upstream's pkg/controller/nodeipam): every node
// gets spec.podCIDR and spec.podCIDRs, a free subnet of --cluster-cidr of size --node-cidr-mask-size.
// Subnets already on nodes are never handed out again; a deleted node's subnet is released.
import { isNotFound, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, realClock, WorkQueue } from '@kubelab/client';
import type { Node } from 'kubernetes-types/core/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';
import { CidrSet } from './cidr-set.js';

export interface NodeIpamClient {
  /** Sets spec.podCIDR/podCIDRs on a node (a merge patch upstream sends as a strategic one). */
  patchNodePodCIDRs(name: string, cidrs: string[]): Promise<unknown>;
}

export interface NodeIpamControllerOptions {
  nodeInformer: Informer<KubeObject>;
  client: NodeIpamClient;
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

export class NodeIpamController implements RunnableController {
  readonly name = 'node-ipam-controller';
  readonly queue: WorkQueue<string>;
  readonly cidrs: CidrSet;
  private readonly opts: NodeIpamControllerOptions;
  /** The subnet each node holds as far as this controller knows, to release it when the node goes. */
  private readonly assigned = new Map<string, string>();
  private occupiedExisting = false;

  constructor(opts: NodeIpamControllerOptions) {
    this.opts = opts;
    this.cidrs = new CidrSet(opts.clusterCIDR, opts.nodeCIDRMaskSize);
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    const enqueue = (n: KubeObject) => this.queue.add(n.metadata.name!);
    opts.nodeInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    this.occupyExisting();
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  /** Marks every subnet nodes already hold as used, before anything is allocated (upstream's NewCIDRRangeAllocator). */
  occupyExisting(): void {
    this.occupiedExisting = true;
    for (const node of this.opts.nodeInformer.lister.list() as Node[]) this.occupy(node);
  }

  private occupy(node: Node): boolean {
    const cidr = node.spec?.podCIDRs?.[0] ?? node.spec?.podCIDR;
    if (!cidr) return false;
    const name = node.metadata!.name!;
    const prev = this.assigned.get(name);
    if (prev && prev !== cidr) this.cidrs.release(prev);
    if (!this.cidrs.occupy(cidr)) {
      this.opts.logger?.info?.({ node: name, podCIDR: cidr }, 'Node PodCIDR is not in the cluster CIDR; leaving it');
    }
    this.assigned.set(name, cidr);
    return true;
  }

  async sync(name: string): Promise<void> {
    if (!this.occupiedExisting) this.occupyExisting();
    const node = this.opts.nodeInformer.lister.get('', name) as Node | undefined;
    if (!node) {
      const cidr = this.assigned.get(name);
      if (cidr) {
        this.cidrs.release(cidr);
        this.assigned.delete(name);
        this.opts.logger?.info?.({ node: name, podCIDR: cidr }, 'Released CIDR of deleted node');
      }
      return;
    }
    if (this.occupy(node)) return;
    let cidr = this.assigned.get(name);
    if (!cidr) {
      try {
        cidr = this.cidrs.allocateNext();
      } catch (err) {
        this.opts.recorder.event(node as KubeObject, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        throw err;
      }
      this.assigned.set(name, cidr);
    }
    try {
      await this.opts.client.patchNodePodCIDRs(name, [cidr]);
      this.opts.logger?.info?.({ node: name, podCIDRs: [cidr] }, 'Set node PodCIDR');
    } catch (err) {
      // The node is gone or the write failed: give the subnet back; a retry allocates again.
      this.cidrs.release(cidr);
      this.assigned.delete(name);
      if (isNotFound(err)) return;
      this.opts.recorder.event(node as KubeObject, 'Normal', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
      throw err;
    }
  }
}
