// Counterpart of pkg/kubelet/kuberuntime/kuberuntime_manager.go (computePodActions, doBackOff),
// pkg/kubelet/runtime/util.go (PodSandboxChanged) and pkg/kubelet/container/helpers.go
// (ShouldContainerBeRestarted). Init containers follow the classic path: one at a time, in order.
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { hashContainer } from './container-config.js';
import type { Backoff } from './backoff.js';
import { findContainerStatus, type RuntimeContainerStatus, type RuntimePodStatus } from './runtime-pod-status.js';
import { podNamespaceOptions } from './sandbox-config.js';

/** Upstream's container backoff: 10 s doubling to MaxContainerBackOff (300 s). */
export const CONTAINER_BACKOFF_INITIAL_MS = 10_000;
export const CONTAINER_BACKOFF_MAX_MS = 300_000;

/** Why a running container is killed (upstream containerKillReason): its probe's terminationGracePeriodSeconds may apply. */
export type ContainerKillReason = 'LivenessProbe' | 'StartupProbe' | 'FailedPostStartHook';

export interface ContainerToKill {
  name: string;
  container: Container;
  message: string;
  reason?: ContainerKillReason;
}

/** The prober's cached results by container id (the runtime's id, without scheme): a Failure kills the container. */
export interface ProbeResultsLookup {
  get(containerID: string): string | undefined;
}

export interface ContainerProbeResults {
  liveness?: ProbeResultsLookup;
  startup?: ProbeResultsLookup;
}

export interface PodActions {
  /** Stop every container and the sandbox first. */
  killPod: boolean;
  createSandbox: boolean;
  /** The existing sandbox to use when createSandbox is false. */
  sandboxID: string;
  /** The attempt number of the sandbox to create. */
  attempt: number;
  /** The init container to start next (if any). */
  nextInitContainerToStart?: Container;
  /** Indexes into spec.containers. */
  containersToStart: number[];
  /** By container id. */
  containersToKill: Map<string, ContainerToKill>;
  /** Init containers in an unknown state to stop before the next one starts. */
  initContainersToKill?: Map<string, ContainerToKill>;
}

function shouldRestartOnFailure(pod: Pod): boolean {
  return (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

function containerSucceeded(c: Container, status: RuntimePodStatus): boolean {
  const s = findContainerStatus(status, c.name);
  return !!s && s.state === 'exited' && s.exitCode === 0;
}

/** Whether the container should be (re)started now, by its last status and the restart policy. */
export function shouldContainerBeRestarted(container: Container, pod: Pod, status: RuntimePodStatus): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const s = findContainerStatus(status, container.name);
  if (!s) return true;
  if (s.state === 'running') return false;
  if (s.state === 'unknown' || s.state === 'created') return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' && s.exitCode === 0) return false;
  return true;
}

/** Whether a new sandbox is needed, the attempt to give it, and the current sandbox's id. */
export function podSandboxChanged(pod: Pod, status: RuntimePodStatus): { changed: boolean; attempt: number; sandboxID: string } {
  const sandboxes = status.sandboxStatuses;
  if (sandboxes.length === 0) return { changed: true, attempt: 0, sandboxID: '' };
  const latest = sandboxes[0]!;
  const attempt = (latest.metadata?.attempt ?? 0) + 1;
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY').length;
  if (ready > 1) return { changed: true, attempt, sandboxID: latest.id };
  if (latest.state !== 'SANDBOX_READY') return { changed: true, attempt, sandboxID: latest.id };
  const network = latest.linux?.namespaces?.options?.network ?? 'POD';
  if (network !== podNamespaceOptions(pod).network) return { changed: true, attempt, sandboxID: latest.id };
  if (!pod.spec?.hostNetwork && !latest.network?.ip) return { changed: true, attempt, sandboxID: latest.id };
  return { changed: false, attempt: latest.metadata?.attempt ?? 0, sandboxID: latest.id };
}

function isInitContainerFailed(s: RuntimeContainerStatus): boolean {
  return (s.state === 'exited' && s.exitCode !== 0) || s.state === 'unknown';
}

/**
 * The init container to run next: done when the last one exited 0; otherwise the last status seen
 * and the container to start (the failed one again, or the one after the last that succeeded).
 */
export function findNextInitContainerToRun(pod: Pod, status: RuntimePodStatus): { last?: RuntimeContainerStatus; next?: Container; done: boolean } {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return { done: true };
  // A running regular container means initialization finished before.
  for (const c of pod.spec?.containers ?? []) if (findContainerStatus(status, c.name)?.state === 'running') return { done: true };
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = findContainerStatus(status, inits[i]!.name);
    if (s && isInitContainerFailed(s)) return { last: s, next: inits[i], done: false };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = findContainerStatus(status, inits[i]!.name);
    if (!s) continue;
    if (s.state === 'running') return { done: false };
    if (s.state === 'exited') {
      if (i === inits.length - 1) return { done: true };
      return { last: s, next: inits[i + 1], done: false };
    }
  }
  return { next: inits[0], done: false };
}

/** What syncPod must do to bring the pod's runtime state to its spec. */
export function computePodActions(pod: Pod, status: RuntimePodStatus, probes: ContainerProbeResults = {}): PodActions {
  const { changed, attempt, sandboxID } = podSandboxChanged(pod, status);
  const actions: PodActions = {
    killPod: changed, createSandbox: changed, sandboxID, attempt, containersToStart: [], containersToKill: new Map(),
  };
  const containers = pod.spec?.containers ?? [];
  if (changed) {
    if (!shouldRestartOnFailure(pod) && attempt !== 0 && status.containerStatuses.length !== 0) {
      // The pod ran before under restartPolicy Never: do not run it again.
      actions.createSandbox = false;
      return actions;
    }
    const toStart: number[] = [];
    containers.forEach((c, i) => {
      if (pod.spec?.restartPolicy === 'OnFailure' && containerSucceeded(c, status)) return;
      toStart.push(i);
    });
    if (toStart.length === 0) {
      actions.createSandbox = false;
      return actions;
    }
    if ((pod.spec?.initContainers ?? []).length) {
      actions.nextInitContainerToStart = pod.spec!.initContainers![0];
      return actions;
    }
    actions.containersToStart = toStart;
    return actions;
  }

  const init = findNextInitContainerToRun(pod, status);
  if (!init.done) {
    if (init.next) {
      const failed = init.last !== undefined && isInitContainerFailed(init.last);
      if (failed && !shouldRestartOnFailure(pod)) {
        actions.killPod = true;
      } else {
        if (init.last?.state === 'unknown') {
          const message = 'Init container is in unknown state, try killing it before restart';
          actions.initContainersToKill = new Map([[init.last.id, { name: init.last.name, container: init.next, message }]]);
        }
        actions.nextInitContainerToStart = init.next;
      }
    }
    return actions;
  }

  let keep = 0;
  containers.forEach((c, i) => {
    const s = findContainerStatus(status, c.name);
    if (s?.state !== 'running') {
      if (shouldContainerBeRestarted(c, pod, status)) {
        actions.containersToStart.push(i);
        if (s?.state === 'unknown') {
          actions.containersToKill.set(s.id, { name: c.name, container: c, message: 'Container is in unknown state, try killing it before restart' });
        }
      }
      return;
    }
    if (s.hash && s.hash !== hashContainer(c)) {
      // A changed spec restarts the container whatever the restart policy.
      actions.containersToKill.set(s.id, { name: c.name, container: c, message: `Container ${c.name} definition changed, will be restarted` });
      actions.containersToStart.push(i);
      return;
    }
    let kill: Pick<ContainerToKill, 'message' | 'reason'> | undefined;
    if (probes.liveness?.get(s.id) === 'Failure') kill = { message: `Container ${c.name} failed liveness probe`, reason: 'LivenessProbe' };
    else if (probes.startup?.get(s.id) === 'Failure') kill = { message: `Container ${c.name} failed startup probe`, reason: 'StartupProbe' };
    if (!kill) {
      keep++;
      return;
    }
    // Killed, and started again unless the restart policy is Never (the pod is not killed: the container is expected to run again).
    if (shouldRestartOnFailure(pod)) {
      kill.message += ', will be restarted';
      actions.containersToStart.push(i);
    }
    actions.containersToKill.set(s.id, { name: c.name, container: c, ...kill });
  });
  if (keep === 0 && actions.containersToStart.length === 0) actions.killPod = true;
  return actions;
}

/** format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

function backoffKey(pod: Pod, container: Container): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}_${pod.metadata?.uid}_${container.name}_${hashContainer(container)}`;
}

/**
 * CrashLoopBackOff: when the container's last run ended less than its backoff ago, returns the waiting
 * message (`back-off 20s restarting failed container=X pod=Y_Z(uid)`); otherwise moves the backoff on
 * (the first restart is immediate, then 10 s, 20 s, 40 s ... 300 s) and returns undefined.
 */
export function doBackOff(pod: Pod, container: Container, status: RuntimePodStatus, backoff: Backoff): string | undefined {
  // The newest instance decides: a running container being restarted (e.g. it failed its liveness probe) is not backed off.
  const last = findContainerStatus(status, container.name);
  if (last?.state !== 'exited') return undefined;
  const key = backoffKey(pod, container);
  if (backoff.isInBackOffSince(key, last.finishedAt)) {
    return `back-off ${formatDuration(backoff.get(key))} restarting failed container=${container.name} pod=${formatPod(pod)}`;
  }
  backoff.next(key, last.finishedAt);
  return undefined;
}

/** Go's time.Duration String at millisecond precision: 0s, 250ms, 1.5s, 1m20s, 5m0s, 1h0m0s. */
export function formatDuration(ms: number): string {
  ms = Math.round(ms);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const secs = `${Math.floor(rest / 1000)}${rest % 1000 ? `.${String(rest % 1000).padStart(3, '0').replace(/0+$/, '')}` : ''}s`;
  if (h) return `${h}h${m}m${secs}`;
  if (m) return `${m}m${secs}`;
  return secs;
}
