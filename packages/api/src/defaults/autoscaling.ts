// Defaulting for autoscaling/v1 (upstream pkg/apis/autoscaling/v1/defaults.go).
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v1';

/** minReplicas 1. */
export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  if (hpa.spec) hpa.spec.minReplicas ??= 1;
}
