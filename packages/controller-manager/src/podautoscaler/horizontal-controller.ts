// The horizontal pod autoscaler controller (upstream's pkg/controller/podautoscaler/horizontal.go): every
// HPA is reconciled once per --horizontal-pod-autoscaler-sync-period. It reads the target's /scale, computes
// a replica count for each metric (Resource metrics from metrics.k8s.io PodMetrics against the pods'
// requests; other metric sources are reported as unavailable), takes the largest, stabilizes it over the
// behavior's windows (scale-down: --horizontal-pod-autoscaler-downscale-stabilization unless the behavior
// sets one), limits it by the scaling policies and min/max, writes /scale, and reports status, the
// AbleToScale / ScalingActive / ScalingLimited conditions and the SuccessfulRescale / Failed* events.
import { completeScalingRules, defaultScaleDownRules, defaultScaleUpRules, isNotFound, parseSelector, Quantity, rfc3339, type KubeObject } from '@kubelab/api';
import { metaNamespaceKey, realClock, WorkQueue, type Clock, type EventRecorder, type Informer, type Logger } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import type {
  CrossVersionObjectReference,
  HPAScalingRules,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
  MetricValueStatus,
} from 'kubernetes-types/autoscaling/v2';
import { runQueue, type RunnableController } from '../controller-utils.js';
import { getRawResourceReplicas, getResourceReplicas, ReplicaCalculationError, type PodMetricsInfo, type ReplicaCalculatorOptions } from './replica-calculator.js';

/** The autoscaling/v1 Scale of a target. */
export interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

/** The controller's reads and writes (upstream's scale client, metrics client and HPA client). */
export interface HorizontalControllerClient {
  getScale(namespace: string, ref: CrossVersionObjectReference): Promise<Scale>;
  updateScale(namespace: string, ref: CrossVersionObjectReference, scale: Scale): Promise<Scale>;
  /** The pods' metrics of `resource` in milli-units, from metrics.k8s.io (upstream's resource metrics client). */
  getResourceMetric(resource: string, namespace: string, selector: string, container: string): Promise<PodMetricsInfo>;
  updateStatus(hpa: HorizontalPodAutoscaler): Promise<unknown>;
}

export interface HorizontalControllerOptions extends ReplicaCalculatorOptions {
  hpaInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  client: HorizontalControllerClient;
  recorder: EventRecorder;
  /** --horizontal-pod-autoscaler-sync-period (15s). */
  syncPeriodMs: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5m). */
  downscaleStabilizationMs: number;
  clock?: Clock;
  logger?: Logger;
}

interface TimestampedRecommendation {
  recommendation: number;
  timestampMs: number;
}

export interface TimestampedScaleEvent {
  replicaChange: number;
  timestampMs: number;
}

class MetricError extends Error {
  constructor(
    message: string,
    readonly condition: HorizontalPodAutoscalerCondition,
  ) {
    super(message);
  }
}

interface MetricProposal {
  replicas: number;
  status: MetricStatus;
  name: string;
}

/** The scale-up and scale-down rules in effect: the HPA's behavior completed with upstream's defaults. */
function effectiveRules(hpa: HorizontalPodAutoscaler, downscaleStabilizationMs: number): { up: HPAScalingRules; down: HPAScalingRules } {
  const b = hpa.spec?.behavior;
  const up = completeScalingRules(b?.scaleUp, defaultScaleUpRules());
  const down = completeScalingRules(b?.scaleDown, defaultScaleDownRules());
  return { up, down: { ...down, stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? Math.round(downscaleStabilizationMs / 1000) } };
}

export class HorizontalController implements RunnableController {
  readonly name = 'horizontal-pod-autoscaler-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: HorizontalControllerOptions;
  private readonly clock: Clock;
  /** Per HPA key: the recent unstabilized recommendations and scale events (upstream's in-memory state). */
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUpEvents = new Map<string, TimestampedScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, TimestampedScaleEvent[]>();

  constructor(opts: HorizontalControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'horizontalpodautoscaler', clock: this.clock });
    // As upstream, every request waits one sync period; a request already waiting is not moved.
    const enqueue = (hpa: KubeObject) => this.queue.addAfter(metaNamespaceKey(hpa), this.opts.syncPeriodMs);
    opts.hpaInformer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, hpa) => enqueue(hpa),
      onDelete: (hpa) => this.forgetHPA(metaNamespaceKey(hpa)),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (k) => this.sync(k), signal, this.opts.logger);
  }

  private forgetHPA(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** Reconciles one HPA and queues it again after the sync period while it exists (upstream's processNextWorkItem). */
  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const cached = this.opts.hpaInformer.lister.get(key.slice(0, slash), key.slice(slash + 1)) as HorizontalPodAutoscaler | undefined;
    if (!cached) {
      this.forgetHPA(key);
      return;
    }
    try {
      await this.reconcile(key, structuredClone(cached));
    } catch (err) {
      this.opts.logger?.warn?.({ err: (err as Error).message, key }, 'Failed to reconcile HorizontalPodAutoscaler');
    }
    this.queue.addAfter(key, this.opts.syncPeriodMs);
  }

  private now(): string {
    return rfc3339(new Date(this.clock.now()));
  }

  /** Sets a condition, keeping lastTransitionTime while its status is unchanged (upstream's setCondition). */
  private setCondition(hpa: HorizontalPodAutoscaler, type: string, status: 'True' | 'False', reason: string, message: string): void {
    hpa.status ??= { desiredReplicas: 0 };
    const conditions = (hpa.status.conditions ??= []);
    const existing = conditions.find((c) => c.type === type);
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = this.now();
      Object.assign(existing, { status, reason, message });
    } else {
      conditions.push({ type, status, lastTransitionTime: this.now(), reason, message });
    }
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscalerStatus | undefined, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (JSON.stringify(original ?? {}) === JSON.stringify(hpa.status ?? {})) return;
    try {
      await this.opts.client.updateStatus(hpa);
    } catch (err) {
      if (isNotFound(err)) return;
      this.opts.recorder.event(hpa as KubeObject, 'Warning', 'FailedUpdateStatus', (err as Error).message);
      throw new Error(`failed to update status for ${hpa.metadata?.name}: ${(err as Error).message}`);
    }
  }

  private setStatus(hpa: HorizontalPodAutoscaler, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[], rescale: boolean): void {
    const prev = hpa.status;
    hpa.status = {
      ...(prev?.observedGeneration !== undefined ? { observedGeneration: prev.observedGeneration } : {}),
      ...(rescale ? { lastScaleTime: this.now() } : prev?.lastScaleTime ? { lastScaleTime: prev.lastScaleTime } : {}),
      currentReplicas,
      desiredReplicas,
      ...(metrics.length ? { currentMetrics: metrics } : {}),
      ...(prev?.conditions ? { conditions: prev.conditions } : {}),
    };
  }

  /** Upstream's reconcileAutoscaler. */
  async reconcile(key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const original = structuredClone(hpa.status);
    const ns = hpa.metadata!.namespace!;
    const ref = hpa.spec!.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;

    let scale: Scale;
    try {
      scale = await this.opts.client.getScale(ns, ref);
    } catch (err) {
      const msg = (err as Error).message;
      this.opts.recorder.event(hpa as KubeObject, 'Warning', 'FailedGetScale', msg);
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      await this.updateStatusIfNeeded(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${msg}`);
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");

    const currentReplicas = scale.spec?.replicas ?? 0;
    const minReplicas = hpa.spec!.minReplicas ?? 1;
    const maxReplicas = hpa.spec!.maxReplicas;
    this.recordInitialRecommendation(key, currentReplicas);

    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] = [];
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      let computed: { replicas: number; metric: string; statuses: MetricStatus[] };
      try {
        computed = await this.computeReplicasForMetrics(hpa, scale, currentReplicas);
      } catch (err) {
        const failure = err as Error & { statuses?: MetricStatus[] };
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, failure.statuses ?? [], false);
        await this.updateStatusIfNeeded(original, hpa);
        this.opts.recorder.event(hpa as KubeObject, 'Warning', 'FailedComputeMetricsReplicas', failure.message);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${failure.message}`);
      }
      metricStatuses = computed.statuses;
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = hpa.spec!.behavior
        ? this.normalizeDesiredReplicasWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas)
        : this.normalizeDesiredReplicas(hpa, key, currentReplicas, desiredReplicas, minReplicas);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.opts.client.updateScale(ns, ref, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (err) {
        const msg = (err as Error).message;
        this.opts.recorder.eventf(hpa as KubeObject, 'Warning', 'FailedRescale', 'New size: %d; reason: %s; error: %v', desiredReplicas, rescaleReason, msg);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        throw new Error(`failed to rescale ${reference}: ${msg}`);
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.opts.recorder.eventf(hpa as KubeObject, 'Normal', 'SuccessfulRescale', 'New size: %d; reason: %s', desiredReplicas, rescaleReason);
      this.storeScaleEvent(hpa, key, currentReplicas, desiredReplicas);
      this.opts.logger?.info?.({ hpa: key, oldSize: currentReplicas, newSize: desiredReplicas, reason: rescaleReason }, 'Successful rescale');
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
  }

  /** The largest proposal over the metrics (upstream's computeReplicasForMetrics). */
  private async computeReplicasForMetrics(hpa: HorizontalPodAutoscaler, scale: Scale, currentReplicas: number) {
    const specs = hpa.spec?.metrics ?? [];
    const selectorText = scale.status?.selector;
    const fail = (reason: string, message: string): never => {
      this.opts.recorder.event(hpa as KubeObject, 'Warning', reason, message);
      this.setCondition(hpa, 'ScalingActive', 'False', reason, message);
      throw new Error(message);
    };
    if (!selectorText) fail('SelectorRequired', 'selector is required');
    try {
      parseSelector(selectorText!);
    } catch (err) {
      fail('InvalidSelector', `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`);
    }
    const statuses: MetricStatus[] = specs.map(() => ({ type: '' }) as MetricStatus);
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const [i, spec] of specs.entries()) {
      try {
        const p = await this.computeReplicasForMetric(hpa, spec, currentReplicas, selectorText!);
        statuses[i] = p.status;
        if (p.replicas > replicas) {
          replicas = p.replicas;
          metric = p.name;
        }
      } catch (err) {
        if (!(err instanceof MetricError)) throw err;
        invalid++;
        firstError ??= err;
      }
    }
    if (firstError && (invalid >= specs.length || replicas < (scale.spec?.replicas ?? 0))) {
      const c = firstError.condition;
      this.setCondition(hpa, c.type, c.status as 'True' | 'False', c.reason!, c.message!);
      throw Object.assign(new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`), { statuses });
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses };
  }

  private async computeReplicasForMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, currentReplicas: number, selector: string): Promise<MetricProposal> {
    const ns = hpa.metadata!.namespace!;
    const unable = (reason: string, err: string): MetricError => {
      this.opts.recorder.event(hpa as KubeObject, 'Warning', reason, err);
      return new MetricError(err, { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${err}` });
    };
    const source = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
    if (!source) {
      const reason = `FailedGet${spec.type}Metric`;
      throw unable(reason, `unable to get ${spec.type} metric: only Resource and ContainerResource metrics are served (metrics.k8s.io)`);
    }
    const reason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    const container = spec.type === 'ContainerResource' ? (spec.containerResource?.container ?? '') : '';
    const resource = source.name;
    const target = source.target;
    const pods = (this.opts.podInformer.lister.list(ns) as Pod[]).filter((p) => parseSelector(selector).matches(p.metadata?.labels ?? {}));
    const now = this.clock.now();
    let metrics: PodMetricsInfo;
    const fetch = async (what: string): Promise<PodMetricsInfo> => {
      try {
        return await this.opts.client.getResourceMetric(resource, ns, selector, container);
      } catch (err) {
        throw unable(reason, `failed to get ${resource} ${what}: unable to get metrics for resource ${resource}: ${(err as Error).message}`);
      }
    };
    const statusOf = (current: MetricValueStatus): MetricStatus =>
      spec.type === 'Resource' ? { type: 'Resource', resource: { name: resource, current } } : { type: 'ContainerResource', containerResource: { name: resource, container, current } };
    if (target.averageValue !== undefined) {
      metrics = await fetch('usage');
      try {
        const r = getRawResourceReplicas(currentReplicas, Number(quantityMilli(target.averageValue)), resource, pods, metrics, this.opts, now);
        return { replicas: r.replicas, status: statusOf({ averageValue: milliQuantity(r.rawUsage) }), name: `${resource} resource` };
      } catch (err) {
        if (err instanceof ReplicaCalculationError) throw unable(reason, `failed to get ${resource} usage: ${err.message}`);
        throw err;
      }
    }
    if (target.averageUtilization === undefined) {
      throw unable(reason, 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    }
    metrics = await fetch('utilization');
    try {
      const r = getResourceReplicas(currentReplicas, target.averageUtilization, resource, pods, metrics, this.opts, now, container);
      return {
        replicas: r.replicas,
        status: statusOf({ averageUtilization: r.utilization, averageValue: milliQuantity(r.rawUsage) }),
        name: spec.type === 'Resource' ? `${resource} resource utilization (percentage of request)` : `${resource} container resource utilization (percentage of request)`,
      };
    } catch (err) {
      if (err instanceof ReplicaCalculationError) throw unable(reason, `failed to get ${resource} utilization: ${err.message}`);
      throw err;
    }
  }

  private recordInitialRecommendation(key: string, currentReplicas: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestampMs: this.clock.now() }]);
  }

  /** Without a behavior: the highest recommendation of the downscale window, then min/max and a scale-up limit of max(2x, 4). */
  private normalizeDesiredReplicas(hpa: HorizontalPodAutoscaler, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const stabilized = this.stabilizeRecommendation(key, prenormalized);
    if (stabilized !== prenormalized) {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const { replicas, reason, message } = convertDesiredReplicasWithRules(currentReplicas, stabilized, minReplicas, hpa.spec!.maxReplicas);
    this.setCondition(hpa, 'ScalingLimited', replicas === stabilized ? 'False' : 'True', reason, message);
    return replicas;
  }

  /** The highest recommendation of the downscale window; the newest replaces an expired one (upstream's stabilizeRecommendation). */
  private stabilizeRecommendation(key: string, prenormalized: number): number {
    const now = this.clock.now();
    const cutoff = now - this.opts.downscaleStabilizationMs;
    let max = prenormalized;
    let oldSample = -1;
    const recs = this.recommendations.get(key) ?? [];
    recs.forEach((rec, i) => {
      if (rec.timestampMs < cutoff) oldSample = i;
      else max = Math.max(max, rec.recommendation);
    });
    if (oldSample >= 0) recs[oldSample] = { recommendation: prenormalized, timestampMs: now };
    else recs.push({ recommendation: prenormalized, timestampMs: now });
    this.recommendations.set(key, recs);
    return max;
  }

  /** Upstream's normalizeDesiredReplicasWithBehaviors. */
  private normalizeDesiredReplicasWithBehaviors(hpa: HorizontalPodAutoscaler, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const { up, down } = effectiveRules(hpa, this.opts.downscaleStabilizationMs);
    const stabilized = this.stabilizeRecommendationWithBehaviors(key, currentReplicas, prenormalized, up, down);
    if (stabilized.replicas !== prenormalized) this.setCondition(hpa, 'AbleToScale', 'True', stabilized.reason, stabilized.message);
    else this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    const limited = this.convertDesiredReplicasWithBehaviorRate(key, currentReplicas, stabilized.replicas, minReplicas, hpa.spec!.maxReplicas, up, down);
    this.setCondition(hpa, 'ScalingLimited', limited.replicas === stabilized.replicas ? 'False' : 'True', limited.reason, limited.message);
    return limited.replicas;
  }

  private stabilizeRecommendationWithBehaviors(key: string, currentReplicas: number, desired: number, up: HPAScalingRules, down: HPAScalingRules) {
    const now = this.clock.now();
    const upCutoff = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
    const downCutoff = now - (down.stabilizationWindowSeconds ?? 0) * 1000;
    let upRecommendation = desired;
    let downRecommendation = desired;
    let oldSample = -1;
    const recs = this.recommendations.get(key) ?? [];
    recs.forEach((rec, i) => {
      if (rec.timestampMs > upCutoff) upRecommendation = Math.min(rec.recommendation, upRecommendation);
      if (rec.timestampMs > downCutoff) downRecommendation = Math.max(rec.recommendation, downRecommendation);
      if (rec.timestampMs < upCutoff && rec.timestampMs < downCutoff) oldSample = i;
    });
    let recommendation = currentReplicas;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    if (oldSample >= 0) recs[oldSample] = { recommendation: desired, timestampMs: now };
    else recs.push({ recommendation: desired, timestampMs: now });
    this.recommendations.set(key, recs);
    return desired >= currentReplicas
      ? { replicas: recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { replicas: recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private convertDesiredReplicasWithBehaviorRate(
    key: string,
    currentReplicas: number,
    desired: number,
    minReplicas: number,
    maxReplicas: number,
    up: HPAScalingRules,
    down: HPAScalingRules,
  ): { replicas: number; reason: string; message: string } {
    const now = this.clock.now();
    const ups = this.scaleUpEvents.get(key) ?? [];
    const downs = this.scaleDownEvents.get(key) ?? [];
    if (desired > currentReplicas) {
      const limit = Math.max(calculateScaleUpLimitWithScalingRules(currentReplicas, ups, downs, up, now), currentReplicas);
      const [allowed, reason, message] =
        maxReplicas > limit
          ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
          : [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > allowed) return { replicas: allowed, reason, message };
    } else if (desired < currentReplicas) {
      const limit = Math.min(calculateScaleDownLimitWithBehaviors(currentReplicas, ups, downs, down, now), currentReplicas);
      const [allowed, reason, message] =
        minReplicas < limit
          ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
          : [minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < allowed) return { replicas: allowed, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  /** Remembers a rescale for the rate policies (only with a behavior, as upstream), dropping events older than every policy's period. */
  private storeScaleEvent(hpa: HorizontalPodAutoscaler, key: string, prev: number, next: number): void {
    if (!hpa.spec?.behavior) return;
    const { up, down } = effectiveRules(hpa, this.opts.downscaleStabilizationMs);
    const now = this.clock.now();
    const longest = (r: HPAScalingRules) => Math.max(0, ...(r.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const [map, rules, change] = next > prev ? [this.scaleUpEvents, up, next - prev] : [this.scaleDownEvents, down, prev - next];
    const events = (map.get(key) ?? []).filter((e) => e.timestampMs > now - longest(rules));
    events.push({ replicaChange: change, timestampMs: now });
    map.set(key, events);
  }
}

/** Upstream's convertDesiredReplicasWithRules (no behavior): min/max and a scale-up limit of max(2 x current, 4). */
export function convertDesiredReplicasWithRules(currentReplicas: number, desired: number, hpaMin: number, hpaMax: number): { replicas: number; reason: string; message: string } {
  const scaleUpLimit = Math.max(2 * currentReplicas, 4);
  let maximumAllowed: number;
  let reason: string;
  let message: string;
  if (hpaMax > scaleUpLimit) {
    maximumAllowed = scaleUpLimit;
    reason = 'ScaleUpLimit';
    message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maximumAllowed = hpaMax;
    reason = 'TooManyReplicas';
    message = 'the desired replica count is more than the maximum replica count';
  }
  if (desired < hpaMin) return { replicas: hpaMin, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desired > maximumAllowed) return { replicas: maximumAllowed, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

function changeInPeriod(periodSeconds: number, events: TimestampedScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.timestampMs > cutoff).reduce((n, e) => n + e.replicaChange, 0);
}

/** Upstream's calculateScaleUpLimitWithScalingRules. */
export function calculateScaleUpLimitWithScalingRules(
  currentReplicas: number,
  ups: TimestampedScaleEvent[],
  downs: TimestampedScaleEvent[],
  rules: HPAScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = currentReplicas - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** Upstream's calculateScaleDownLimitWithBehaviors. */
export function calculateScaleDownLimitWithBehaviors(
  currentReplicas: number,
  ups: TimestampedScaleEvent[],
  downs: TimestampedScaleEvent[],
  rules: HPAScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = currentReplicas - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function quantityMilli(v: string | number): bigint {
  return Quantity.parse(v).milliValue();
}

function milliQuantity(milli: number): string {
  return Quantity.fromMilliValue(milli).toString();
}
