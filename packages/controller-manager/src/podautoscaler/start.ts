// Start function for the horizontal-pod-autoscaler-controller (upstream's startHPAControllerWithMetricsClient):
// autoscaling/v2 HPAs from an informer, the targets' /scale, and the pods' metrics from metrics.k8s.io/v1beta1.
import { findKind, findResource, Quantity, RESOURCES, resourcePath, type KubeObject, type KubeList, type ResourceInfo } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { CrossVersionObjectReference, HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { HorizontalController, type HorizontalControllerClient, type Scale } from './horizontal-controller.js';
import type { PodMetricsInfo } from './replica-calculator.js';

/** Upstream's --concurrent-horizontal-pod-autoscaler-syncs default. */
const WORKERS = 5;

/** A PodMetrics item of metrics.k8s.io/v1beta1. */
interface PodMetrics extends KubeObject {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

/** The resource with a scale subresource that a scaleTargetRef names (upstream's RESTMapper lookup). */
export function scaleTargetResource(ref: CrossVersionObjectReference): ResourceInfo {
  const hasScale = (r: ResourceInfo) => r.subresources.some((s) => s.name === 'scale');
  const info = ref.apiVersion ? findKind(ref.apiVersion, ref.kind) : RESOURCES.find((r) => r.kind === ref.kind && hasScale(r));
  if (!info) {
    const group = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/')[0] : '';
    throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
  }
  if (!hasScale(info)) throw new Error(`${info.resource} has no scale subresource`);
  return info;
}

/** "10s", "1m30s", "500ms" as milliseconds (the Durations metrics.k8s.io serves). */
export function parseWindow(s: string | undefined): number {
  let ms = 0;
  for (const m of (s ?? '').matchAll(/([\d.]+)(ms|s|m|h)/g)) ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return ms;
}

/** Upstream's resource metrics client: each pod's usage summed over its containers (or the one named), pods lacking it left out. */
export function podMetricsInfo(items: PodMetrics[], resource: string, container: string): PodMetricsInfo {
  const out: PodMetricsInfo = new Map();
  if (!items.length) throw new Error('no metrics returned from resource metrics API');
  for (const m of items) {
    const containers = (m.containers ?? []).filter((c) => !container || c.name === container);
    if (container && !containers.length) throw new Error(`failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata.namespace}/${m.metadata.name}`);
    let sum = 0;
    let missing = containers.length === 0;
    for (const c of containers) {
      const v = c.usage?.[resource];
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += Number(Quantity.parse(v).milliValue());
    }
    if (!missing) out.set(m.metadata.name!, { value: sum, timestampMs: m.timestamp ? Date.parse(m.timestamp) : 0, windowMs: parseWindow(m.window) });
  }
  return out;
}

export function horizontalControllerClient(client: RestClient): HorizontalControllerClient {
  const hpas = findResource('autoscaling', 'v2', 'horizontalpodautoscalers')!;
  const podMetrics = findResource('metrics.k8s.io', 'v1beta1', 'pods')!;
  return {
    getScale: (ns, ref) => client.request<Scale>({ path: resourcePath(scaleTargetResource(ref), ns, ref.name, 'scale') }),
    updateScale: (ns, ref, scale) => client.request<Scale>({ method: 'PUT', path: resourcePath(scaleTargetResource(ref), ns, ref.name, 'scale'), body: scale }),
    async getResourceMetric(resource, ns, selector, container) {
      let list: KubeList<PodMetrics>;
      try {
        list = await client.request<KubeList<PodMetrics>>({ path: resourcePath(podMetrics, ns), query: { labelSelector: selector } });
      } catch (err) {
        throw new Error(`unable to fetch metrics from resource metrics API: ${(err as Error).message}`);
      }
      return podMetricsInfo(list.items ?? [], resource, container);
    },
    updateStatus: (hpa: HorizontalPodAutoscaler) => client.resource(hpas, hpa.metadata!.namespace).updateStatus(hpa as KubeObject),
  };
}

export const startHorizontalPodAutoscalerController: StartFunc = (ctx) => {
  const hpas = findResource('autoscaling', 'v2', 'horizontalpodautoscalers');
  if (!hpas) return undefined;
  const controller = new HorizontalController({
    hpaInformer: ctx.informers.forResource(hpas),
    podInformer: ctx.informers.forResource(findResource('', 'v1', 'pods')!),
    client: horizontalControllerClient(ctx.client),
    recorder: ctx.eventBroadcaster.newRecorder({ component: 'horizontal-pod-autoscaler' }),
    syncPeriodMs: ctx.config.hpaSyncPeriodMs,
    downscaleStabilizationMs: ctx.config.hpaDownscaleStabilizationMs,
    tolerance: ctx.config.hpaTolerance,
    cpuInitializationPeriodMs: ctx.config.hpaCPUInitializationPeriodMs,
    delayOfInitialReadinessStatusMs: ctx.config.hpaInitialReadinessDelayMs,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'horizontal-pod-autoscaler-controller'),
  });
  return { controller, workers: WORKERS };
};
