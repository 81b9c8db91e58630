// The node's heartbeat: a Lease named after the node in kube-node-lease, renewed every quarter of its
// duration (upstream: k8s.io/component-helpers/apimachinery/lease controller, used by pkg/kubelet/nodelease).
import { findResource, isNotFound, rfc3339Micro, type KubeObject } from '@kubelab/api';
import { delayOn, realClock, type Clock, type DelayFn, type RestClient } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Lease } from 'kubernetes-types/coordination/v1';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;
const NODES = findResource('', 'v1', 'nodes')!;

export interface NodeLeaseOptions {
  client: RestClient;
  nodeName: string;
  /** --node-lease-duration-seconds (40). */
  leaseDurationSeconds: number;
  clock?: Clock;
  delay?: DelayFn;
  logger?: Logger;
}

export class NodeLeaseController {
  private readonly clock: Clock;
  private readonly delay: DelayFn;
  private readonly leases;
  private latest: Lease | undefined;

  constructor(private readonly opts: NodeLeaseOptions) {
    this.clock = opts.clock ?? realClock;
    this.delay = opts.delay ?? delayOn(this.clock);
    this.leases = opts.client.resource<KubeObject & Lease>(LEASES, NODE_LEASE_NAMESPACE);
  }

  /** Upstream renews every 0.25 x the lease duration (10 s for 40 s). */
  get renewIntervalMs(): number {
    return this.opts.leaseDurationSeconds * 250;
  }

  /** Renews until `signal` aborts; failures are retried with backoff (200 ms doubling, capped at the renew interval). */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 200;
    while (!signal.aborted) {
      try {
        await this.renew();
        backoff = 200;
        await this.delay(this.renewIntervalMs, signal);
      } catch (err) {
        this.latest = undefined;
        this.opts.logger?.warn({ err: (err as Error).message, node: this.opts.nodeName }, 'Failed to update lease');
        await this.delay(backoff, signal);
        backoff = Math.min(backoff * 2, this.renewIntervalMs);
      }
    }
  }

  /** Creates the lease, or moves its renewTime (optimistically on the last lease written). */
  async renew(): Promise<Lease> {
    const now = rfc3339Micro(this.clock.now());
    if (this.latest) {
      try {
        this.latest = await this.leases.update({ ...this.latest, spec: { ...this.latest.spec, renewTime: now } } as KubeObject & Lease);
        return this.latest;
      } catch (err) {
        this.latest = undefined;
        throw err;
      }
    }
    const name = this.opts.nodeName;
    let existing: (KubeObject & Lease) | undefined;
    try {
      existing = await this.leases.get(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const spec = { holderIdentity: name, leaseDurationSeconds: this.opts.leaseDurationSeconds, renewTime: now };
    if (existing) {
      this.latest = await this.leases.update({ ...existing, metadata: { ...existing.metadata, ownerReferences: await this.ownerReferences(existing) }, spec: { ...existing.spec, ...spec } });
    } else {
      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NODE_LEASE_NAMESPACE, ownerReferences: await this.ownerReferences() }, spec };
      this.latest = await this.leases.create(lease as KubeObject & Lease);
    }
    return this.latest;
  }

  /** The Node owns its Lease, so that deleting the node removes it (when the node exists yet). */
  private async ownerReferences(existing?: Lease) {
    if (existing?.metadata?.ownerReferences?.length) return existing.metadata.ownerReferences;
    try {
      const node = await this.opts.client.resource(NODES).get(this.opts.nodeName);
      return [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid: node.metadata.uid! }];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
