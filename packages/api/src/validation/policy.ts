// policy/v1 validation: PodDisruptionBudget, as upstream's pkg/apis/policy/validation.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { notMoreThan100Percent, validatePositiveIntOrPercent } from './apps.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { nonNegative, validateLabelSelector } from './util.js';

type Errs = FieldError[];
const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };
const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validateSpec(pdb: PodDisruptionBudget): Errs {
  const spec = pdb.spec ?? {};
  const errs: Errs = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(fieldErrors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable'] as const) {
    errs.push(...validatePositiveIntOrPercent(spec[f], `spec.${f}`), ...notMoreThan100Percent(spec[f], `spec.${f}`));
  }
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): Errs {
  return [...validateObjectMeta(pdb.metadata, ns), ...validateSpec(pdb)];
}

export function validatePodDisruptionBudgetUpdate(pdb: PodDisruptionBudget, old: PodDisruptionBudget): Errs {
  return [...validateObjectMetaUpdate(pdb.metadata, old.metadata), ...validateSpec(pdb)];
}

/** The counts the disruption controller writes are never negative. */
export function validatePodDisruptionBudgetStatus(pdb: PodDisruptionBudget): Errs {
  const s = pdb.status;
  if (!s) return [];
  return (['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const).flatMap((f) => nonNegative(s[f], `status.${f}`));
}
