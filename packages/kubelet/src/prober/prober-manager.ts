// Counterpart of pkg/kubelet/prober/prober_manager.go: one worker per (pod, container, probe type) for
// every probe in a pod's spec, the three result caches (liveness, readiness, startup) shared with the
// runtime manager, and UpdatePodStatus, which sets each container status's started and ready from them.
import { realClock, type Clock } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { RuntimeService } from '../cri/runtime-service.js';
import type { PodEventRecorder } from '../kuberuntime/runtime-manager.js';
import { Prober, type ProbeType } from './prober.js';
import { ProbeResultsManager } from './results.js';
import { ProbeWorker, probeTiming } from './worker.js';

export interface ProberManagerOptions {
  /** The kubelet's latest status of a pod (the status manager's cache): pod IP, container ids and states. */
  podStatus: (podUID: string) => PodStatus | undefined;
  runtime: Pick<RuntimeService, 'execSync'>;
  recorder: PodEventRecorder;
  /** Default: new caches (pass the kubelet's to share them with the runtime manager). */
  livenessManager?: ProbeResultsManager;
  readinessManager?: ProbeResultsManager;
  startupManager?: ProbeResultsManager;
  clock?: Clock;
  logger?: Logger;
  /** Default Math.random (the start jitter of workers created just after the kubelet started). */
  random?: () => number;
}

const PROBE_TYPES: ProbeType[] = ['Startup', 'Readiness', 'Liveness'];

const key = (podUID: string, containerName: string, probeType: ProbeType) => `${podUID}/${containerName}/${probeType}`;

export class ProberManager {
  readonly livenessManager: ProbeResultsManager;
  readonly readinessManager: ProbeResultsManager;
  readonly startupManager: ProbeResultsManager;
  readonly prober: Prober;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  private readonly workers = new Map<string, ProbeWorker>();
  private readonly started: number;

  constructor(private readonly opts: ProberManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger;
    this.livenessManager = opts.livenessManager ?? new ProbeResultsManager();
    this.readinessManager = opts.readinessManager ?? new ProbeResultsManager();
    this.startupManager = opts.startupManager ?? new ProbeResultsManager();
    this.prober = new Prober({ runtime: opts.runtime, recorder: opts.recorder, logger: opts.logger });
    this.started = this.clock.now();
  }

  podStatus(podUID: string): PodStatus | undefined {
    return this.opts.podStatus(podUID);
  }

  private results(probeType: ProbeType): ProbeResultsManager {
    return probeType === 'Liveness' ? this.livenessManager : probeType === 'Readiness' ? this.readinessManager : this.startupManager;
  }

  /** Creates the workers of the pod's probes that do not run yet; the running ones see the latest pod. */
  addPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    for (const c of pod.spec?.containers ?? []) {
      for (const probeType of PROBE_TYPES) {
        const spec = probeType === 'Startup' ? c.startupProbe : probeType === 'Readiness' ? c.readinessProbe : c.livenessProbe;
        if (!spec) continue;
        const k = key(uid, c.name, probeType);
        const existing = this.workers.get(k);
        if (existing) {
          existing.pod = pod;
          continue;
        }
        const w = new ProbeWorker(this, probeType, pod, c, this.results(probeType));
        this.workers.set(k, w);
        const period = probeTiming(c, probeType).periodSeconds * 1000;
        const random = this.opts.random ?? Math.random;
        w.start(period > this.clock.now() - this.started ? Math.floor(random() * period) : 0);
      }
    }
  }

  private stopWorkers(pod: Pod, types: ProbeType[]): void {
    const uid = pod.metadata?.uid ?? '';
    for (const c of pod.spec?.containers ?? []) for (const t of types) this.workers.get(key(uid, c.name, t))?.stop();
  }

  /** Stops the liveness and startup probes of a pod being terminated (its readiness is still probed). */
  stopLivenessAndStartup(pod: Pod): void {
    this.stopWorkers(pod, ['Liveness', 'Startup']);
  }

  /** Stops every probe of the pod and forgets their results. */
  removePod(pod: Pod): void {
    this.stopWorkers(pod, PROBE_TYPES);
  }

  /** Stops the workers of pods not in `desired`. */
  cleanupPods(desired: ReadonlySet<string>): void {
    for (const w of [...this.workers.values()]) if (!desired.has(w.pod.metadata?.uid ?? '')) w.stop();
  }

  /** Called by a worker that stopped. */
  removeWorker(w: ProbeWorker): void {
    const k = key(w.pod.metadata?.uid ?? '', w.container.name, w.probeType);
    if (this.workers.get(k) === w) this.workers.delete(k);
  }

  worker(podUID: string, containerName: string, probeType: ProbeType): ProbeWorker | undefined {
    return this.workers.get(key(podUID, containerName, probeType));
  }

  workerCount(): number {
    return this.workers.size;
  }

  /**
   * Sets started and ready of the status's containers from the probe results (upstream UpdatePodStatus):
   * a running container has started once its startup probe succeeded (at once without one); it is
   * ready once started and its readiness probe succeeded (at once without one; a readiness probe with
   * no result yet is run now). An init container is ready when it exited 0.
   */
  updatePodStatus(podUID: string, status: PodStatus): void {
    for (const c of status.containerStatuses ?? []) {
      const running = !!c.state?.running;
      let started = false;
      if (running) {
        const result = c.containerID ? this.startupManager.get(c.containerID) : undefined;
        started = result !== undefined ? result === 'Success' : !this.worker(podUID, c.name, 'Startup');
      }
      c.started = started;
      if (!started) continue;
      const result = c.containerID ? this.readinessManager.get(c.containerID) : undefined;
      if (result === 'Success') c.ready = true;
      else {
        const w = this.worker(podUID, c.name, 'Readiness');
        c.ready = !w;
        w?.trigger();
      }
    }
    for (const c of status.initContainerStatuses ?? []) c.ready = c.state?.terminated?.exitCode === 0;
  }
}
