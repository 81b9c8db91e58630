// batch/v1 validation: Job and CronJob, as upstream's pkg/apis/batch/validation.
import type { CronJob, Job, JobSpec, JobTemplateSpec } from 'kubernetes-types/batch/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label } from './names.js';
import { validatePodTemplateSpec } from './pod.js';
import { checkCronSchedule, isKnownTimeZone } from './cron.js';
import { child, deepEqual, immutable, nonNegative, selectorMatches, validateEnum, validateLabelSelector } from './util.js';

type Errs = FieldError[];
const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };
const MAX_PARALLELISM_INDEXED = 100000;

/** Upstream validateJobSpec (everything but the selector, which templates leave to the controller). */
function validateJobSpecCommon(spec: JobSpec | undefined, path: string): Errs {
  const s = spec ?? ({} as JobSpec);
  const errs: Errs = [];
  errs.push(...nonNegative(s.parallelism, child(path, 'parallelism')));
  errs.push(...nonNegative(s.completions, child(path, 'completions')));
  errs.push(...nonNegative(s.activeDeadlineSeconds, child(path, 'activeDeadlineSeconds')));
  errs.push(...nonNegative(s.backoffLimit, child(path, 'backoffLimit')));
  errs.push(...nonNegative(s.ttlSecondsAfterFinished, child(path, 'ttlSecondsAfterFinished')));
  if (s.completionMode !== undefined && s.completionMode !== null) {
    if (s.completionMode !== 'NonIndexed' && s.completionMode !== 'Indexed') {
      errs.push(fieldErrors.notSupported(child(path, 'completionMode'), s.completionMode, ['NonIndexed', 'Indexed']));
    }
    if (s.completionMode === 'Indexed') {
      if (s.completions === undefined || s.completions === null) errs.push(fieldErrors.required(child(path, 'completions'), 'when completion mode is Indexed'));
      if ((s.parallelism ?? 0) > MAX_PARALLELISM_INDEXED) {
        errs.push(fieldErrors.invalid(child(path, 'parallelism'), s.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
    }
  }
  if (s.backoffLimitPerIndex !== undefined && s.backoffLimitPerIndex !== null) {
    errs.push(...nonNegative(s.backoffLimitPerIndex, child(path, 'backoffLimitPerIndex')));
    if (s.completionMode !== 'Indexed') {
      errs.push(fieldErrors.forbidden(child(path, 'backoffLimitPerIndex'), 'requires indexed completion mode'));
    }
  }
  const tPath = child(path, 'template');
  errs.push(...validatePodTemplateSpec(s.template, tPath));
  const rp = s.template?.spec?.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never') {
    errs.push(fieldErrors.notSupported(child(tPath, 'spec', 'restartPolicy'), rp ?? '', ['OnFailure', 'Never']));
  } else if (rp !== 'Never' && s.podFailurePolicy) {
    errs.push(fieldErrors.invalid(child(tPath, 'spec', 'restartPolicy'), rp, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

function validateJobSpec(spec: JobSpec | undefined, path: string): Errs {
  const errs = validateJobSpecCommon(spec, path);
  const selPath = child(path, 'selector');
  if (!spec?.selector) errs.push(fieldErrors.required(selPath, ''));
  else {
    errs.push(...validateLabelSelector(spec.selector, selPath));
    if (!selectorMatches(spec.selector, spec.template?.metadata?.labels)) {
      errs.push(fieldErrors.invalid(child(path, 'template', 'metadata', 'labels'), spec.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
    }
  }
  return errs;
}

export function validateJob(job: Job): Errs {
  const errs = validateObjectMeta(job.metadata, ns);
  errs.push(...validateJobSpec(job.spec, 'spec'));
  const s = job.spec;
  if (s?.completionMode === 'Indexed' && (s.completions ?? 0) > 0 && job.metadata?.name) {
    const host = `${job.metadata.name}-${(s.completions ?? 1) - 1}`;
    if (isDNS1123Label(host).length > 0) {
      errs.push(fieldErrors.invalid('metadata.name', job.metadata.name, `will not able to create pod with invalid DNS label: ${host}`));
    }
  }
  return errs;
}

/** While a never-started Job is suspended, these template fields may change (upstream's mutable scheduling directives). */
const SUSPENDED_MUTABLE_TEMPLATE = ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates'];

export function validateJobUpdate(job: Job, old: Job): Errs {
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata);
  errs.push(...validateJobSpec(job.spec, 'spec'));
  const n = job.spec ?? ({} as JobSpec);
  const o = old.spec ?? ({} as JobSpec);
  if (n.completionMode === 'Indexed' && o.completionMode === 'Indexed') {
    if (n.completions !== o.completions && n.completions !== n.parallelism) {
      errs.push(fieldErrors.invalid('spec.completions', n.completions ?? null, 'can only be modified in tandem with spec.parallelism'));
    }
  } else {
    errs.push(...immutable(n.completions ?? null, o.completions ?? null, 'spec.completions'));
  }
  errs.push(...immutable(n.selector ?? null, o.selector ?? null, 'spec.selector'));
  // The pod template is immutable, except scheduling directives and labels/annotations of a job suspended before it started.
  const mutableWindow = !!o.suspend && !old.status?.startTime;
  const strip = (t: JobSpec['template'] | undefined) => {
    if (!t || !mutableWindow) return t ?? null;
    const spec = Object.fromEntries(Object.entries(t.spec ?? {}).filter(([k]) => !SUSPENDED_MUTABLE_TEMPLATE.includes(k)));
    return { ...t, metadata: { ...(t.metadata ?? {}), labels: undefined, annotations: undefined }, spec };
  };
  if (!deepEqual(strip(n.template), strip(o.template))) errs.push(fieldErrors.invalid('spec.template', n.template, 'field is immutable'));
  errs.push(...immutable(n.completionMode ?? null, o.completionMode ?? null, 'spec.completionMode'));
  errs.push(...immutable(n.podFailurePolicy ?? null, o.podFailurePolicy ?? null, 'spec.podFailurePolicy'));
  errs.push(...immutable(n.backoffLimitPerIndex ?? null, o.backoffLimitPerIndex ?? null, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(n.managedBy ?? null, o.managedBy ?? null, 'spec.managedBy'));
  return errs;
}

export function validateJobStatus(job: Job): Errs {
  const s = (job.status ?? {}) as Record<string, unknown>;
  const errs: Errs = [];
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errs.push(...nonNegative(s[f], child('status', f)));
  return errs;
}

// ---- CronJob ----

function validateJobTemplateSpec(t: JobTemplateSpec | undefined, path: string): Errs {
  const errs = validateJobSpecCommon(t?.spec, child(path, 'spec'));
  if (t?.spec?.selector) errs.push(fieldErrors.invalid(child(path, 'spec', 'selector'), t.spec.selector, '`selector` will be auto-generated'));
  if (t?.spec?.manualSelector) errs.push(fieldErrors.notSupported(child(path, 'spec', 'manualSelector'), t.spec.manualSelector, ['nil', 'false']));
  return errs;
}

function validateCronJobSpec(cj: CronJob, oldSchedule?: string): Errs {
  const spec = cj.spec ?? ({} as NonNullable<CronJob['spec']>);
  const errs: Errs = [];
  if (!spec.schedule) errs.push(fieldErrors.required('spec.schedule', ''));
  else {
    const e = checkCronSchedule(spec.schedule);
    if (e) errs.push(fieldErrors.invalid('spec.schedule', spec.schedule, e));
    const allowTZ = oldSchedule?.includes('TZ');
    if (spec.schedule.includes('TZ')) {
      if (!allowTZ) errs.push(fieldErrors.invalid('spec.schedule', spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
      else if (spec.timeZone !== undefined && spec.timeZone !== null) {
        errs.push(fieldErrors.invalid('spec.schedule', spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
      }
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (spec.timeZone !== undefined && spec.timeZone !== null) {
    if (spec.timeZone.toLowerCase() === 'local' || !isKnownTimeZone(spec.timeZone)) {
      errs.push(fieldErrors.invalid('spec.timeZone', spec.timeZone, 'unknown time zone'));
    }
  }
  errs.push(...validateEnum(spec.concurrencyPolicy, 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace']));
  errs.push(...validateJobTemplateSpec(spec.jobTemplate, 'spec.jobTemplate'));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export function validateCronJob(cj: CronJob): Errs {
  const errs = validateObjectMeta(cj.metadata, ns);
  const name = cj.metadata?.name ?? '';
  if (name.length > 52) errs.push(fieldErrors.invalid('metadata.name', name, 'must be no more than 52 characters'));
  errs.push(...validateCronJobSpec(cj));
  return errs;
}

export function validateCronJobUpdate(cj: CronJob, old: CronJob): Errs {
  return [...validateObjectMetaUpdate(cj.metadata, old.metadata), ...validateCronJobSpec(cj, old.spec?.schedule ?? '')];
}
