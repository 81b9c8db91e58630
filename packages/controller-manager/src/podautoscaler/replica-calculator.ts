// The HPA's replica calculation for resource metrics (upstream's pkg/controller/podautoscaler/
// replica_calculator.go and metrics/utilization.go): pure functions over the target's pods, their
// resource metrics and the time. Pods are grouped as upstream: deleted or failed pods are ignored,
// Pending pods and (for CPU) pods not yet ready or whose sample predates readiness count as unready,
// pods without a sample are missing. Missing pods count as using 100% of their request (or the target,
// if higher) on a scale-down and 0% on a scale-up; unready pods as 0% on a scale-up. A change that would
// flip the scale direction, or is within the tolerance, keeps the current count.
import { Quantity } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';

/** One pod's usage of a resource in milli-units, when it was measured and over which window. */
export interface PodMetric {
  value: number;
  timestampMs: number;
  windowMs: number;
}

/** Pod name -> its metric. */
export type PodMetricsInfo = Map<string, PodMetric>;

export interface ReplicaCalculatorOptions {
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5m). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30s). */
  delayOfInitialReadinessStatusMs: number;
}

export interface ResourceReplicas {
  replicas: number;
  /** Average utilization in percent of the request (utilization targets only). */
  utilization?: number;
  /** Average usage per pod in milli-units. */
  rawUsage: number;
}

export class ReplicaCalculationError extends Error {}

interface PodGroups {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

const time = (s: string | undefined): number | undefined => (s ? Date.parse(s) : undefined);

/** Upstream's groupPods. */
export function groupPods(pods: Pod[], metrics: PodMetricsInfo, resource: string, opts: ReplicaCalculatorOptions, nowMs: number): PodGroups {
  const g: PodGroups = { readyPodCount: 0, unreadyPods: new Set(), missingPods: new Set(), ignoredPods: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignoredPods.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unreadyPods.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missingPods.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = time(pod.status?.startTime);
      let unready: boolean;
      if (!ready || start === undefined) {
        unready = true;
      } else {
        const transition = time(ready.lastTransitionTime) ?? 0;
        if (start + opts.cpuInitializationPeriodMs > nowMs) {
          // Within the initialization period: unready, or a sample not yet a full window after becoming ready.
          unready = ready.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        } else {
          // Unready and never ready since the start.
          unready = ready.status === 'False' && start + opts.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (unready) {
        g.unreadyPods.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** Each pod's request of `resource` in milli-units, summed over its containers (or the one named); every container must request it. */
export function calculatePodRequests(pods: Pod[], container: string, resource: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
    for (const c of containers) {
      if (container && c.name !== container) continue;
      const req = c.resources?.requests?.[resource];
      if (req === undefined) throw new ReplicaCalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += Number(Quantity.parse(req).milliValue());
    }
    requests.set(pod.metadata?.name ?? '', sum);
  }
  return requests;
}

/** Upstream's GetResourceUtilizationRatio: usage over requests of the pods with both, against the target. */
export function getResourceUtilizationRatio(
  metrics: PodMetricsInfo,
  requests: Map<string, number>,
  targetUtilization: number,
): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

function removeMetricsForPods(metrics: PodMetricsInfo, pods: Set<string>): void {
  for (const p of pods) metrics.delete(p);
}

/**
 * The replica count for a utilization target of `resource` (upstream's GetResourceReplicas), given the
 * pods the target selects and their metrics. Throws ReplicaCalculationError with upstream's messages.
 */
export function getResourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: Pod[],
  podMetrics: PodMetricsInfo,
  opts: ReplicaCalculatorOptions,
  nowMs: number,
  container = '',
): ResourceReplicas {
  const metrics: PodMetricsInfo = new Map(podMetrics);
  if (!pods.length) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(pods, metrics, resource, opts, nowMs);
  removeMetricsForPods(metrics, ignoredPods);
  removeMetricsForPods(metrics, unreadyPods);
  if (!metrics.size) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = calculatePodRequests(pods, container, resource);
  const { ratio, utilization, rawAverage } = getResourceUtilizationRatio(metrics, requests, targetUtilization);
  const result = (replicas: number): ResourceReplicas => ({ replicas, utilization, rawUsage: rawAverage });

  const scaleUpWithUnready = unreadyPods.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (Math.abs(1.0 - ratio) <= opts.tolerance) return result(currentReplicas);
    return result(Math.ceil(ratio * readyPodCount));
  }
  if (missingPods.size > 0) {
    // Scale-down: missing pods use 100% of their request (or the target if higher); scale-up: 0%.
    const fallback = ratio < 1.0 ? Math.max(100, targetUtilization) : 0;
    if (ratio !== 1.0) {
      for (const p of missingPods) metrics.set(p, { value: Math.trunc(((requests.get(p) ?? 0) * fallback) / 100), timestampMs: 0, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const p of unreadyPods) metrics.set(p, { value: 0, timestampMs: 0, windowMs: 0 });

  const newRatio = getResourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
  if (Math.abs(1.0 - newRatio) <= opts.tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) {
    return result(currentReplicas);
  }
  const newReplicas = Math.ceil(newRatio * metrics.size);
  if ((newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas)) return result(currentReplicas);
  return result(newReplicas);
}

/**
 * The replica count for an average-value target of `resource` in milli-units (upstream's
 * GetRawResourceReplicas through calcPlainMetricReplicas).
 */
export function getRawResourceReplicas(
  currentReplicas: number,
  targetUsage: number,
  resource: string,
  pods: Pod[],
  podMetrics: PodMetricsInfo,
  opts: ReplicaCalculatorOptions,
  nowMs: number,
): ResourceReplicas {
  const metrics: PodMetricsInfo = new Map(podMetrics);
  if (!pods.length) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(pods, metrics, resource, opts, nowMs);
  removeMetricsForPods(metrics, ignoredPods);
  removeMetricsForPods(metrics, unreadyPods);
  if (!metrics.size) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const usageRatio = (m: PodMetricsInfo): { ratio: number; usage: number } => {
    let total = 0;
    for (const v of m.values()) total += v.value;
    const usage = Math.trunc(total / m.size);
    return { ratio: usage / targetUsage, usage };
  };
  const { ratio, usage } = usageRatio(metrics);
  const scaleUpWithUnready = unreadyPods.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (Math.abs(1.0 - ratio) <= opts.tolerance) return { replicas: currentReplicas, rawUsage: usage };
    return { replicas: Math.ceil(ratio * readyPodCount), rawUsage: usage };
  }
  if (missingPods.size > 0) {
    const fallback = ratio < 1.0 ? targetUsage : 0;
    if (ratio !== 1.0) for (const p of missingPods) metrics.set(p, { value: fallback, timestampMs: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const p of unreadyPods) metrics.set(p, { value: 0, timestampMs: 0, windowMs: 0 });
  const newRatio = usageRatio(metrics).ratio;
  if (Math.abs(1.0 - newRatio) <= opts.tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) {
    return { replicas: currentReplicas, rawUsage: usage };
  }
  const newReplicas = Math.ceil(newRatio * metrics.size);
  if ((newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas)) return { replicas: currentReplicas, rawUsage: usage };
  return { replicas: newReplicas, rawUsage: usage };
}
