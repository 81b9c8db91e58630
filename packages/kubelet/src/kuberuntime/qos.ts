// Counterpart of pkg/apis/core/v1/helper/qos/qos.go (GetPodQOS) and pkg/kubelet/qos/policy.go
// (GetContainerOOMScoreAdjust): the pod's QoS class and each container's oom_score_adj.
import { Quantity } from '@kubelab/api';
import type { Container, Pod } from 'kubernetes-types/core/v1';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Resources that decide the QoS class. */
const QOS_RESOURCES = ['cpu', 'memory'] as const;

export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BEST_EFFORT_OOM_SCORE_ADJ = 1000;
/** Upstream scheduling.SystemCriticalPriority: pods at or above it are critical. */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

function quantity(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  try {
    return Quantity.parse(v);
  } catch {
    return undefined;
  }
}

/**
 * Guaranteed when every container has cpu and memory limits and the pod's requests equal its limits;
 * BestEffort when no container requests or limits cpu or memory; Burstable otherwise.
 */
export function getPodQOS(pod: Pod): QOSClass {
  if (pod.status?.qosClass) return pod.status.qosClass as QOSClass;
  return computePodQOS(pod);
}

export function computePodQOS(pod: Pod): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let isGuaranteed = true;
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    for (const name of QOS_RESOURCES) {
      const req = quantity(c.resources?.requests?.[name]);
      if (req && req.sign() > 0) requests.set(name, (requests.get(name) ?? Quantity.zero()).add(req));
    }
    const found = new Set<string>();
    for (const name of QOS_RESOURCES) {
      const lim = quantity(c.resources?.limits?.[name]);
      if (lim && lim.sign() > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? Quantity.zero()).add(lim));
      }
    }
    if (found.size !== QOS_RESOURCES.length) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim?.cmp(req) !== 0) {
        isGuaranteed = false;
        break;
      }
    }
  }
  if (isGuaranteed && requests.size === limits.size) return 'Guaranteed';
  return 'Burstable';
}

/**
 * The container's oom_score_adj: -997 for Guaranteed and critical pods, 1000 for BestEffort, and for
 * Burstable 1000 - 1000*memoryRequest/memoryCapacity kept within [3, 999].
 */
export function containerOOMScoreAdjust(pod: Pod, container: Container, memoryCapacity: number): number {
  if ((pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY) return GUARANTEED_OOM_SCORE_ADJ;
  switch (getPodQOS(pod)) {
    case 'Guaranteed':
      return GUARANTEED_OOM_SCORE_ADJ;
    case 'BestEffort':
      return BEST_EFFORT_OOM_SCORE_ADJ;
  }
  const request = Number(quantity(container.resources?.requests?.memory)?.value() ?? 0n);
  let adj = memoryCapacity > 0 ? 1000 - Math.trunc((1000 * request) / memoryCapacity) : 1000;
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) adj = 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BEST_EFFORT_OOM_SCORE_ADJ) adj -= 1;
  return adj;
}
