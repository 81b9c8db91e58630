// Counterpart of pkg/kubelet/kubelet_pods.go (generateAPIPodStatus, convertToAPIContainerStatuses, getPhase)
// and pkg/kubelet/status/generate.go (the Initialized, ContainersReady, Ready and PodReadyToStartContainers
// conditions): the API pod status from what the runtime reports.
import { rfc3339 } from '@kubelab/api';
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { podSandboxChanged, shouldContainerBeRestarted } from '../kuberuntime/pod-actions.js';
import { getPodQOS } from '../kuberuntime/qos.js';
import { findContainerStatus, RUNTIME_TYPE, type RuntimeContainerStatus, type RuntimePodStatus } from '../kuberuntime/runtime-pod-status.js';
import type { ReasonCache } from './reason-cache.js';

export interface GenerateStatusOptions {
  /** Readiness of running containers by name (from the prober); one not listed is ready unless it has a readiness probe. */
  readiness?: ReadonlyMap<string, boolean>;
  /** Startup of running containers by name (from the prober); one not listed has started unless it has a startup probe. */
  started?: ReadonlyMap<string, boolean>;
  /** The prober manager: sets started and ready from its probe results before the conditions are computed. */
  probeManager?: { updatePodStatus(podUID: string, status: PodStatus): void };
  reasonCache?: ReasonCache;
  hostIPs: string[];
  now: number;
  /** The pod worker finished the pod: its containers will not be restarted. */
  podIsTerminal?: boolean;
}

/** Condition types the kubelet owns (others, like PodScheduled, are kept as they are). */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']);

function time(ms: number): string | undefined {
  return ms > 0 ? rfc3339(ms) : undefined;
}

function containerID(id: string): string {
  return `${RUNTIME_TYPE}://${id}`;
}

function convertContainerStatus(cs: RuntimeContainerStatus): ContainerStatus {
  const cid = containerID(cs.id);
  const status: ContainerStatus = {
    name: cs.name, restartCount: cs.restartCount, image: cs.image, imageID: cs.imageRef, containerID: cid, ready: false, state: {},
  };
  switch (cs.state) {
    case 'running':
      status.state = { running: { startedAt: time(cs.startedAt) } };
      break;
    case 'created':
      status.state = { waiting: {} };
      break;
    case 'exited': {
      const terminated: NonNullable<ContainerState['terminated']> = { exitCode: cs.exitCode, containerID: cid };
      if (cs.reason) terminated.reason = cs.reason;
      if (cs.message) terminated.message = cs.message;
      if (cs.startedAt) terminated.startedAt = time(cs.startedAt);
      if (cs.finishedAt) terminated.finishedAt = time(cs.finishedAt);
      status.state = { terminated };
      break;
    }
    default:
      status.state = { waiting: {} };
  }
  return status;
}

/** Container statuses in spec order (init) or by name (regular), as upstream convertToAPIContainerStatuses. */
export function convertToAPIContainerStatuses(
  pod: Pod,
  runtime: RuntimePodStatus,
  previous: ContainerStatus[] | undefined,
  containers: Container[],
  isInit: boolean,
  opts: GenerateStatusOptions,
): ContainerStatus[] {
  const uid = pod.metadata?.uid ?? '';
  const old = new Map((previous ?? []).map((s) => [s.name, s]));
  const statuses = new Map<string, ContainerStatus>();
  const defaultReason = (pod.spec?.initContainers ?? []).length && !isInit ? 'PodInitializing' : 'ContainerCreating';
  for (const c of containers) {
    let status: ContainerStatus = { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: defaultReason } } };
    const o = old.get(c.name);
    if (o) {
      if (o.state?.terminated) status = structuredClone(o);
      else {
        status.restartCount = o.restartCount;
        if (o.lastState) status.lastState = o.lastState;
      }
    }
    statuses.set(c.name, status);
  }
  // A container that was running but the runtime no longer knows: it terminated, for reasons unknown.
  for (const c of containers) {
    if (findContainerStatus(runtime, c.name)) continue;
    const o = old.get(c.name);
    if (!o?.state?.running) continue;
    const s = statuses.get(c.name)!;
    if (s.state?.waiting?.reason !== defaultReason || s.lastState?.terminated) continue;
    s.lastState = {
      terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was deleted.  The container used to be Running' },
    };
    if (!pod.metadata?.deletionTimestamp) s.restartCount += 1;
  }
  const seen = new Map<string, number>();
  for (const cs of runtime.containerStatuses) {
    const s = statuses.get(cs.name);
    if (!s) continue;
    const n = seen.get(cs.name) ?? 0;
    if (n >= 2) continue;
    const converted = convertContainerStatus(cs);
    if (n === 0) statuses.set(cs.name, converted);
    else s.lastState = converted.state;
    seen.set(cs.name, n + 1);
  }
  for (const c of containers) {
    if (isInit) {
      const s = findContainerStatus(runtime, c.name);
      if (s?.state === 'exited' && s.exitCode === 0) continue;
    }
    if (!shouldContainerBeRestarted(c, pod, runtime)) continue;
    const reason = opts.reasonCache?.get(uid, c.name);
    if (!reason) continue;
    const s = statuses.get(c.name)!;
    if (s.state?.terminated) s.lastState = s.state;
    s.state = { waiting: { reason: reason.reason, message: reason.message } };
  }
  for (const c of containers) {
    const s = statuses.get(c.name)!;
    const running = !!s.state?.running;
    // Without a prober result, a container with a startup (readiness) probe has not started (is not ready).
    s.started = running ? (opts.started?.get(s.name) ?? !c.startupProbe) : false;
    // An init container is ready once it completed (upstream prober manager UpdatePodStatus).
    s.ready = isInit ? s.state?.terminated?.exitCode === 0 : running && s.started && (opts.readiness?.get(s.name) ?? !c.readinessProbe);
  }
  const out = containers.map((c) => statuses.get(c.name)!);
  if (!isInit) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** The pod phase from its container statuses (upstream getPhase). */
export function getPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[], podIsTerminal: boolean): string {
  const spec = pod.spec;
  const restartPolicy = spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of spec?.initContainers ?? []) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) {
      pendingInit++;
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec?.containers ?? []) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: ok ? 'True' : 'False' };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function initializedCondition(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[], phase: string): PodCondition {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return condition('Initialized', true);
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of inits) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!(s.state?.terminated && s.state.terminated.exitCode === 0)) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return condition('Initialized', true, 'PodCompleted');
  // A regular container started before: the pod was initialized (its init containers may have been removed since).
  if (statuses.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated)) return condition('Initialized', true);
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (incomplete.length) msgs.push(`containers with incomplete status: [${incomplete.join(' ')}]`);
  return condition('Initialized', false, 'ContainersNotInitialized', msgs.join(', '));
}

function containersReadyCondition(pod: Pod, statuses: ContainerStatus[], phase: string): PodCondition {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return condition('ContainersReady', false, 'PodCompleted');
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length) msgs.push(`containers with unready status: [${unready.join(' ')}]`);
  if (msgs.length) return condition('ContainersReady', false, 'ContainersNotReady', msgs.join(', '));
  return condition('ContainersReady', true);
}

function readyCondition(pod: Pod, containersReady: PodCondition, existing: PodCondition[]): PodCondition {
  if (containersReady.status !== 'True') return condition('Ready', false, containersReady.reason, containersReady.message);
  const unready: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = existing.find((x) => x.type === gate.conditionType);
    if (!c) unready.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') unready.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (unready.length) return condition('Ready', false, 'ReadinessGatesNotReady', unready.join(', '));
  return condition('Ready', true);
}

/** The pod's API status (without startTime bookkeeping, which the status manager does). */
export function generateAPIPodStatus(pod: Pod, runtime: RuntimePodStatus, opts: GenerateStatusOptions): PodStatus {
  const old = pod.status ?? {};
  const spec = pod.spec;
  const initStatuses = convertToAPIContainerStatuses(pod, runtime, old.initContainerStatuses, spec?.initContainers ?? [], true, opts);
  const statuses = convertToAPIContainerStatuses(pod, runtime, old.containerStatuses, spec?.containers ?? [], false, opts);
  let phase = getPhase(pod, initStatuses, statuses, opts.podIsTerminal ?? false);
  // A terminal phase never goes back.
  if (old.phase === 'Failed' || old.phase === 'Succeeded') phase = old.phase;
  // The probe results decide started and ready (upstream's probeManager.UpdatePodStatus).
  opts.probeManager?.updatePodStatus(pod.metadata?.uid ?? '', { containerStatuses: statuses, initContainerStatuses: initStatuses });

  const existing = old.conditions ?? [];
  const conditions: PodCondition[] = existing.filter((c) => !KUBELET_CONDITIONS.has(c.type)).map((c) => ({ ...c }));
  const sandboxReady = !podSandboxChanged(pod, runtime).changed;
  const containersReady = containersReadyCondition(pod, statuses, phase);
  const fresh = [
    condition('PodReadyToStartContainers', sandboxReady),
    initializedCondition(pod, initStatuses, statuses, phase),
    readyCondition(pod, containersReady, existing),
    containersReady,
  ];
  const nowStr = rfc3339(opts.now);
  for (const c of fresh) {
    const prev = existing.find((x) => x.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowStr;
    conditions.push(c);
  }

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: opts.hostIPs[0],
    hostIPs: opts.hostIPs.map((ip) => ({ ip })),
    qosClass: getPodQOS(pod),
    containerStatuses: statuses,
  };
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  // The pod IPs stay once known (a sandbox being torn down reports none).
  const ips = runtime.ips.length ? runtime.ips : (old.podIPs ?? []).map((p) => p.ip);
  if (ips.length && !spec?.hostNetwork) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  } else if (spec?.hostNetwork && opts.hostIPs.length) {
    status.podIP = opts.hostIPs[0];
    status.podIPs = opts.hostIPs.map((ip) => ({ ip }));
  }
  if (old.startTime) status.startTime = old.startTime;
  if (old.nominatedNodeName) status.nominatedNodeName = old.nominatedNodeName;
  return status;
}
