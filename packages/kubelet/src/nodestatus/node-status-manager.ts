// Registers the node and keeps its status current (upstream: pkg/kubelet/kubelet_node_status.go,
// registerWithAPIServer and updateNodeStatus): a status that changed is written at once, an unchanged
// one every node-status-report-frequency; the Lease (nodelease/) is the frequent heartbeat.
import { findResource, isAlreadyExists, isConflict, type KubeObject } from '@kubelab/api';
import { delayOn, realClock, type Clock, type DelayFn, type RestClient } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Node } from 'kubernetes-types/core/v1';
import { initialNode, nodeStatus, statusChanged, type NodeIdentity, type NodeStatusInputs } from './node-status.js';

const NODES = findResource('', 'v1', 'nodes')!;
/** Upstream's nodeStatusUpdateRetry. */
const UPDATE_RETRIES = 5;

export interface NodeStatusManagerOptions {
  client: RestClient;
  identity: NodeIdentity;
  /** Gathers the current inputs (machine, runtime status, images) for each sync. */
  inputs: () => Promise<NodeStatusInputs>;
  /** --node-status-update-frequency (10 s): how often the status is computed. */
  updateFrequencyMs: number;
  /** --node-status-report-frequency (5 m): how often an unchanged status is written anyway. */
  reportFrequencyMs: number;
  clock?: Clock;
  delay?: DelayFn;
  logger?: Logger;
}

export class NodeStatusManager {
  private readonly clock: Clock;
  private readonly delay: DelayFn;
  private readonly nodes;
  private lastReportMs = Number.NEGATIVE_INFINITY;
  private registered = false;

  constructor(private readonly opts: NodeStatusManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.delay = opts.delay ?? delayOn(this.clock);
    this.nodes = opts.client.resource<KubeObject & Node>(NODES);
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /** Creates the Node (or adopts the existing one), retrying with backoff from 100 ms to 7 s, as upstream. */
  async register(signal: AbortSignal): Promise<void> {
    let backoff = 100;
    while (!signal.aborted && !this.registered) {
      try {
        await this.nodes.create(initialNode(this.opts.identity) as KubeObject & Node);
        this.opts.logger?.info({ node: this.opts.identity.name }, 'Successfully registered node');
        this.registered = true;
      } catch (err) {
        if (isAlreadyExists(err)) {
          // A re-registration (a restarted kubelet): the existing object is ours to keep updating.
          this.registered = true;
          break;
        }
        this.opts.logger?.warn({ err: (err as Error).message, node: this.opts.identity.name }, 'Unable to register node with API server');
        await this.delay(backoff, signal);
        backoff = Math.min(backoff * 2, 7000);
      }
    }
  }

  /** Registers, then syncs the status every update period until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await this.register(signal);
    while (!signal.aborted) {
      try {
        await this.syncNodeStatus();
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message, node: this.opts.identity.name }, 'Error updating node status, will retry');
      }
      await this.delay(this.opts.updateFrequencyMs, signal);
    }
  }

  /** One status sync: write if the status changed or the report period passed. Returns whether it wrote. */
  async syncNodeStatus(): Promise<boolean> {
    const inputs = await this.opts.inputs();
    for (let attempt = 1; ; attempt++) {
      const node = await this.nodes.get(this.opts.identity.name);
      const now = this.clock.now();
      const status = nodeStatus(this.opts.identity, inputs, node.status, now);
      if (!statusChanged(node.status, status) && now - this.lastReportMs < this.opts.reportFrequencyMs) return false;
      try {
        await this.nodes.updateStatus({ ...node, status });
        this.lastReportMs = now;
        return true;
      } catch (err) {
        if (!isConflict(err) || attempt >= UPDATE_RETRIES) throw err;
      }
    }
  }
}
