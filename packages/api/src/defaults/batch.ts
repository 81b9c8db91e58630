// Defaulting for batch/v1, following upstream pkg/apis/batch/v1/defaults.go (v1.32, with the
// JobPodReplacementPolicy feature on as it is by default) and its generated pod template recursion.
import type { CronJob, Job, JobSpec } from 'kubernetes-types/batch/v1';
import { defaultTemplate } from './apps.js';

export const DEFAULT_BACKOFF_LIMIT = 6;
/** backoffLimit when backoffLimitPerIndex is set (math.MaxInt32). */
export const BACKOFF_LIMIT_WITH_PER_INDEX = 2147483647;

/** Pod failure policy patterns match condition status True unless stated (in Jobs and CronJob templates). */
function defaultPodFailurePolicy(spec: JobSpec | undefined): void {
  for (const rule of spec?.podFailurePolicy?.rules ?? []) {
    for (const pattern of rule.onPodConditions ?? []) pattern.status ||= 'True';
  }
}

/**
 * completions and parallelism 1 when both are unset, else parallelism 1 when unset (completions
 * stays unset: a work-queue job); backoffLimit 6 (MaxInt32 with backoffLimitPerIndex); object labels
 * from the template's when empty; completionMode NonIndexed; suspend false; podReplacementPolicy
 * Failed with a podFailurePolicy, else TerminatingOrFailed; manualSelector false.
 */
export function defaultJob(job: Job): void {
  const spec = (job.spec ??= { template: {} });
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex != null ? BACKOFF_LIMIT_WITH_PER_INDEX : DEFAULT_BACKOFF_LIMIT;
  const labels = spec.template?.metadata?.labels;
  if (labels && (!job.metadata?.labels || Object.keys(job.metadata.labels).length === 0)) {
    job.metadata = { ...job.metadata, labels: { ...labels } };
  }
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  defaultPodFailurePolicy(spec);
  defaultTemplate(spec.template);
}

/**
 * concurrencyPolicy Allow; suspend false; successfulJobsHistoryLimit 3; failedJobsHistoryLimit 1.
 * The job template's JobSpec is NOT given Job defaults (upstream defaults Job objects, not JobSpecs);
 * only its pod template and pod failure policy patterns are defaulted.
 */
export function defaultCronJob(cj: CronJob): void {
  const spec = (cj.spec ??= { schedule: '', jobTemplate: {} });
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  const jobSpec = spec.jobTemplate?.spec;
  defaultPodFailurePolicy(jobSpec);
  defaultTemplate(jobSpec?.template);
}
