// Counterpart of pkg/kubelet/prober/worker.go: probes one container's probe of one type every
// periodSeconds (after initialDelaySeconds), counts equal results in a row against successThreshold and
// failureThreshold before caching one, starts over with each new container id, holds a container that
// failed its liveness or startup probe until it is replaced, and stops with the pod.
import type { TimerHandle } from '@kubelab/client';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { ProberManager } from './prober-manager.js';
import { probeSpec, type ProbeType } from './prober.js';
import type { ProbeResult, ProbeResultsManager } from './results.js';

/** The API's probe defaults (the kubelet applies them too, for pods that were never defaulted). */
export function probeTiming(container: Container, probeType: ProbeType) {
  const p = probeSpec(container, probeType) ?? {};
  const positive = (v: number | undefined, d: number) => (v && v > 0 ? v : d);
  return {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: positive(p.periodSeconds, 10),
    successThreshold: positive(p.successThreshold, 1),
    failureThreshold: positive(p.failureThreshold, 3),
  };
}

export class ProbeWorker {
  /** The container id (with its `containerd://` scheme, as in the API status) last probed. */
  containerID = '';
  private lastResult: ProbeResult | undefined;
  private resultRun = 0;
  private onHold = false;
  private stopped = false;
  private inFlight = false;
  private triggered = false;
  private timer: TimerHandle | undefined;
  private readonly initialValue: ProbeResult;
  private readonly timing: ReturnType<typeof probeTiming>;

  constructor(
    private readonly manager: ProberManager,
    readonly probeType: ProbeType,
    /** The latest pod (the manager refreshes it on each AddPod). */
    public pod: Pod,
    readonly container: Container,
    private readonly results: ProbeResultsManager,
  ) {
    this.initialValue = probeType === 'Readiness' ? 'Failure' : probeType === 'Liveness' ? 'Success' : 'Unknown';
    this.timing = probeTiming(container, probeType);
  }

  private get podUID(): string {
    return this.pod.metadata?.uid ?? '';
  }

  /** Starts the loop: after a random part of the period when the kubelet has just started (as upstream), else at once. */
  start(jitterMs: number): void {
    this.timer = this.manager.clock.setTimeout(() => void this.tick(), jitterMs);
  }

  /**
   * Runs a probe soon (upstream's manualTriggerCh), without moving the periodic ticks: after the current
   * task, so that the status being generated (which triggers it) has reached the status manager.
   */
  trigger(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.triggered = true;
      return;
    }
    queueMicrotask(() => void this.run(false));
  }

  /** Stops the worker; it removes its cached result and itself from the manager. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.manager.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.inFlight) this.cleanup();
  }

  private cleanup(): void {
    if (this.containerID) this.results.remove(this.containerID);
    this.manager.removeWorker(this);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const began = this.manager.clock.now();
    await this.run(true);
    if (this.stopped) return;
    const period = this.timing.periodSeconds * 1000;
    this.timer = this.manager.clock.setTimeout(() => void this.tick(), Math.max(0, period - (this.manager.clock.now() - began)));
  }

  private async run(periodic: boolean): Promise<void> {
    if (this.stopped) return;
    if (this.inFlight) {
      if (!periodic) this.triggered = true;
      return;
    }
    this.inFlight = true;
    let keepGoing = true;
    try {
      do {
        this.triggered = false;
        keepGoing = await this.doProbe();
      } while (keepGoing && this.triggered && !this.stopped);
    } catch (err) {
      this.manager.logger?.warn({ err: (err as Error).message, probeType: this.probeType, containerName: this.container.name }, 'Probe worker failed');
    } finally {
      this.inFlight = false;
    }
    if (!keepGoing) this.stopped = true;
    if (this.stopped) {
      if (this.timer !== undefined) this.manager.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.cleanup();
    }
  }

  /** Probes once and records the result; resolves to whether the worker should go on (upstream doProbe). */
  async doProbe(): Promise<boolean> {
    const status = this.manager.podStatus(this.podUID);
    // The pod has not been synced yet (or is gone).
    if (!status) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const name = this.container.name;
    let c = status.containerStatuses?.find((s) => s.name === name);
    if (!c?.containerID) c = status.initContainerStatuses?.find((s) => s.name === name);
    // The container has not been created yet, or was removed.
    if (!c?.containerID) return true;

    if (this.containerID !== c.containerID) {
      if (this.containerID) this.results.remove(this.containerID);
      this.containerID = c.containerID;
      this.results.set(this.containerID, this.initialValue, this.podUID);
      // A new container: probe it again.
      this.onHold = false;
    }
    if (this.onHold) return true;

    if (!c.state?.running) {
      if (this.containerID) this.results.set(this.containerID, 'Failure', this.podUID);
      // A container that will not be restarted needs no more probing.
      return !c.state?.terminated || this.pod.spec?.restartPolicy !== 'Never';
    }

    // Graceful shutdown: liveness and startup probes end quietly with a success.
    if (this.pod.metadata?.deletionTimestamp && (this.probeType === 'Liveness' || this.probeType === 'Startup')) {
      this.results.set(this.containerID, 'Success', this.podUID);
      return false;
    }

    const startedAt = Date.parse(c.state.running.startedAt ?? '');
    if (Number.isFinite(startedAt) && Math.floor((this.manager.clock.now() - startedAt) / 1000) < this.timing.initialDelaySeconds) return true;

    if (c.started) {
      // The startup probe is done once the container started (the worker stays for a restarted container).
      if (this.probeType === 'Startup') return true;
    } else if (this.probeType !== 'Startup') {
      // Liveness and readiness wait for the startup probe.
      return true;
    }

    let result: ProbeResult;
    try {
      result = await this.manager.prober.probe(this.probeType, this.pod, status, this.container, this.containerID.replace(/^[a-z]+:\/\//, ''));
    } catch {
      // A prober error: the result is thrown away.
      return true;
    }
    if (this.stopped) return false;

    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if ((result === 'Failure' && this.resultRun < this.timing.failureThreshold) || (result === 'Success' && this.resultRun < this.timing.successThreshold)) {
      return true;
    }
    this.results.set(this.containerID, result, this.podUID);
    if ((this.probeType === 'Liveness' || this.probeType === 'Startup') && result === 'Failure') {
      // The container will be restarted: no more probes until a new container appears.
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }
}
