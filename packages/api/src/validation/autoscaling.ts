// autoscaling/v2 validation: HorizontalPodAutoscaler, as upstream's pkg/apis/autoscaling/validation
// (HPAScaleToZero off: minReplicas >= 1). autoscaling/v1 objects are validated in their v2 form.
import type {
  CrossVersionObjectReference,
  HPAScalingRules,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerSpec,
  MetricIdentifier,
  MetricSpec,
  MetricTarget,
} from 'kubernetes-types/autoscaling/v2';
import { fieldErrors, type FieldError } from '../field-error.js';
import { Quantity } from '../quantity.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate, validatePathSegmentName } from './meta.js';
import { child, index, msgsToInvalid, nonNegative, validateLabelSelector } from './util.js';

type Errs = FieldError[];
const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };

/** Upstream's MaxPeriodSeconds and MaxStabilizationWindowSeconds. */
export const MAX_PERIOD_SECONDS = 1800;
export const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELDS: Record<string, keyof MetricSpec> = {
  ContainerResource: 'containerResource',
  External: 'external',
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
};
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];

export function validateCrossVersionObjectReference(ref: CrossVersionObjectReference | undefined, path: string): Errs {
  const errs: Errs = [];
  if (!ref?.kind) errs.push(fieldErrors.required(child(path, 'kind'), ''));
  else errs.push(...msgsToInvalid(validatePathSegmentName(ref.kind, false), child(path, 'kind'), ref.kind));
  if (!ref?.name) errs.push(fieldErrors.required(child(path, 'name'), ''));
  else errs.push(...msgsToInvalid(validatePathSegmentName(ref.name, false), child(path, 'name'), ref.name));
  return errs;
}

function positiveQuantity(v: string | number | undefined, path: string): Errs {
  if (v === undefined) return [];
  try {
    if (Quantity.parse(v).sign() <= 0) return [fieldErrors.invalid(path, v, 'must be positive')];
  } catch {
    return [fieldErrors.invalid(path, v, 'must be positive')];
  }
  return [];
}

function validateMetricTarget(t: MetricTarget | undefined, path: string): Errs {
  const errs: Errs = [];
  const target = t ?? ({} as MetricTarget);
  if (!target.type) errs.push(fieldErrors.required(child(path, 'type'), 'must specify a metric target type'));
  else if (!['Utilization', 'Value', 'AverageValue'].includes(target.type)) {
    errs.push(fieldErrors.invalid(child(path, 'type'), target.type, 'must be either Utilization, Value, or AverageValue'));
  }
  if (target.averageUtilization !== undefined && target.averageUtilization < 1) {
    errs.push(fieldErrors.invalid(child(path, 'averageUtilization'), target.averageUtilization, 'must be greater than 0'));
  }
  errs.push(...positiveQuantity(target.value, child(path, 'value')), ...positiveQuantity(target.averageValue, child(path, 'averageValue')));
  return errs;
}

function validateMetricIdentifier(id: MetricIdentifier | undefined, path: string): Errs {
  if (!id?.name) return [fieldErrors.required(child(path, 'name'), 'must specify a metric name')];
  const errs = msgsToInvalid(validatePathSegmentName(id.name, false), child(path, 'name'), id.name);
  if (id.selector) errs.push(...validateLabelSelector(id.selector, child(path, 'selector')));
  return errs;
}

function validateResourceTarget(target: MetricTarget | undefined, path: string): Errs {
  const errs = validateMetricTarget(target, child(path, 'target'));
  if (target?.averageUtilization === undefined && target?.averageValue === undefined) {
    errs.push(fieldErrors.required(child(path, 'target', 'averageUtilization'), 'must set either a target raw value or a target utilization'));
  }
  if (target?.averageUtilization !== undefined && target?.averageValue !== undefined) {
    errs.push(fieldErrors.forbidden(child(path, 'target', 'averageValue'), 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function validateMetricSpec(m: MetricSpec, path: string): Errs {
  const errs: Errs = [];
  if (!m.type) {
    errs.push(fieldErrors.required(child(path, 'type'), 'must specify a metric source type'));
  } else if (!SOURCE_TYPES.includes(m.type)) {
    errs.push(fieldErrors.notSupported(child(path, 'type'), m.type, SOURCE_TYPES));
  }
  const populated = Object.entries(SOURCE_FIELDS).filter(([, f]) => m[f] != null);
  if (m.type && SOURCE_TYPES.includes(m.type)) {
    const own = SOURCE_FIELDS[m.type]!;
    if (m[own] == null) errs.push(fieldErrors.required(child(path, own), 'must populate information for the given metric source'));
    if (populated.some(([t]) => t !== m.type)) errs.push(fieldErrors.forbidden(path, 'must populate the given metric source only'));
  }
  if (m.type === 'Resource' && m.resource) {
    const p = child(path, 'resource');
    if (!m.resource.name) errs.push(fieldErrors.required(child(p, 'name'), 'must specify a resource name'));
    errs.push(...validateResourceTarget(m.resource.target, p));
  }
  if (m.type === 'ContainerResource' && m.containerResource) {
    const p = child(path, 'containerResource');
    if (!m.containerResource.name) errs.push(fieldErrors.required(child(p, 'name'), 'must specify a resource name'));
    if (!m.containerResource.container) errs.push(fieldErrors.required(child(p, 'container'), 'must specify a container'));
    errs.push(...validateResourceTarget(m.containerResource.target, p));
  }
  if (m.type === 'Pods' && m.pods) {
    const p = child(path, 'pods');
    errs.push(...validateMetricIdentifier(m.pods.metric, child(p, 'metric')), ...validateMetricTarget(m.pods.target, child(p, 'target')));
    if (m.pods.target?.averageValue === undefined) errs.push(fieldErrors.required(child(p, 'target', 'averageValue'), 'must specify a positive target averageValue'));
  }
  if (m.type === 'Object' && m.object) {
    const p = child(path, 'object');
    errs.push(
      ...validateCrossVersionObjectReference(m.object.describedObject, child(p, 'describedObject')),
      ...validateMetricIdentifier(m.object.metric, child(p, 'metric')),
      ...validateMetricTarget(m.object.target, child(p, 'target')),
    );
    if (m.object.target?.value === undefined && m.object.target?.averageValue === undefined) {
      errs.push(fieldErrors.required(child(p, 'target', 'averageValue'), 'must set either a target value or averageValue'));
    }
  }
  if (m.type === 'External' && m.external) {
    const p = child(path, 'external');
    errs.push(...validateMetricIdentifier(m.external.metric, child(p, 'metric')), ...validateMetricTarget(m.external.target, child(p, 'target')));
    const t = m.external.target;
    if (t?.value === undefined && t?.averageValue === undefined) {
      errs.push(fieldErrors.required(child(p, 'target', 'averageValue'), 'must set either a target value for metric or a per-pod target'));
    }
    if (t?.value !== undefined && t?.averageValue !== undefined) {
      errs.push(fieldErrors.forbidden(child(p, 'target', 'value'), 'may not set both a target value for metric and a per-pod target'));
    }
  }
  return errs;
}

function validateScalingRules(rules: HPAScalingRules | undefined, path: string): Errs {
  if (!rules) return [];
  const errs: Errs = [];
  const w = rules.stabilizationWindowSeconds;
  if (w !== undefined && w < 0) errs.push(fieldErrors.invalid(child(path, 'stabilizationWindowSeconds'), w, 'must be greater than or equal to zero'));
  if (w !== undefined && w > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(fieldErrors.invalid(child(path, 'stabilizationWindowSeconds'), w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (rules.selectPolicy !== undefined && !SELECT_POLICIES.includes(rules.selectPolicy)) {
    errs.push(fieldErrors.notSupported(child(path, 'selectPolicy'), rules.selectPolicy, SELECT_POLICIES));
  }
  const policies = rules.policies ?? [];
  if (!policies.length) errs.push(fieldErrors.required(child(path, 'policies'), 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = index(child(path, 'policies'), i);
    if (!POLICY_TYPES.includes(p.type)) errs.push(fieldErrors.notSupported(child(pp, 'type'), p.type, POLICY_TYPES));
    if (!(p.value > 0)) errs.push(fieldErrors.invalid(child(pp, 'value'), p.value, 'must be greater than zero'));
    if (!(p.periodSeconds > 0)) errs.push(fieldErrors.invalid(child(pp, 'periodSeconds'), p.periodSeconds, 'must be greater than zero'));
    else if (p.periodSeconds > MAX_PERIOD_SECONDS) {
      errs.push(fieldErrors.invalid(child(pp, 'periodSeconds'), p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
    }
  });
  return errs;
}

function validateSpec(spec: HorizontalPodAutoscalerSpec | undefined): Errs {
  const s = spec ?? ({} as HorizontalPodAutoscalerSpec);
  const errs: Errs = [];
  if (s.minReplicas !== undefined && s.minReplicas < 1) errs.push(fieldErrors.invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  if (!(s.maxReplicas >= 1)) errs.push(fieldErrors.invalid('spec.maxReplicas', s.maxReplicas ?? 0, 'must be greater than 0'));
  if (s.minReplicas !== undefined && s.maxReplicas < s.minReplicas) {
    errs.push(fieldErrors.invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  errs.push(...validateCrossVersionObjectReference(s.scaleTargetRef, 'spec.scaleTargetRef'));
  (s.metrics ?? []).forEach((m, i) => errs.push(...validateMetricSpec(m, index('spec.metrics', i))));
  if (s.behavior) {
    errs.push(...validateScalingRules(s.behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateScalingRules(s.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): Errs {
  return [...validateObjectMeta(hpa.metadata, ns), ...validateSpec(hpa.spec)];
}

export function validateHorizontalPodAutoscalerUpdate(hpa: HorizontalPodAutoscaler, old: HorizontalPodAutoscaler): Errs {
  return [...validateObjectMetaUpdate(hpa.metadata, old.metadata), ...validateSpec(hpa.spec)];
}

/** The replica counts the controller writes are never negative. */
export function validateHorizontalPodAutoscalerStatus(hpa: HorizontalPodAutoscaler): Errs {
  const s = hpa.status;
  if (!s) return [];
  return [...nonNegative(s.currentReplicas, 'status.currentReplicas'), ...nonNegative(s.desiredReplicas, 'status.desiredReplicas')];
}
