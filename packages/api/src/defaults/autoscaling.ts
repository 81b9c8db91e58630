// Defaulting for autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers (upstream
// pkg/apis/autoscaling/v1/defaults.go, v2/defaults.go) and the conversion between the two versions
// (upstream pkg/apis/autoscaling/v1/conversion.go): objects are stored as v2, and v1 is a view of them.
import type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-types/autoscaling/v1';
import type {
  HPAScalingRules,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerBehavior,
  HorizontalPodAutoscalerCondition, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2';

/** Upstream's autoscaling.DefaultCPUUtilization: the target when an HPA names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;
/** Annotations through which v1 keeps what only v2 can say (upstream's autoscaling.*Annotation). */
export const BEHAVIOR_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
export const HPA_CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';

/** autoscaling/v1: minReplicas 1. */
export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscalerV1): void {
  if (hpa.spec) hpa.spec.minReplicas ??= 1;
}

/** Upstream's default scale-up rules: no stabilization, the larger of 4 pods or 100% per 15 s. */
export function defaultScaleUpRules(): HPAScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** Upstream's default scale-down rules: 100% per 15 s; the window comes from the controller's flag when unset. */
export function defaultScaleDownRules(): HPAScalingRules {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Fills the unset fields of `rules` from `defaults` (upstream's copyHPAScalingRules). */
export function completeScalingRules(rules: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (!rules) return defaults;
  const out = { ...defaults };
  if (rules.selectPolicy !== undefined) out.selectPolicy = rules.selectPolicy;
  if (rules.stabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = rules.stabilizationWindowSeconds;
  if (rules.policies !== undefined) out.policies = rules.policies;
  return out;
}

/** autoscaling/v2: minReplicas 1, a CPU utilization target of 80% when no metric is given, a given behavior completed. */
export function defaultHorizontalPodAutoscalerV2(hpa: HorizontalPodAutoscaler): void {
  if (!hpa.spec) return;
  hpa.spec.minReplicas ??= 1;
  if (!hpa.spec.metrics?.length) {
    hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const b = hpa.spec.behavior;
  if (b) {
    b.scaleUp = completeScalingRules(b.scaleUp, defaultScaleUpRules());
    b.scaleDown = completeScalingRules(b.scaleDown, defaultScaleDownRules());
  }
}

function isCPUUtilization(m: MetricSpec): boolean {
  return m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization' && m.resource.target.averageUtilization !== undefined;
}

function parseAnnotation<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * The v1 view of a stored v2 HPA: the CPU utilization target and current value, the behavior and the
 * conditions in annotations as upstream. Other metrics are dropped from the view (upstream keeps them
 * in autoscaling.alpha.kubernetes.io/metrics and current-metrics in the v2beta1 shape; Kubelab does not).
 */
export function horizontalPodAutoscalerV1FromV2(hpa: HorizontalPodAutoscaler): HorizontalPodAutoscalerV1 {
  const spec = hpa.spec;
  const annotations = { ...(hpa.metadata?.annotations ?? {}) };
  if (spec?.behavior) annotations[BEHAVIOR_SPECS_ANNOTATION] = JSON.stringify(spec.behavior);
  if (hpa.status?.conditions?.length) annotations[HPA_CONDITIONS_ANNOTATION] = JSON.stringify(hpa.status.conditions);
  const metadata = { ...hpa.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  const out: HorizontalPodAutoscalerV1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata };
  if (spec) {
    const cpu = spec.metrics?.find(isCPUUtilization);
    out.spec = {
      scaleTargetRef: spec.scaleTargetRef,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource!.target.averageUtilization } : {}),
    };
  }
  const st = hpa.status;
  if (st) {
    const cpu = st.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined);
    out.status = {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime !== undefined ? { lastScaleTime: st.lastScaleTime } : {}),
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas,
      ...(cpu ? { currentCPUUtilizationPercentage: cpu.resource!.current.averageUtilization } : {}),
    };
  }
  return out;
}

/** `metrics` with the CPU utilization target set to `target` (added first when absent, removed when undefined). */
function withCPUTarget(metrics: MetricSpec[], target: number | undefined): MetricSpec[] {
  const i = metrics.findIndex(isCPUUtilization);
  if (target === undefined) return metrics.filter((_, j) => j !== i);
  const cpu: MetricSpec = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } };
  if (i < 0) return [cpu, ...metrics];
  const out = [...metrics];
  const old = metrics[i]!;
  out[i] = old.resource!.target.averageUtilization === target ? old : cpu;
  return out;
}

function isCPUStatus(m: MetricStatus): boolean {
  return m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined;
}

function withCPUCurrent(metrics: MetricStatus[], current: number | undefined): MetricStatus[] {
  const i = metrics.findIndex(isCPUStatus);
  if (current === undefined) return metrics.filter((_, j) => j !== i);
  const cpu: MetricStatus = { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } };
  if (i < 0) return [cpu, ...metrics];
  const out = [...metrics];
  out[i] = metrics[i]!.resource!.current.averageUtilization === current ? metrics[i]! : cpu;
  return out;
}

/**
 * The v2 object to store for a v1 one: the CPU target becomes a Resource metric (the default 80% when
 * unset, as v2 defaulting), behavior and conditions come back from their annotations, and what v1
 * cannot show of `stored` (other metrics, current values other than CPU utilization) is kept.
 */
export function horizontalPodAutoscalerV2FromV1(hpa: HorizontalPodAutoscalerV1, stored?: HorizontalPodAutoscaler | null): HorizontalPodAutoscaler {
  const annotations = { ...(hpa.metadata?.annotations ?? {}) };
  const behavior = parseAnnotation<HorizontalPodAutoscalerBehavior>(annotations[BEHAVIOR_SPECS_ANNOTATION]);
  const conditions = parseAnnotation<HorizontalPodAutoscalerCondition[]>(annotations[HPA_CONDITIONS_ANNOTATION]) ?? stored?.status?.conditions;
  delete annotations[BEHAVIOR_SPECS_ANNOTATION];
  delete annotations[HPA_CONDITIONS_ANNOTATION];
  const metadata = { ...hpa.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: HorizontalPodAutoscaler = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata };
  const spec = hpa.spec;
  if (spec) {
    const metrics = withCPUTarget(stored?.spec?.metrics ?? [], spec.targetCPUUtilizationPercentage);
    out.spec = {
      scaleTargetRef: spec.scaleTargetRef,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(metrics.length ? { metrics } : {}),
      ...(behavior ? { behavior } : {}),
    };
    defaultHorizontalPodAutoscalerV2(out);
  }
  const st = hpa.status;
  if (st) {
    const currentMetrics = withCPUCurrent(stored?.status?.currentMetrics ?? [], st.currentCPUUtilizationPercentage);
    out.status = {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime !== undefined ? { lastScaleTime: st.lastScaleTime } : {}),
      currentReplicas: st.currentReplicas,
      desiredReplicas: st.desiredReplicas,
      ...(currentMetrics.length ? { currentMetrics } : {}),
      ...(conditions?.length ? { conditions } : {}),
    };
  }
  return out;
}
