// Counterpart of pkg/kubelet/util/pod_startup_latency_tracker.go: per pod, from when the kubelet first saw it
// to the first status write that reported it Running, logged once as upstream's "Observed pod startup
// duration" (podStartE2EDuration from the creationTimestamp; podStartSLOduration without the image pulling).
// Beyond upstream, the time of each step of the pod's first start since the kubelet saw it (`steps`, ms), so
// that a slow start shows where the time went (bench/kubelet.ts reads these lines).
import { realClock, type Clock } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';

/** The steps of a pod's first start, in the order the kubelet takes them. */
export const POD_STARTUP_STEPS = [
  /** Its pod worker began the first sync. */
  'workerStarted',
  /** The first status (Pending, with startTime) was written to the apiserver. */
  'pendingStatusWritten',
  /** Every volume set up (service account token, configMaps, ...). */
  'volumesMounted',
  /** RunPodSandbox answered (pause container, network namespace, CNI ADD). */
  'sandboxCreated',
  /** The image is known present (ImageStatus, or PullImage). */
  'imageReady',
  'containerCreated',
  'containerStarted',
  /** The status with phase Running was written to the apiserver. */
  'runningStatusWritten',
] as const;
export type PodStartupStep = (typeof POD_STARTUP_STEPS)[number];

interface StartupState {
  /** When the kubelet first saw the pod (ms, the tracker's clock). */
  observedAt: number;
  steps: Partial<Record<PodStartupStep, number>>;
  firstStartedPulling?: number;
  lastFinishedPulling?: number;
  reported: boolean;
}

/** What the runtime manager and the status manager record with. */
export type PodStartupRecorder = Pick<PodStartupLatencyTracker, 'step' | 'startedPulling' | 'finishedPulling'>;

/** Most pods tracked at once (pods that never start are forgotten first). */
const MAX_TRACKED = 10_000;

export class PodStartupLatencyTracker {
  private readonly clock: Clock;
  private readonly pods = new Map<string, StartupState>();

  constructor(private readonly opts: { clock?: Clock; logger?: Logger } = {}) {
    this.clock = opts.clock ?? realClock;
  }

  /** The kubelet saw the pod (upstream ObservedPodOnWatch): tracked unless it has started before (a status with startTime). */
  observedPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (!uid || this.pods.has(uid) || pod.status?.startTime) return;
    if (this.pods.size >= MAX_TRACKED) this.pods.delete(this.pods.keys().next().value!);
    this.pods.set(uid, { observedAt: this.clock.now(), steps: {}, reported: false });
  }

  /** The first time the pod reached `step` (later times are ignored). */
  step(uid: string, step: PodStartupStep): void {
    const s = this.pods.get(uid);
    if (s && !s.reported) s.steps[step] ??= this.clock.now();
  }

  startedPulling(uid: string): void {
    const s = this.pods.get(uid);
    if (s && !s.reported) s.firstStartedPulling ??= this.clock.now();
  }

  finishedPulling(uid: string): void {
    const s = this.pods.get(uid);
    if (s && !s.reported) s.lastFinishedPulling = this.clock.now();
  }

  /** Milliseconds since the pod was seen, per step reached so far (undefined for an untracked pod). */
  steps(uid: string): Partial<Record<PodStartupStep, number>> | undefined {
    const s = this.pods.get(uid);
    if (!s) return undefined;
    return Object.fromEntries(POD_STARTUP_STEPS.flatMap((k) => (s.steps[k] === undefined ? [] : [[k, s.steps[k]! - s.observedAt]])));
  }

  /** A status was written (upstream RecordStatusUpdated): the first one with phase Running ends the pod's startup. */
  statusWritten(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata?.uid ?? '';
    const s = this.pods.get(uid);
    if (!s || s.reported) return;
    s.steps.pendingStatusWritten ??= this.clock.now();
    if (status.phase !== 'Running') return;
    s.steps.runningStatusWritten = this.clock.now();
    s.reported = true;
    const now = this.clock.now();
    const created = Date.parse(pod.metadata?.creationTimestamp ?? '');
    const e2e = Number.isNaN(created) ? undefined : (now - created) / 1000;
    const pulling = s.firstStartedPulling !== undefined && s.lastFinishedPulling !== undefined ? (s.lastFinishedPulling - s.firstStartedPulling) / 1000 : 0;
    this.opts.logger?.info(
      {
        pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
        podUID: uid,
        podStartSLOduration: e2e === undefined ? undefined : Number((e2e - pulling).toFixed(3)),
        podStartE2EDuration: e2e === undefined ? undefined : Number(e2e.toFixed(3)),
        podCreationTimestamp: pod.metadata?.creationTimestamp,
        observedRunningMs: now - s.observedAt,
        steps: this.steps(uid),
      },
      'Observed pod startup duration',
    );
  }

  /** Forgets a pod (removed from the kubelet). */
  deletePod(uid: string): void {
    this.pods.delete(uid);
  }
}
