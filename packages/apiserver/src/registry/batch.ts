// batch/v1 strategies (upstream pkg/registry/batch/job/strategy.go): a Job without manualSelector gets a
// generated selector on its own uid, and its pod template the matching labels.
import type { ResourceStrategy } from './defaults.js';

const CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
const JOB_NAME = 'batch.kubernetes.io/job-name';
// The legacy label names are still set, as upstream does.
const LEGACY_CONTROLLER_UID = 'controller-uid';
const LEGACY_JOB_NAME = 'job-name';

export const jobStrategy: ResourceStrategy = (base) => ({
  prepareForCreate(job) {
    base.prepareForCreate(job);
    job.spec ??= {};
    if (job.spec.manualSelector) return;
    const uid = job.metadata.uid!;
    const name = job.metadata.name!;
    job.spec.selector = { matchLabels: { [CONTROLLER_UID]: uid } };
    const tpl = (job.spec.template ??= {});
    tpl.metadata ??= {};
    tpl.metadata.labels = { ...(tpl.metadata.labels ?? {}), [CONTROLLER_UID]: uid, [JOB_NAME]: name, [LEGACY_CONTROLLER_UID]: uid, [LEGACY_JOB_NAME]: name };
  },
});
