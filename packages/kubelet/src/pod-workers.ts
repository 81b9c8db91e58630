// Counterpart of pkg/kubelet/pod_workers.go (simplified) and the pod sync methods of pkg/kubelet/kubelet.go
// (SyncPod, SyncTerminatingPod, SyncTerminatedPod): one serialized worker per pod uid; updates that arrive
// while a sync runs coalesce into the latest; a pod moves syncing -> terminating -> terminated.
import { realClock, type Clock, type TimerHandle } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, Secret } from 'kubernetes-types/core/v1';
import { isStaticPod } from './config/file.js';
import { formatPod } from './kuberuntime/pod-actions.js';
import { podGracePeriodSeconds, type KubeGenericRuntimeManager } from './kuberuntime/runtime-manager.js';
import { generateAPIPodStatus } from './status/generate.js';
import type { StatusManager } from './status/status-manager.js';
import type { RuntimePodStatus } from './kuberuntime/runtime-pod-status.js';
import type { ProberManager } from './prober/prober-manager.js';
import type { PodStartupRecorder } from './pod-startup-tracker.js';

export type PodWorkerState = 'syncing' | 'terminating' | 'terminated';

/** What a pod worker calls; the kubelet's implementation is KubeletPodSyncer. */
export interface PodSyncer {
  /** Syncs a running pod; resolves to true when the pod reached a terminal phase. Throws to be retried after the backoff period. */
  syncPod(pod: Pod): Promise<boolean>;
  /** Stops every container (within gracePeriodSeconds) and the sandbox. */
  syncTerminatingPod(pod: Pod, gracePeriodSeconds: number): Promise<void>;
  /**
   * Final status; when the pod was deleted (or removed), its deletion from the apiserver and the removal
   * of its sandbox. Resolves to whether that cleanup is done (false: not deleted, or not yet possible).
   */
  syncTerminatedPod(pod: Pod, removed: boolean): Promise<boolean>;
}

export interface PodWorkersOptions {
  syncer: PodSyncer;
  clock?: Clock;
  logger?: Logger;
  /** Requeue after a successful sync (upstream --sync-frequency, 1 m); 0 disables. */
  resyncIntervalMs?: number;
  /** Requeue after a failed sync (upstream backOffPeriod, 10 s). */
  backOffPeriodMs?: number;
}

export interface UpdatePodOptions {
  /** The pod is gone from the apiserver (or must be killed): terminate it now. */
  kill?: boolean;
  /** Overrides the grace period of a kill. */
  gracePeriodSeconds?: number;
}

interface Worker {
  uid: string;
  state: PodWorkerState;
  pod: Pod;
  pending: boolean;
  running: boolean;
  removed: boolean;
  /** A terminated pod whose deletion has been completed: nothing more to do. */
  cleanedUp: boolean;
  gracePeriodSeconds?: number;
  timer?: TimerHandle;
  idle: Promise<void>;
}

export class PodWorkers {
  private readonly clock: Clock;
  private readonly workers = new Map<string, Worker>();

  constructor(private readonly opts: PodWorkersOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** The worker state of a pod (undefined when it has no worker). */
  state(uid: string): PodWorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /** Queues a sync of the pod; a sync in progress picks the latest pod up when it finishes. */
  updatePod(pod: Pod, opts: UpdatePodOptions = {}): void {
    const uid = pod.metadata?.uid ?? '';
    let w = this.workers.get(uid);
    if (!w) {
      w = { uid, state: 'syncing', pod, pending: false, running: false, removed: false, cleanedUp: false, idle: Promise.resolve() };
      this.workers.set(uid, w);
    }
    // A terminated pod only needs its deletion finished (e.g. a completed pod deleted later).
    if (w.state === 'terminated' && (w.cleanedUp || !(pod.metadata?.deletionTimestamp || opts.kill))) return;
    w.pod = pod;
    if (opts.kill) w.removed = true;
    if (opts.gracePeriodSeconds !== undefined) w.gracePeriodSeconds = opts.gracePeriodSeconds;
    if ((pod.metadata?.deletionTimestamp || opts.kill) && w.state === 'syncing') this.startTerminating(w);
    w.pending = true;
    if (w.timer !== undefined) {
      this.clock.clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (!w.running) w.idle = this.run(w);
  }

  /** Forgets a terminated pod's worker (upstream SyncKnownPods). */
  forget(uid: string): void {
    const w = this.workers.get(uid);
    if (w?.state !== 'terminated') return;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    this.workers.delete(uid);
  }

  /** Resolves when every worker has finished its current work. */
  async waitIdle(): Promise<void> {
    for (;;) {
      const busy = [...this.workers.values()].filter((w) => w.running);
      if (busy.length === 0) return;
      await Promise.all(busy.map((w) => w.idle));
    }
  }

  private startTerminating(w: Worker): void {
    w.state = 'terminating';
    w.gracePeriodSeconds ??= podGracePeriodSeconds(w.pod);
  }

  private requeue(w: Worker, ms: number): void {
    if (!ms || w.cleanedUp) return;
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      this.updatePod(w.pod, { kill: w.removed });
    }, ms);
  }

  private async run(w: Worker): Promise<void> {
    w.running = true;
    const log = this.opts.logger?.child({ pod: `${w.pod.metadata?.namespace}/${w.pod.metadata?.name}`, podUID: w.uid });
    try {
      while (w.pending) {
        w.pending = false;
        const pod = w.pod;
        try {
          if (w.state === 'syncing') {
            const terminal = await this.opts.syncer.syncPod(pod);
            if (terminal && w.state === 'syncing') {
              this.startTerminating(w);
              w.pending = true;
            } else if (!w.pending) this.requeue(w, this.opts.resyncIntervalMs ?? 60_000);
          } else if (w.state === 'terminating') {
            await this.opts.syncer.syncTerminatingPod(pod, w.gracePeriodSeconds ?? podGracePeriodSeconds(pod));
            w.state = 'terminated';
            log?.debug('Pod terminated');
          }
          if (w.state === 'terminated') {
            w.cleanedUp = await this.opts.syncer.syncTerminatedPod(w.pod, w.removed);
            // Deleted, but not removable yet: try again later.
            const deleted = w.pod.metadata?.deletionTimestamp || w.removed;
            if (!w.cleanedUp && deleted && !w.pending) this.requeue(w, this.opts.backOffPeriodMs ?? 10_000);
          }
        } catch (err) {
          log?.info({ err: (err as Error).message, state: w.state }, 'Error syncing pod, skipping');
          if (!w.pending) this.requeue(w, this.opts.backOffPeriodMs ?? 10_000);
        }
      }
    } finally {
      w.running = false;
    }
  }
}

export interface KubeletPodSyncerOptions {
  runtimeManager: KubeGenericRuntimeManager;
  statusManager: StatusManager;
  hostIPs: string[];
  /** The pod's image pull secrets (default none). */
  pullSecrets?: (pod: Pod) => Promise<Secret[]>;
  /** The prober: its workers follow the pod's lifecycle, its results set started and ready. */
  probeManager?: Pick<ProberManager, 'addPod' | 'stopLivenessAndStartup' | 'removePod' | 'updatePodStatus'>;
  /** Keeps a static pod's mirror pod in the apiserver (upstream SyncPod's mirror pod step). */
  mirrorPods?: { syncMirrorPod(pod: Pod): Promise<void> };
  /** Records the steps of each pod's first start (the pod startup latency tracker). */
  startup?: PodStartupRecorder;
  clock?: Clock;
  logger?: Logger;
}

/** Thrown when a sync left containers waiting on an error (e.g. CrashLoopBackOff), so the worker retries after its backoff period. */
export class PodSyncError extends Error {}

/** The kubelet's PodSyncer: runtime state -> actions through the runtime manager, and the API status through the status manager. */
export class KubeletPodSyncer implements PodSyncer {
  private readonly clock: Clock;

  constructor(private readonly opts: KubeletPodSyncerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** The pod with the status the kubelet last computed (the API's may lag behind). */
  private withStatus(pod: Pod): Pod {
    const status = this.opts.statusManager.getPodStatus(pod.metadata?.uid ?? '');
    return status ? { ...pod, status } : pod;
  }

  /**
   * Generates the pod's API status from the runtime's and records it with the status manager. `wait`: until
   * it is written; otherwise the write runs behind the sync (a running pod's sync does not wait for the
   * apiserver, as upstream's SyncPod; the status manager tries a failed write again).
   */
  private async writeStatus(pod: Pod, podIsTerminal: boolean, runtime?: RuntimePodStatus, wait = true): Promise<{ phase: string; running: boolean }> {
    runtime ??= await this.opts.runtimeManager.getPodStatus(pod);
    const status = generateAPIPodStatus(this.withStatus(pod), runtime, {
      hostIPs: this.opts.hostIPs,
      now: this.clock.now(),
      probeManager: this.opts.probeManager,
      reasonCache: this.opts.runtimeManager.reasonCache,
      podIsTerminal,
    });
    const written = this.opts.statusManager.setPodStatus(pod, status);
    if (wait) await written;
    else written.catch(() => undefined);
    return { phase: status.phase ?? 'Pending', running: runtime.containerStatuses.some((c) => c.state === 'running') };
  }

  async syncPod(pod: Pod): Promise<boolean> {
    this.opts.startup?.step(pod.metadata?.uid ?? '', 'workerStarted');
    // Probes start with the pod (upstream SyncPod's probeManager.AddPod).
    if (!pod.metadata?.deletionTimestamp) this.opts.probeManager?.addPod(pod);
    // A static pod gets its mirror pod before it starts; failing that (e.g. no Node yet) does not stop it.
    if (isStaticPod(pod)) {
      await this.opts.mirrorPods?.syncMirrorPod(pod).catch((err) => {
        this.opts.logger?.warn({ err: (err as Error).message, pod: formatPod(pod) }, 'Failed creating a mirror pod');
      });
    }
    const runtime = await this.opts.runtimeManager.getPodStatus(pod);
    const before = await this.writeStatus(pod, false, runtime, false);
    if (before.phase === 'Succeeded' || before.phase === 'Failed') return true;
    const secrets = (await this.opts.pullSecrets?.(pod)) ?? [];
    const result = await this.opts.runtimeManager.syncPod(this.withStatus(pod), runtime, secrets);
    const after = await this.writeStatus(pod, false, undefined, false);
    if (result.sandboxError) throw new PodSyncError(`failed to "CreatePodSandbox" for "${formatPod(pod)}": ${result.sandboxError}`);
    if (result.errors.size) {
      const [name, e] = [...result.errors][0]!;
      throw new PodSyncError(`failed to "StartContainer" for "${name}" with ${e.reason}: "${e.message}"`);
    }
    return after.phase === 'Succeeded' || after.phase === 'Failed';
  }

  async syncTerminatingPod(pod: Pod, gracePeriodSeconds: number): Promise<void> {
    // A container being stopped is neither liveness- nor startup-probed; its readiness is, until it stopped.
    this.opts.probeManager?.stopLivenessAndStartup(pod);
    const runtime = await this.opts.runtimeManager.getPodStatus(pod);
    await this.opts.runtimeManager.killPod(pod, runtime, gracePeriodSeconds);
    this.opts.probeManager?.removePod(pod);
    await this.writeStatus(pod, true);
  }

  async syncTerminatedPod(pod: Pod, removed: boolean): Promise<boolean> {
    this.opts.probeManager?.removePod(pod);
    const { running } = await this.writeStatus(pod, true);
    if (!pod.metadata?.deletionTimestamp && !removed) return false;
    if (running) return false;
    if (!removed) await this.opts.statusManager.deletePodIfStopped(pod, running);
    else this.opts.statusManager.removePod(pod.metadata?.uid ?? '');
    await this.opts.runtimeManager.removePod(pod, await this.opts.runtimeManager.getPodStatus(pod));
    return true;
  }
}
