// Counterpart of pkg/kubelet/prober/prober.go: runs one probe of a container with the handler its spec
// names (exec, httpGet, tcpSocket, grpc), retrying a handler error up to 3 times, and records the
// Unhealthy (failed or errored) and ProbeWarning events. A handler error (e.g. a named port that does
// not exist) is returned as an error: the worker throws that result away.
import type { KubeObject } from '@kubelab/api';
import type { Logger } from '@kubelab/component-base';
import type { Container, Pod, PodStatus, Probe } from 'kubernetes-types/core/v1';
import type { RuntimeService } from '../cri/runtime-service.js';
import { expand, mappingFor } from '../kuberuntime/env.js';
import { formatPod } from '../kuberuntime/pod-actions.js';
import type { PodEventRecorder } from '../kuberuntime/runtime-manager.js';
import { doExecProbe } from './exec.js';
import { doGRPCProbe } from './grpc.js';
import { doHTTPProbe, httpGetRequest } from './http.js';
import { resolveContainerPort, type HandlerOutcome } from './probe.js';
import type { ProbeResult } from './results.js';
import { doTCPProbe } from './tcp.js';

export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';

/** Upstream's maxProbeRetries. */
const MAX_PROBE_RETRIES = 3;

/** The container's probe of this type. */
export function probeSpec(container: Container, probeType: ProbeType): Probe | undefined {
  if (probeType === 'Liveness') return container.livenessProbe;
  if (probeType === 'Readiness') return container.readinessProbe;
  return container.startupProbe;
}

/** The probe's timeout in seconds (API default 1). */
export function probeTimeoutSeconds(p: Probe): number {
  return p.timeoutSeconds && p.timeoutSeconds > 0 ? p.timeoutSeconds : 1;
}

/** $(VAR) in an exec probe's command from the container's literal env only (upstream ExpandContainerCommandOnlyStatic). */
function expandStatic(command: string[], container: Container): string[] {
  const env = new Map((container.env ?? []).map((e) => [e.name, e.value ?? '']));
  const lookup = mappingFor(env);
  return command.map((c) => expand(c, lookup));
}

export interface ProberOptions {
  runtime: Pick<RuntimeService, 'execSync'>;
  recorder: PodEventRecorder;
  logger?: Logger;
}

export class Prober {
  constructor(private readonly opts: ProberOptions) {}

  /** Runs the handler once (upstream runProbe). */
  async runProbe(p: Probe, pod: Pod, status: PodStatus, container: Container, containerID: string): Promise<HandlerOutcome> {
    const timeoutSeconds = probeTimeoutSeconds(p);
    const podIP = status.podIP ?? '';
    if (p.exec) return doExecProbe(this.opts.runtime, containerID, expandStatic(p.exec.command ?? [], container), timeoutSeconds);
    if (p.httpGet) {
      const { url, headers } = httpGetRequest(p.httpGet, container, podIP);
      return doHTTPProbe(url, headers, timeoutSeconds * 1000);
    }
    if (p.tcpSocket) {
      const port = resolveContainerPort(p.tcpSocket.port, container);
      return doTCPProbe(p.tcpSocket.host || podIP, port, timeoutSeconds * 1000);
    }
    if (p.grpc) return doGRPCProbe(podIP, p.grpc.port, p.grpc.service ?? '', timeoutSeconds * 1000);
    throw new Error(`missing probe handler for ${formatPod(pod)}:${container.name}`);
  }

  /** The probe's result; throws (after the Unhealthy event) when the handler could not run. */
  async probe(probeType: ProbeType, pod: Pod, status: PodStatus, container: Container, containerID: string): Promise<ProbeResult> {
    const p = probeSpec(container, probeType);
    if (!p) return 'Success';
    let outcome: HandlerOutcome | undefined;
    let error: Error | undefined;
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      try {
        outcome = await this.runProbe(p, pod, status, container, containerID);
        error = undefined;
        break;
      } catch (err) {
        error = err as Error;
      }
    }
    const log = { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, containerName: container.name, probeType };
    if (error) {
      this.opts.logger?.info({ ...log, err: error.message }, 'Probe errored');
      this.event(pod, 'Unhealthy', `${probeType} probe errored: ${error.message}`);
      throw error;
    }
    if (outcome!.result === 'Warning') {
      this.event(pod, 'ProbeWarning', `${probeType} probe warning: ${outcome!.output}`);
      return 'Success';
    }
    if (outcome!.result !== 'Success') {
      this.opts.logger?.debug({ ...log, output: outcome!.output }, 'Probe failed');
      this.event(pod, 'Unhealthy', `${probeType} probe failed: ${outcome!.output}`);
      return 'Failure';
    }
    return 'Success';
  }

  private event(pod: Pod, reason: string, message: string): void {
    this.opts.recorder.event(pod as KubeObject, 'Warning', reason, message);
  }
}
