// Counterpart of pkg/kubelet/status/status_manager.go: caches each pod's latest status, writes
// pods/status only when it changed (a merge patch carrying the uid), and deletes a pod being deleted
// once its containers have stopped (gracePeriodSeconds 0 with a uid precondition).
import { findResource, isNotFound, rfc3339, type KubeObject } from '@kubelab/api';
import { realClock, type Clock, type RestClient } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';

const PODS = findResource('', 'v1', 'pods')!;

/** The writes the status manager makes (a RestClient in the kubelet, a fake in tests). */
export interface PodStatusClient {
  patchStatus(namespace: string, name: string, patch: Record<string, unknown>): Promise<Pod>;
  /** Deletes with gracePeriodSeconds 0 and a uid precondition. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
}

export function restPodStatusClient(client: RestClient): PodStatusClient {
  return {
    patchStatus: (ns, name, patch) => client.resource<KubeObject & Pod>(PODS, ns).patch(name, patch, 'merge', { subresource: 'status' }),
    async deletePod(ns, name, uid) {
      await client.resource(PODS, ns).delete(name, { gracePeriodSeconds: 0, preconditions: { uid } });
    },
  };
}

export interface StatusManagerOptions {
  client: PodStatusClient;
  clock?: Clock;
  logger?: Logger;
}

/** Stable JSON: object keys sorted, so that equal statuses compare equal. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );
}

/** A JSON merge patch from old to new status: changed keys set, removed keys null (lists are replaced whole). */
export function statusMergePatch(oldStatus: PodStatus | undefined, newStatus: PodStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const o = (oldStatus ?? {}) as Record<string, unknown>;
  const n = newStatus as Record<string, unknown>;
  for (const k of Object.keys(n)) if (canonical(o[k]) !== canonical(n[k])) patch[k] = n[k];
  for (const k of Object.keys(o)) if (!Object.hasOwn(n, k) || n[k] === undefined) patch[k] = null;
  return patch;
}

export class StatusManager {
  private readonly clock: Clock;
  /** Latest status by pod uid (what we last wrote or were given). */
  private readonly statuses = new Map<string, PodStatus>();
  /** What the apiserver has, by uid, as last written. */
  private readonly written = new Map<string, PodStatus>();

  constructor(private readonly opts: StatusManagerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  getPodStatus(uid: string): PodStatus | undefined {
    return this.statuses.get(uid);
  }

  /**
   * Records the pod's status (setting startTime the first time, keeping a terminal phase) and writes
   * it when it differs from the pod's. Returns whether it wrote.
   */
  async setPodStatus(pod: Pod, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const next: PodStatus = { ...status };
    const cached = this.statuses.get(uid);
    next.startTime ??= cached?.startTime ?? pod.status?.startTime ?? rfc3339(this.clock.now());
    const prevPhase = cached?.phase ?? pod.status?.phase;
    if ((prevPhase === 'Failed' || prevPhase === 'Succeeded') && next.phase !== prevPhase) {
      this.opts.logger?.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, from: prevPhase, to: next.phase }, 'Refusing to leave a terminal phase');
      next.phase = prevPhase;
    }
    this.statuses.set(uid, next);
    const base = this.written.get(uid) ?? pod.status;
    const patch = statusMergePatch(base, next);
    if (Object.keys(patch).length === 0) return false;
    try {
      await this.opts.client.patchStatus(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', { metadata: { uid }, status: patch });
    } catch (err) {
      // The pod is gone from the apiserver: nothing to report to.
      if (isNotFound(err)) return false;
      throw err;
    }
    this.written.set(uid, next);
    this.opts.logger?.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, phase: next.phase }, 'Status for pod updated successfully');
    return true;
  }

  /**
   * Deletes the pod from the apiserver when it is being deleted and none of its containers runs any
   * more (upstream canBeDeleted). Returns whether it deleted.
   */
  async deletePodIfStopped(pod: Pod, anyContainerRunning: boolean): Promise<boolean> {
    if (!pod.metadata?.deletionTimestamp || anyContainerRunning) return false;
    const uid = pod.metadata.uid ?? '';
    try {
      await this.opts.client.deletePod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', uid);
      this.opts.logger?.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'Pod fully terminated and removed from etcd');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.removePod(uid);
    return true;
  }

  removePod(uid: string): void {
    this.statuses.delete(uid);
    this.written.delete(uid);
  }
}
