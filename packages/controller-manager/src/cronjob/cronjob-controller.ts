// The CronJob controller (upstream's cronjob_controllerv2.go): creates a Job named
// `<cronjob>-<scheduled minutes since the epoch>` at each schedule time, honouring
// concurrencyPolicy, startingDeadlineSeconds, suspend and the history limits, and tracks
// status.active, lastScheduleTime and lastSuccessfulTime. Time comes from the injected clock.
import { isAlreadyExists, isNotFound, type KubeObject, rfc3339 } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1';
import type { ObjectReference } from 'kubernetes-types/core/v1';
import { getControllerOf, newControllerRef, runQueue, type RunnableController } from '../controller-utils.js';
import { isJobFinished } from '../job/job-controller.js';
import { mostRecentScheduleTime, nextScheduleTime, parseCronSchedule, type CronSchedule } from './cron-schedule.js';

export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream requeues a little after the next schedule time. */
const NEXT_SCHEDULE_DELTA_MS = 100;

export interface CronJobJobControl {
  createJob(namespace: string, job: Job): Promise<Job>;
  /** Deletes with propagationPolicy Background. */
  deleteJob(namespace: string, name: string): Promise<void>;
}

export interface CronJobControllerOptions {
  cronJobInformer: Informer<KubeObject>;
  jobInformer: Informer<KubeObject>;
  jobControl: CronJobJobControl;
  updateStatus(cj: CronJob): Promise<CronJob>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}


/** `<cronjob>-<minutes since the epoch>` (upstream's getJobName). */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata!.name}-${Math.floor(scheduledMs / 60_000)}`;
}

const jobFailed = (j: Job) => j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ?? false;
const jobComplete = (j: Job) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;

export class CronJobController implements RunnableController {
  readonly name = 'cronjob-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: CronJobControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'cronjob', clock: this.clock });
    opts.cronJobInformer.addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKey(cj)),
      onUpdate: (_o, cj) => this.queue.add(metaNamespaceKey(cj)),
      onDelete: (cj) => this.queue.add(metaNamespaceKey(cj)),
    });
    const jobChanged = (j: KubeObject) => {
      const ref = getControllerOf(j);
      if (ref?.kind === 'CronJob') this.queue.add(`${j.metadata.namespace}/${ref.name}`);
    };
    opts.jobInformer.addEventHandler({ onAdd: jobChanged, onUpdate: (_o, j) => jobChanged(j), onDelete: jobChanged });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  private event(cj: CronJob, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.opts.recorder.event(cj as KubeObject, type, reason, message);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cj = this.opts.cronJobInformer.lister.get(namespace, name) as CronJob | undefined;
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const jobs = (this.opts.jobInformer.lister.list(namespace) as Job[]).filter((j) => getControllerOf(j as KubeObject)?.uid === cj.metadata!.uid);
    const status: CronJobStatus = structuredClone(cj.status ?? {});
    const nowMs = this.clock.now();

    // 1. Reconcile status.active with the Jobs that exist.
    const byUid = new Map(jobs.map((j) => [j.metadata!.uid!, j]));
    const active: ObjectReference[] = [];
    for (const ref of status.active ?? []) {
      const j = byUid.get(ref.uid!);
      if (!j) {
        this.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        continue;
      }
      if (isJobFinished(j)) {
        const cond = j.status!.conditions!.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')!;
        this.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${cond.type}`);
        if (jobComplete(j) && j.status?.completionTime) {
          if (!status.lastSuccessfulTime || Date.parse(status.lastSuccessfulTime) < Date.parse(j.status.completionTime)) status.lastSuccessfulTime = j.status.completionTime;
        }
        continue;
      }
      active.push(ref);
    }
    // Unfinished Jobs we own that are missing from the list (a status write was lost) are added back.
    for (const j of jobs) {
      if (!isJobFinished(j) && !active.some((r) => r.uid === j.metadata!.uid)) active.push(jobRef(j));
    }
    status.active = active.length ? active : undefined;

    // 2. History limits.
    await this.cleanupFinishedJobs(cj, jobs);

    let requeueMs: number | undefined;
    try {
      requeueMs = await this.schedule(cj, jobs, status, nowMs);
    } finally {
      if (!statusEqual(cj.status, status)) await this.opts.updateStatus({ ...cj, status });
    }
    if (requeueMs !== undefined) this.queue.addAfter(key, requeueMs);
  }

  /** Decides whether a Job is due now and starts it; returns when to look again. */
  private async schedule(cj: CronJob, jobs: Job[], status: CronJobStatus, nowMs: number): Promise<number | undefined> {
    let sched: CronSchedule;
    try {
      sched = parseCronSchedule(cj.spec!.schedule, cj.spec?.timeZone ?? 'UTC');
    } catch (err) {
      const msg = (err as Error).message;
      if (msg.startsWith('unknown time zone')) this.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${cj.spec?.timeZone}": ${msg}`);
      else this.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${msg}`);
      return undefined;
    }
    if (cj.spec?.suspend) return undefined;
    const nextDelay = () => {
      const next = nextScheduleTime(sched, nowMs);
      return next === undefined ? undefined : next - nowMs + NEXT_SCHEDULE_DELTA_MS;
    };

    let earliest = Date.parse(status.lastScheduleTime ?? cj.metadata!.creationTimestamp ?? rfc3339(nowMs));
    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline != null) earliest = Math.max(earliest, nowMs - deadline * 1000);
    const { time: scheduled, missed } = mostRecentScheduleTime(sched, earliest, nowMs);
    if (missed > 100) {
      this.event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (scheduled === undefined) return nextDelay();
    if (deadline != null && scheduled + deadline * 1000 < nowMs) {
      this.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(scheduled)}`);
      return nextDelay();
    }
    const jobName = jobNameFor(cj, scheduled);
    if (jobs.some((j) => j.metadata!.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) return nextDelay();

    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && status.active?.length) {
      this.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return nextDelay();
    }
    if (policy === 'Replace') {
      for (const ref of status.active ?? []) {
        try {
          await this.opts.jobControl.deleteJob(ref.namespace ?? cj.metadata!.namespace!, ref.name!);
        } catch (err) {
          if (!isNotFound(err)) {
            this.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
            throw err;
          }
        }
        this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
      }
      status.active = undefined;
    }

    let created: Job;
    try {
      created = await this.opts.jobControl.createJob(cj.metadata!.namespace!, this.newJob(cj, scheduled, sched.timeZone));
      this.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata!.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      return nextDelay();
    }
    status.active = [...(status.active ?? []), jobRef(created)];
    status.lastScheduleTime = rfc3339(scheduled);
    return nextDelay();
  }

  /** The Job for one schedule time (upstream's getJobFromTemplate2). */
  newJob(cj: CronJob, scheduledMs: number, timeZone: string): Job {
    const tpl = cj.spec!.jobTemplate;
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobNameFor(cj, scheduledMs),
        namespace: cj.metadata!.namespace,
        labels: { ...(tpl.metadata?.labels ?? {}) },
        annotations: { ...(tpl.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339InZone(scheduledMs, timeZone) },
        ownerReferences: [newControllerRef(cj as KubeObject, 'batch/v1', 'CronJob')],
      },
      spec: structuredClone(tpl.spec!),
    };
  }

  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<void> {
    const successLimit = cj.spec?.successfulJobsHistoryLimit ?? 3;
    const failedLimit = cj.spec?.failedJobsHistoryLimit ?? 1;
    const byStart = (a: Job, b: Job) => Date.parse(a.status?.startTime ?? a.metadata!.creationTimestamp ?? '0') - Date.parse(b.status?.startTime ?? b.metadata!.creationTimestamp ?? '0');
    const doomed = [
      ...trimOldest(jobs.filter(jobComplete).sort(byStart), successLimit),
      ...trimOldest(jobs.filter(jobFailed).sort(byStart), failedLimit),
    ];
    for (const j of doomed) {
      if (j.metadata?.deletionTimestamp) continue;
      try {
        await this.opts.jobControl.deleteJob(j.metadata!.namespace!, j.metadata!.name!);
        this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
      } catch (err) {
        if (!isNotFound(err)) this.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
      }
    }
  }
}

function trimOldest(sorted: Job[], keep: number): Job[] {
  return sorted.length > keep ? sorted.slice(0, sorted.length - keep) : [];
}

function jobRef(j: Job): ObjectReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name, namespace: j.metadata!.namespace, uid: j.metadata!.uid, resourceVersion: j.metadata!.resourceVersion };
}

/** RFC 3339 with the zone's offset (UTC gives `Z`), as Go formats a time.Time in a location. */
export function rfc3339InZone(ms: number, tz: string): string {
  if (tz === 'UTC' || tz === 'Etc/UTC') return rfc3339(ms);
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const wallMs = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute), Number(parts.second));
  const offMin = Math.round((wallMs - Math.floor(ms / 1000) * 1000) / 60_000);
  if (offMin === 0) return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hour = pad(Number(parts.hour) % 24);
  return `${parts.year}-${parts.month}-${parts.day}T${hour}:${parts.minute}:${parts.second}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function statusEqual(a: CronJobStatus | undefined, b: CronJobStatus): boolean {
  const norm = (s: CronJobStatus | undefined) =>
    JSON.stringify({
      active: (s?.active ?? []).map((r) => r.uid).sort(),
      lastScheduleTime: s?.lastScheduleTime ?? null,
      lastSuccessfulTime: s?.lastSuccessfulTime ?? null,
    });
  return norm(a) === norm(b);
}
