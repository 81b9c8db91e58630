// What the Endpoints and EndpointSlice controllers share (upstream's endpointslice/util and
// pkg/api/v1/pod FindPort): which pods back a Service, their ports, and change trigger times.
import { selectorFromSet, type KubeObject } from '@kubelab/api';
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1';
import { isPodReady } from '../controller-utils.js';

/** The annotation carrying the time of the last pod or service change an Endpoints (slice) reflects. */
export const LAST_CHANGE_TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Set on the Endpoints and slices of a headless service. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export function isTerminal(pod: Pod): boolean {
  const p = pod.status?.phase;
  return p === 'Succeeded' || p === 'Failed';
}

export function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

/** Upstream's ShouldPodBeInEndpoints: not terminal, has an IP, and (unless included) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/**
 * The container port a service port reaches on `pod` (upstream's FindPort): a named targetPort is
 * looked up among the pod's container ports with the same protocol; a number is used as is.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** The pods a service selects, or undefined when it has no selector (its endpoints are managed by hand). */
export function selectedPods(svc: Service, pods: Pod[]): Pod[] | undefined {
  if (!svc.spec?.selector) return undefined;
  const sel = selectorFromSet(svc.spec.selector);
  return pods.filter((p) => sel.matches(p.metadata?.labels ?? {}));
}

/** The hostname an address gets: only when the pod's subdomain names this service (same namespace). */
export function endpointHostname(pod: Pod, svc: Service): string | undefined {
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) return pod.spec.hostname;
  return undefined;
}

/** Services in the pod's namespace whose selector matches the pod's labels. */
export function servicesForPod(services: KubeObject[], labels: Record<string, string> | undefined): KubeObject[] {
  return services.filter((s) => s.spec?.selector && selectorFromSet(s.spec.selector).matches(labels ?? {}));
}

/** A pod's trigger time: when its Ready condition last changed (upstream's getPodTriggerTime). */
export function podTriggerTime(pod: Pod): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
}

/**
 * Upstream's TriggerTimeTracker: per service, remembers each pod's trigger time and the service's
 * creation; the result is the earliest trigger time among the things that changed since the last
 * committed state. Call `commit` once the result is written, so a failed write does not lose it.
 */
export class TriggerTimeTracker {
  private readonly state = new Map<string, { pods: Map<string, string>; service?: string }>();

  compute(key: string, svc: Service, pods: Pod[]): { time: string | undefined; commit: () => void } {
    const prev = this.state.get(key);
    const next = { pods: new Map<string, string>(), service: svc.metadata?.creationTimestamp };
    let min: string | undefined;
    const after = (t: string | undefined, before: string | undefined) => !!t && (!before || Date.parse(t) > Date.parse(before));
    const consider = (t: string) => {
      if (!min || Date.parse(t) < Date.parse(min)) min = t;
    };
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (!t) continue;
      next.pods.set(pod.metadata!.name!, t);
      if (after(t, prev?.pods.get(pod.metadata!.name!))) consider(t);
    }
    if (after(next.service, prev?.service)) consider(next.service!);
    return { time: min, commit: () => this.state.set(key, next) };
  }

  delete(key: string): void {
    this.state.delete(key);
  }
}

export { isPodReady };

/** Deep equality that ignores key order and treats undefined fields as absent (apimachinery's Semantic.DeepEqual, roughly). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) if (val[k] !== undefined) out[k] = val[k];
      return out;
    }
    return val;
  });
}
