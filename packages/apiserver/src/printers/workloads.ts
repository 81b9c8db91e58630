// Workload printers: replication controllers, replica sets, deployments, daemon sets, stateful
// sets, jobs, cron jobs, controller revisions and pod templates.
import type { ReplicationController, PodTemplate } from 'kubernetes-types/core/v1';
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1';
import type { KubeObject } from '@kubelab/api';
import type { TablePrinter } from './types.js';
import { doc } from './descriptions.js';
import {
  ageColumn,
  col,
  CONTAINERS_DESCRIPTION,
  formatLabels,
  formatLabelSelector,
  IMAGES_DESCRIPTION,
  labelSelectorString,
  layoutContainerCells,
  nameColumn,
  wide,
} from './format.js';
import { humanDuration, parseTimestamp, translateTimestampSince } from './duration.js';

function age(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata.creationTimestamp, now);
}

export const replicationControllerPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Desired', 'integer', doc.rcSpecReplicas),
    col('Current', 'integer', doc.rcStatusReplicas),
    col('Ready', 'integer', doc.rcStatusReadyReplicas),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.rcSpecSelector),
  ],
  row(obj, now) {
    const rc = obj as ReplicationController;
    const [names, images] = layoutContainerCells(rc.spec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(obj, now),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
};

export const replicaSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Desired', 'integer', doc.rsSpecReplicas),
    col('Current', 'integer', doc.rsStatusReplicas),
    col('Ready', 'integer', doc.rsStatusReadyReplicas),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.rsSpecSelector),
  ],
  row(obj, now) {
    const rs = obj as ReplicaSet;
    const [names, images] = layoutContainerCells(rs.spec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(obj, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
};

export const deploymentPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', doc.deploymentStatusUpdatedReplicas),
    col('Available', 'string', doc.deploymentStatusAvailableReplicas),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.deploymentSpecSelector),
  ],
  row(obj, now) {
    const d = obj as Deployment;
    const [names, images] = layoutContainerCells(d.spec?.template?.spec?.containers);
    // Upstream prints the selector's String() here (empty, not <none>, for an empty selector).
    const selector = labelSelectorString(d.spec?.selector) ?? '<invalid>';
    return [
      obj.metadata.name ?? '',
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(obj, now),
      names,
      images,
      selector,
    ];
  },
};

export const daemonSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Desired', 'integer', doc.dsStatusDesired),
    col('Current', 'integer', doc.dsStatusCurrent),
    col('Ready', 'integer', doc.dsStatusReady),
    col('Up-to-date', 'integer', doc.dsStatusUpdated),
    col('Available', 'integer', doc.dsStatusAvailable),
    col('Node Selector', 'string', doc.podSpecNodeSelector),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.dsSpecSelector),
  ],
  row(obj, now) {
    const ds = obj as DaemonSet;
    const st = ds.status;
    const [names, images] = layoutContainerCells(ds.spec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(obj, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
};

export const statefulSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
  ],
  row(obj, now) {
    const sts = obj as StatefulSet;
    const [names, images] = layoutContainerCells(sts.spec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`,
      age(obj, now),
      names,
      images,
    ];
  },
};

function jobCondition(conditions: JobCondition[] | undefined, type: string): boolean {
  for (const c of conditions ?? []) {
    if (c.type === type) return c.status === 'True';
  }
  return false;
}

/** The STATUS cell of a job: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (jobCondition(conditions, 'Complete')) return 'Complete';
  if (jobCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (jobCondition(conditions, 'Suspended')) return 'Suspended';
  if (jobCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

export const jobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', doc.jobStatusSucceeded),
    col('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.jobSpecSelector),
  ],
  row(obj, now) {
    const job = obj as Job;
    const succeeded = job.status?.succeeded ?? 0;
    let completions: string;
    if (job.spec?.completions != null) {
      completions = `${succeeded}/${job.spec.completions}`;
    } else {
      const parallelism = job.spec?.parallelism ?? 0;
      completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }
    let duration = '';
    const start = parseTimestamp(job.status?.startTime);
    if (start !== undefined) {
      const end = parseTimestamp(job.status?.completionTime) ?? now.getTime();
      duration = humanDuration(end - start);
    }
    const [names, images] = layoutContainerCells(job.spec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      jobStatus(job),
      completions,
      duration,
      age(obj, now),
      names,
      images,
      formatLabelSelector(job.spec?.selector),
    ];
  },
};

export const cronJobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Schedule', 'string', doc.cronJobSpecSchedule),
    col('Timezone', 'string', doc.cronJobSpecTimeZone),
    col('Suspend', 'boolean', doc.cronJobSpecSuspend),
    col('Active', 'integer', doc.cronJobStatusActive),
    col('Last Schedule', 'string', doc.cronJobStatusLastScheduleTime),
    ageColumn(),
    wide('Containers', 'string', CONTAINERS_DESCRIPTION),
    wide('Images', 'string', IMAGES_DESCRIPTION),
    wide('Selector', 'string', doc.jobSpecSelector),
  ],
  row(obj, now) {
    const cj = obj as CronJob;
    const last = cj.status?.lastScheduleTime ? translateTimestampSince(cj.status.lastScheduleTime, now) : '<none>';
    const suspend = cj.spec?.suspend == null ? '<unset>' : cj.spec.suspend ? 'True' : 'False';
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = layoutContainerCells(jobSpec?.template?.spec?.containers);
    return [
      obj.metadata.name ?? '',
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      suspend,
      (cj.status?.active ?? []).length,
      last,
      age(obj, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
};

/** `kind.group/name` of an owner (lowercased kind and group), or just the name without a kind. */
function formatControllerName(apiVersion: string, kind: string, name: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  if (!group && !kind) return name;
  const groupKind = group ? `${kind}.${group}` : kind;
  return `${groupKind.toLowerCase()}/${name}`;
}

export const controllerRevisionPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Controller', 'string', 'Controller of the object'),
    col('Revision', 'string', doc.controllerRevisionRevision),
    ageColumn(),
  ],
  row(obj, now) {
    const cr = obj as ControllerRevision;
    const owner = (obj.metadata.ownerReferences ?? []).find((o) => o.controller === true);
    const controller = owner ? formatControllerName(owner.apiVersion, owner.kind, owner.name) : '<none>';
    return [obj.metadata.name ?? '', controller, cr.revision ?? 0, age(obj, now)];
  },
};

export const podTemplatePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Containers', 'string', CONTAINERS_DESCRIPTION),
    col('Images', 'string', IMAGES_DESCRIPTION),
    col('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  row(obj) {
    const pt = obj as PodTemplate;
    const [names, images] = layoutContainerCells(pt.template?.spec?.containers);
    return [obj.metadata.name ?? '', names, images, formatLabels(pt.template?.metadata?.labels)];
  },
};
