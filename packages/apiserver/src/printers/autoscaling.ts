// kubectl get hpa: NAME, REFERENCE, TARGETS, MINPODS, MAXPODS, REPLICAS, AGE (upstream's
// printHorizontalPodAutoscaler and formatHPAMetrics in pkg/printers/internalversion/printers.go).
// The autoscaling/v1 view is printed through its v2 form.
import { horizontalPodAutoscalerV2FromV1, Quantity, type KubeObject } from '@kubelab/api';
import type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-types/autoscaling/v1';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2';
import type { TablePrinter } from './types.js';
import { ageColumn, col, nameColumn } from './format.js';
import { translateTimestampSince } from './duration.js';

const MAX_METRICS = 2;

function quantity(v: string | number | undefined): string {
  if (v === undefined) return '<unknown>';
  try {
    return Quantity.parse(v).toString();
  } catch {
    return String(v);
  }
}

/** One metric as `cpu: 12%/50%`, `<unknown>/500m`, `5/10 (avg)`. */
function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const src = spec.type === 'External' ? spec.external : spec.object;
      const cur = spec.type === 'External' ? status?.external?.current : status?.object?.current;
      if (src?.target.averageValue !== undefined) {
        const current = cur?.averageValue !== undefined ? quantity(cur.averageValue) : '<unknown>';
        return `${current}/${quantity(src.target.averageValue)} (avg)`;
      }
      return `${cur ? quantity(cur.value) : '<unknown>'}/${quantity(src?.target.value)}`;
    }
    case 'Pods':
      return `${status?.pods ? quantity(status.pods.current.averageValue) : '<unknown>'}/${quantity(spec.pods?.target.averageValue)}`;
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = spec.type === 'Resource' ? status?.resource?.current : status?.containerResource?.current;
      const name = src?.name ?? '';
      if (src?.target.averageValue !== undefined) {
        return `${name}: ${cur ? quantity(cur.averageValue) : '<unknown>'}/${quantity(src.target.averageValue)}`;
      }
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
      const target = src?.target.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${name}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

export function formatHPAMetrics(specs: MetricSpec[] | undefined, statuses: MetricStatus[] | undefined): string {
  if (!specs?.length) return '<none>';
  const list = specs.map((s, i) => formatMetric(s, statuses?.[i]));
  if (list.length <= MAX_METRICS) return list.join(', ');
  return `${list.slice(0, MAX_METRICS).join(', ')} + ${list.length - MAX_METRICS} more...`;
}

export const horizontalPodAutoscalerPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'integer', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
    col('Replicas', 'integer', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageColumn(),
  ],
  row(obj: KubeObject, now) {
    const hpa = obj.apiVersion === 'autoscaling/v1' ? horizontalPodAutoscalerV2FromV1(obj as HorizontalPodAutoscalerV1) : (obj as HorizontalPodAutoscaler);
    const spec = hpa.spec;
    return [
      obj.metadata.name ?? '',
      `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`,
      formatHPAMetrics(spec?.metrics, hpa.status?.currentMetrics),
      spec?.minReplicas !== undefined ? String(spec.minReplicas) : '<unset>',
      spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      translateTimestampSince(obj.metadata.creationTimestamp, now),
    ];
  },
};
