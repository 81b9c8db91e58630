// apps/v1 validation: Deployment, ReplicaSet, DaemonSet, StatefulSet and ControllerRevision, as
// upstream's pkg/apis/apps/validation. In apps/v1 a workload's spec.selector is immutable.
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isValidPercent } from './names.js';
import { validatePodTemplateSpec } from './pod.js';
import { validateReplicaCounts } from './core.js';
import {
  child,
  deepEqual,
  immutable,
  msgsToInvalid,
  nonNegative,
  positive,
  selectorIsEmpty,
  selectorMatches,
  validateLabelSelector,
  type LabelSelectorLike,
} from './util.js';

type Errs = FieldError[];
const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };

/** A nil or empty selector cannot be checked against the template; otherwise the template labels must match. */
function validateSelectorAndTemplate(
  selector: LabelSelectorLike | undefined,
  template: PodTemplateSpec | undefined,
  path: string,
  kind: string,
  required = true,
): Errs {
  const errs: Errs = [];
  const selPath = child(path, 'selector');
  if (!selector) {
    if (required) errs.push(fieldErrors.required(selPath, ''));
  } else {
    errs.push(...validateLabelSelector(selector, selPath));
    if (selectorIsEmpty(selector)) errs.push(fieldErrors.invalid(selPath, selector, `empty selector is invalid for ${kind}`));
  }
  const tPath = child(path, 'template');
  if (!template) {
    errs.push(fieldErrors.required(tPath, ''));
    return errs;
  }
  if (selector && !selectorIsEmpty(selector) && !selectorMatches(selector, template.metadata?.labels)) {
    errs.push(fieldErrors.invalid(child(tPath, 'metadata', 'labels'), template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, tPath));
  return errs;
}

function validateAlwaysRestart(template: PodTemplateSpec | undefined, path: string, kind: string): Errs {
  const errs: Errs = [];
  const spec = template?.spec;
  if (!spec) return errs;
  if (spec.restartPolicy !== 'Always') errs.push(fieldErrors.notSupported(child(path, 'template', 'spec', 'restartPolicy'), spec.restartPolicy ?? '', ['Always']));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    errs.push(fieldErrors.forbidden(child(path, 'template', 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return Number(v.slice(0, -1));
  return -1;
}

/** A non-negative integer or a valid percentage (upstream's ValidatePositiveIntOrPercent). */
export function validatePositiveIntOrPercent(v: unknown, path: string): Errs {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return msgsToInvalid(isValidPercent(v), path, v);
  return nonNegative(v, path);
}

/** Upstream's IsNotMoreThan100Percent. */
export function notMoreThan100Percent(v: unknown, path: string): Errs {
  if (typeof v === 'string' && /^\d+%$/.test(v) && Number(v.slice(0, -1)) > 100) return [fieldErrors.invalid(path, v, 'must not be greater than 100%')];
  return [];
}

function validateRollingUpdate(ru: { maxUnavailable?: unknown; maxSurge?: unknown }, path: string): Errs {
  const errs: Errs = [];
  errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(path, 'maxUnavailable')));
  errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(path, 'maxSurge')));
  if (intOrPercentValue(ru.maxUnavailable ?? 0) === 0 && intOrPercentValue(ru.maxSurge ?? 0) === 0) {
    errs.push(fieldErrors.invalid(child(path, 'maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
  }
  errs.push(...notMoreThan100Percent(ru.maxUnavailable, child(path, 'maxUnavailable')));
  return errs;
}

// ---- Deployment ----

function validateDeploymentSpec(d: Deployment): Errs {
  const spec = d.spec ?? ({} as NonNullable<Deployment['spec']>);
  const errs: Errs = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'spec', 'deployment'));
  errs.push(...validateAlwaysRestart(spec.template, 'spec', 'ReplicaSet'));
  const st = spec.strategy;
  const sp = 'spec.strategy';
  switch (st?.type) {
    case 'Recreate':
      if (st.rollingUpdate) errs.push(fieldErrors.forbidden(child(sp, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate':
      if (!st.rollingUpdate) errs.push(fieldErrors.required(child(sp, 'rollingUpdate'), 'this should be defaulted and never be nil'));
      else errs.push(...validateRollingUpdate(st.rollingUpdate, child(sp, 'rollingUpdate')));
      break;
    default:
      errs.push(fieldErrors.notSupported(sp, st ?? null, ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    errs.push(...positive(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateDeployment(d: Deployment): Errs {
  return [...validateObjectMeta(d.metadata, ns), ...validateDeploymentSpec(d)];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): Errs {
  return [
    ...validateObjectMetaUpdate(d.metadata, old.metadata),
    ...validateDeploymentSpec(d),
    ...immutable(d.spec?.selector ?? null, old.spec?.selector ?? null, 'spec.selector'),
  ];
}

export function validateDeploymentStatus(d: Deployment): Errs {
  const s = (d.status ?? {}) as Record<string, unknown>;
  const errs: Errs = [];
  for (const f of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount']) {
    errs.push(...nonNegative(s[f], child('status', f)));
  }
  const n = (f: string) => (typeof s[f] === 'number' ? (s[f] as number) : 0);
  const msg = 'cannot be greater than status.replicas';
  for (const f of ['updatedReplicas', 'readyReplicas', 'availableReplicas']) {
    if (n(f) > n('replicas')) errs.push(fieldErrors.invalid(child('status', f), n(f), msg));
  }
  if (n('availableReplicas') > n('readyReplicas')) errs.push(fieldErrors.invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than readyReplicas'));
  return errs;
}

// ---- ReplicaSet ----

function validateReplicaSetSpec(rs: ReplicaSet): Errs {
  const spec = rs.spec ?? ({} as NonNullable<ReplicaSet['spec']>);
  const errs: Errs = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'spec', 'deployment'));
  errs.push(...validateAlwaysRestart(spec.template, 'spec', 'ReplicaSet'));
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): Errs {
  return [...validateObjectMeta(rs.metadata, ns), ...validateReplicaSetSpec(rs)];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): Errs {
  return [
    ...validateObjectMetaUpdate(rs.metadata, old.metadata),
    ...validateReplicaSetSpec(rs),
    ...immutable(rs.spec?.selector ?? null, old.spec?.selector ?? null, 'spec.selector'),
  ];
}

export function validateReplicaSetStatus(rs: ReplicaSet): Errs {
  return validateReplicaCounts(rs.status as Record<string, unknown> | undefined);
}

// ---- DaemonSet ----

function validateDaemonSetSpec(ds: DaemonSet): Errs {
  const spec = ds.spec ?? ({} as NonNullable<DaemonSet['spec']>);
  const errs: Errs = [];
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'spec', 'daemonset'));
  errs.push(...validateAlwaysRestart(spec.template, 'spec', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const us = spec.updateStrategy;
  const up = 'spec.updateStrategy';
  switch (us?.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate':
      if (!us.rollingUpdate) errs.push(fieldErrors.required(child(up, 'rollingUpdate'), ''));
      else errs.push(...validateRollingUpdate(us.rollingUpdate, child(up, 'rollingUpdate')));
      break;
    default:
      errs.push(fieldErrors.notSupported(up, us ?? null, ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}

export function validateDaemonSet(ds: DaemonSet): Errs {
  return [...validateObjectMeta(ds.metadata, ns), ...validateDaemonSetSpec(ds)];
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): Errs {
  return [
    ...validateObjectMetaUpdate(ds.metadata, old.metadata),
    ...validateDaemonSetSpec(ds),
    ...immutable(ds.spec?.selector ?? null, old.spec?.selector ?? null, 'spec.selector'),
  ];
}

export function validateDaemonSetStatus(ds: DaemonSet): Errs {
  const s = (ds.status ?? {}) as Record<string, unknown>;
  const errs: Errs = [];
  const counts = ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration'];
  counts.push('updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount');
  for (const f of counts) {
    errs.push(...nonNegative(s[f], child('status', f)));
  }
  return errs;
}

// ---- StatefulSet ----

function validateStatefulSetSpec(ss: StatefulSet): Errs {
  const spec = ss.spec ?? ({} as NonNullable<StatefulSet['spec']>);
  const errs: Errs = [];
  switch (spec.podManagementPolicy ?? '') {
    case '':
      errs.push(fieldErrors.required('spec.podManagementPolicy', ''));
      break;
    case 'OrderedReady':
    case 'Parallel':
      break;
    default:
      errs.push(fieldErrors.invalid('spec.podManagementPolicy', spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = spec.updateStrategy;
  switch (us?.type ?? '') {
    case '':
      errs.push(fieldErrors.required('spec.updateStrategy', ''));
      break;
    case 'OnDelete':
      if (us?.rollingUpdate) errs.push(fieldErrors.invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (us?.rollingUpdate) {
        errs.push(...nonNegative(us.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
        const mu = us.rollingUpdate.maxUnavailable;
        if (mu !== undefined) {
          errs.push(...validatePositiveIntOrPercent(mu, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
          if (intOrPercentValue(mu) === 0) errs.push(fieldErrors.invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', mu, 'must be greater than 0'));
          errs.push(...notMoreThan100Percent(mu, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        }
      }
      break;
    default:
      errs.push(fieldErrors.invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const pol = spec.persistentVolumeClaimRetentionPolicy;
  if (pol) {
    for (const f of ['whenDeleted', 'whenScaled'] as const) {
      const v = pol[f];
      if (v !== undefined && v !== 'Retain' && v !== 'Delete') {
        errs.push(fieldErrors.notSupported(child('spec.persistentVolumeClaimRetentionPolicy', f), v, ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  // Containers mount the volumeClaimTemplates by name: the controller adds them to each pod as claim volumes.
  const claimVolumes = (spec.volumeClaimTemplates ?? [])
    .filter((t) => t?.metadata?.name && !(spec.template?.spec?.volumes ?? []).some((v) => v.name === t.metadata!.name))
    .map((t) => ({ name: t.metadata!.name!, persistentVolumeClaim: { claimName: t.metadata!.name! } }));
  const template = claimVolumes.length && spec.template?.spec ? { ...spec.template, spec: { ...spec.template.spec, volumes: [...(spec.template.spec.volumes ?? []), ...claimVolumes] } } : spec.template;
  errs.push(...validateSelectorAndTemplate(spec.selector, template, 'spec', 'statefulset'));
  errs.push(...validateAlwaysRestart(spec.template, 'spec', 'StatefulSet'));
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    if (!t?.metadata?.name) errs.push(fieldErrors.required(`spec.volumeClaimTemplates[${i}].metadata.name`, ''));
  });
  return errs;
}

export function validateStatefulSet(ss: StatefulSet): Errs {
  return [...validateObjectMeta(ss.metadata, ns), ...validateStatefulSetSpec(ss)];
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

export function validateStatefulSetUpdate(ss: StatefulSet, old: StatefulSet): Errs {
  const errs = [...validateObjectMetaUpdate(ss.metadata, old.metadata), ...validateStatefulSetSpec(ss)];
  const strip = (s: unknown) => Object.fromEntries(Object.entries((s ?? {}) as Record<string, unknown>).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (!deepEqual(strip(ss.spec), strip(old.spec))) {
    errs.push(
      fieldErrors.forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

export function validateStatefulSetStatus(ss: StatefulSet): Errs {
  const s = (ss.status ?? {}) as Record<string, unknown>;
  const errs: Errs = [];
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount']) {
    errs.push(...nonNegative(s[f], child('status', f)));
  }
  const n = (f: string) => (typeof s[f] === 'number' ? (s[f] as number) : 0);
  const msg = 'cannot be greater than status.replicas';
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    if (n(f) > n('replicas')) errs.push(fieldErrors.invalid(child('status', f), n(f), msg));
  }
  if (n('availableReplicas') > n('readyReplicas')) errs.push(fieldErrors.invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than status.readyReplicas'));
  return errs;
}

// ---- ControllerRevision ----

export function validateControllerRevision(cr: ControllerRevision): Errs {
  const errs = validateObjectMeta(cr.metadata, ns);
  if (cr.data === undefined || cr.data === null) errs.push(fieldErrors.required('data', 'data is mandatory'));
  errs.push(...nonNegative(cr.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(cr: ControllerRevision, old: ControllerRevision): Errs {
  const errs = validateObjectMetaUpdate(cr.metadata, old.metadata);
  errs.push(...nonNegative(cr.revision, 'revision'));
  errs.push(...immutable(cr.data ?? null, old.data ?? null, 'data'));
  return errs;
}
