// Counterpart of pkg/kubelet/status/status_manager.go: caches each pod's latest status, writes
// pods/status only when it changed (a merge patch carrying the uid), and deletes a pod being deleted
// once its containers have stopped (gracePeriodSeconds 0 with a uid precondition).
import { findResource, isNotFound, rfc3339, type KubeObject } from '@kubelab/api';
import { realClock, type Clock, type RestClient, type TimerHandle } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';

const PODS = findResource('', 'v1', 'pods')!;
/** A failed status write is made again after this long (upstream's status manager syncs every 10 s). */
export const STATUS_RETRY_PERIOD_MS = 10_000;

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
  /** Called after each status write that reached the apiserver (the pod startup latency tracker). */
  onWritten?: (pod: Pod, status: PodStatus) => void;
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
  /** The last write queued per uid: a pod's writes run one at a time, in order, each with its latest status. */
  private readonly writes = new Map<string, Promise<boolean>>();
  /** Pods whose last write failed, with the timer of their next try. */
  private readonly retries = new Map<string, TimerHandle>();

  constructor(private readonly opts: StatusManagerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  getPodStatus(uid: string): PodStatus | undefined {
    return this.statuses.get(uid);
  }

  /**
   * Records the pod's status (setting startTime the first time, keeping a terminal phase) and writes
   * it when it differs from what the apiserver has. The cache is updated at once (getPodStatus sees it);
   * the write is queued behind the pod's earlier writes, so a caller need not wait for it (upstream's
   * status manager writes from its own goroutine). Resolves to whether this call's write patched the pod
   * (false when nothing changed, the pod is gone, or an earlier queued write already carried this status).
   */
  setPodStatus(pod: Pod, status: PodStatus): Promise<boolean> {
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
    return this.queueWrite(pod);
  }

  /** Queues a write of the pod's latest status behind its earlier ones; a failed one is tried again later. */
  private queueWrite(pod: Pod): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const write = (this.writes.get(uid) ?? Promise.resolve(false)).catch(() => false).then(() => this.writeLatest(pod));
    this.writes.set(uid, write);
    const forget = () => {
      if (this.writes.get(uid) === write) this.writes.delete(uid);
    };
    write.then(forget, (err: Error) => {
      forget();
      if (this.retries.has(uid) || !this.statuses.has(uid)) return;
      this.opts.logger?.info({ err: err.message, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'Failed to update status for pod, will retry');
      this.retries.set(
        uid,
        this.clock.setTimeout(() => {
          this.retries.delete(uid);
          if (this.statuses.has(uid)) this.queueWrite(pod).catch(() => undefined);
        }, STATUS_RETRY_PERIOD_MS),
      );
    });
    return write;
  }

  /** Resolves when the pod's queued status writes are done (whether or not they succeeded). */
  async flush(uid: string): Promise<void> {
    await this.writes.get(uid)?.catch(() => false);
  }

  /** Patches the apiserver's status of the pod from what it has to the latest recorded status. */
  private async writeLatest(pod: Pod): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const next = this.statuses.get(uid);
    if (!next) return false;
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
    // A pod removed meanwhile stays forgotten.
    if (!this.statuses.has(uid)) return true;
    this.written.set(uid, next);
    this.opts.logger?.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, phase: next.phase }, 'Status for pod updated successfully');
    this.opts.onWritten?.(pod, next);
    return true;
  }

  /**
   * Deletes the pod from the apiserver when it is being deleted and none of its containers runs any
   * more (upstream canBeDeleted). Returns whether it deleted.
   */
  async deletePodIfStopped(pod: Pod, anyContainerRunning: boolean): Promise<boolean> {
    if (!pod.metadata?.deletionTimestamp || anyContainerRunning) return false;
    const uid = pod.metadata.uid ?? '';
    // Its last status first.
    await this.flush(uid);
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
    const retry = this.retries.get(uid);
    if (retry !== undefined) this.clock.clearTimeout(retry);
    this.retries.delete(uid);
  }
}
