import { describe, expect, it } from 'vitest';
import { alreadyExists, type KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { seededInformer } from '../testing.js';
import { mostRecentScheduleTime, nextScheduleTime, parseCronSchedule } from './cron-schedule.js';
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, CronJobController, jobNameFor, rfc3339InZone } from './cronjob-controller.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('cron schedules', () => {
  const next = (spec: string, from: string, tz?: string) => iso(nextScheduleTime(parseCronSchedule(spec, tz), at(from))!);

  it('evaluates steps, ranges, lists, names and macros', () => {
    expect(next('*/15 * * * *', '2025-01-01T10:07:30Z')).toBe('2025-01-01T10:15:00Z');
    expect(next('0 9-17/4 * * *', '2025-01-01T10:00:00Z')).toBe('2025-01-01T13:00:00Z');
    expect(next('5,10 0 * * *', '2025-01-01T00:05:00Z')).toBe('2025-01-01T00:10:00Z');
    expect(next('0 0 * * MON-FRI', '2025-01-03T12:00:00Z')).toBe('2025-01-06T00:00:00Z'); // Fri -> Mon
    expect(next('0 0 1 feb *', '2025-01-03T12:00:00Z')).toBe('2025-02-01T00:00:00Z');
    expect(next('@hourly', '2025-01-01T10:00:00Z')).toBe('2025-01-01T11:00:00Z');
    expect(next('@weekly', '2025-01-01T00:00:00Z')).toBe('2025-01-05T00:00:00Z');
    expect(next('@yearly', '2025-03-01T00:00:00Z')).toBe('2026-01-01T00:00:00Z');
    expect(next('0 0 * * 7', '2025-01-01T00:00:00Z')).toBe('2025-01-05T00:00:00Z'); // 7 is Sunday
  });

  it('ORs the day fields when both are restricted, as robfig/cron', () => {
    // The 15th (a Wednesday in Jan 2025) or any Monday.
    expect(next('0 0 15 * 1', '2025-01-07T00:00:00Z')).toBe('2025-01-13T00:00:00Z');
    expect(next('0 0 15 * 1', '2025-01-13T00:00:00Z')).toBe('2025-01-15T00:00:00Z');
  });

  it('evaluates in a time zone', () => {
    // 09:00 in New York is 14:00 UTC in winter, 13:00 UTC in summer.
    expect(next('0 9 * * *', '2025-01-01T00:00:00Z', 'America/New_York')).toBe('2025-01-01T14:00:00Z');
    expect(next('0 9 * * *', '2025-07-01T00:00:00Z', 'America/New_York')).toBe('2025-07-01T13:00:00Z');
    expect(rfc3339InZone(at('2025-01-01T14:00:00Z'), 'America/New_York')).toBe('2025-01-01T09:00:00-05:00');
  });

  it('rejects bad syntax and unknown zones', () => {
    expect(() => parseCronSchedule('* * * *')).toThrow('expected exactly 5 fields, found 4');
    expect(() => parseCronSchedule('61 * * * *')).toThrow('end of range (61) above maximum (59)');
    expect(() => parseCronSchedule('@fortnightly')).toThrow('unrecognized descriptor');
    expect(() => parseCronSchedule('* * * * *', 'Mars/Olympus')).toThrow('unknown time zone Mars/Olympus');
  });

  it('finds the most recent missed time and counts misses', () => {
    const s = parseCronSchedule('* * * * *');
    expect(mostRecentScheduleTime(s, at('2025-01-01T00:00:00Z'), at('2025-01-01T00:03:30Z'))).toEqual({ time: at('2025-01-01T00:03:00Z'), missed: 3 });
    const many = mostRecentScheduleTime(s, at('2025-01-01T00:00:00Z'), at('2025-01-02T00:00:30Z'));
    expect(many.time).toBe(at('2025-01-02T00:00:00Z'));
    expect(many.missed).toBeGreaterThan(100);
  });
});

function newCronJob(spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: {
      schedule: '*/1 * * * *',
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'hello' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
    status,
  };
}

function ownedJob(name: string, finished?: 'Complete' | 'Failed', start = '2025-01-01T00:01:00Z'): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: start,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true }],
    },
    spec: { template: {} },
    status: {
      startTime: start,
      completionTime: finished === 'Complete' ? start : undefined,
      conditions: finished ? [{ type: finished, status: 'True' }] : undefined,
    },
  };
}

function setup(cj: CronJob, jobs: Job[], now: string) {
  const clock = new FakeClock(at(now));
  const cronJobInformer = seededInformer([cj as KubeObject]);
  const jobInformer = seededInformer(jobs as KubeObject[]);
  const created: Job[] = [];
  const deleted: string[] = [];
  const recorder = new FakeRecorder();
  const statuses: CronJob[] = [];
  const ctrl = new CronJobController({
    cronJobInformer,
    jobInformer,
    recorder,
    clock,
    jobControl: {
      createJob: async (_ns, job) => {
        if (created.some((j) => j.metadata!.name === job.metadata!.name)) throw alreadyExists({ group: 'batch', resource: 'jobs' }, job.metadata!.name!);
        const stored = { ...job, metadata: { ...job.metadata, uid: `uid-${job.metadata!.name}` } };
        created.push(stored);
        return stored;
      },
      deleteJob: async (_ns, name) => {
        deleted.push(name);
      },
    },
    updateStatus: async (c) => {
      statuses.push(structuredClone(c));
      cronJobInformer.store.update(c as KubeObject);
      return c;
    },
  });
  return { ctrl, clock, created, deleted, recorder, statuses, last: () => statuses[statuses.length - 1]! };
}

describe('CronJobController.sync', () => {
  it('creates the Job for the latest schedule time, named by minutes since the epoch, and requeues for the next', async () => {
    const { ctrl, created, last, recorder, clock } = setup(newCronJob(), [], '2025-01-01T00:02:30Z');
    await ctrl.sync('default/hello');
    expect(created).toHaveLength(1);
    const scheduled = at('2025-01-01T00:02:00Z');
    expect(created[0]!.metadata!.name).toBe(`hello-${scheduled / 60_000}`);
    expect(jobNameFor(newCronJob(), scheduled)).toBe('hello-28928162');
    expect(created[0]!.metadata!.labels).toEqual({ app: 'hello' });
    expect(created[0]!.metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]).toBe('2025-01-01T00:02:00Z');
    expect(created[0]!.metadata!.ownerReferences![0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
    expect(last().status!.lastScheduleTime).toBe('2025-01-01T00:02:00Z');
    expect(last().status!.active!.map((r) => r.name)).toEqual(['hello-28928162']);
    expect(recorder.events).toContain('Normal SuccessfulCreate Created job hello-28928162');
    // Nothing new within the same minute; the timer fires just after the next one.
    await ctrl.sync('default/hello');
    expect(created).toHaveLength(1);
    await clock.step(30_100);
    expect(ctrl.queue.len()).toBe(1);
  });

  it('Forbid skips while a Job is active; Replace deletes it first', async () => {
    const running = ownedJob('hello-28928161');
    const status = { active: [{ kind: 'Job', name: running.metadata!.name, namespace: 'default', uid: running.metadata!.uid }], lastScheduleTime: '2025-01-01T00:01:00Z' };
    const forbid = setup(newCronJob({ concurrencyPolicy: 'Forbid' }, status), [running], '2025-01-01T00:02:10Z');
    await forbid.ctrl.sync('default/hello');
    expect(forbid.created).toHaveLength(0);
    expect(forbid.recorder.events).toContain('Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid');

    const replace = setup(newCronJob({ concurrencyPolicy: 'Replace' }, status), [running], '2025-01-01T00:02:10Z');
    await replace.ctrl.sync('default/hello');
    expect(replace.deleted).toEqual(['hello-28928161']);
    expect(replace.created.map((j) => j.metadata!.name)).toEqual(['hello-28928162']);
    expect(replace.last().status!.active!.map((r) => r.name)).toEqual(['hello-28928162']);
  });

  it('does nothing when suspended, and misses a start past startingDeadlineSeconds', async () => {
    const suspended = setup(newCronJob({ suspend: true }), [], '2025-01-01T00:05:00Z');
    await suspended.ctrl.sync('default/hello');
    expect(suspended.created).toHaveLength(0);

    const late = setup(newCronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 10 }), [], '2025-01-01T01:00:30Z');
    await late.ctrl.sync('default/hello');
    expect(late.created).toHaveLength(0);
    // (The deadline window starts 10 s ago, so the 01:00 run is out of it and never found.)
    const inTime = setup(newCronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }), [], '2025-01-01T01:00:30Z');
    await inTime.ctrl.sync('default/hello');
    expect(inTime.created).toHaveLength(1);
  });

  it('moves finished Jobs out of active, records lastSuccessfulTime and trims history', async () => {
    const done = ownedJob('hello-1', 'Complete', '2025-01-01T00:01:00Z');
    const jobs = [done, ownedJob('hello-0', 'Complete', '2025-01-01T00:00:30Z'), ownedJob('f1', 'Failed', '2025-01-01T00:00:10Z'), ownedJob('f2', 'Failed', '2025-01-01T00:00:20Z')];
    const status = { active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'uid-hello-1' }], lastScheduleTime: '2025-01-01T00:01:00Z' };
    const { ctrl, deleted, recorder, last } = setup(newCronJob({ suspend: true, successfulJobsHistoryLimit: 1 }, status), jobs, '2025-01-01T00:01:30Z');
    await ctrl.sync('default/hello');
    expect(recorder.events).toContain('Normal SawCompletedJob Saw completed job: hello-1, condition: Complete');
    expect(last().status!.active).toBeUndefined();
    expect(last().status!.lastSuccessfulTime).toBe('2025-01-01T00:01:00Z');
    expect(deleted.sort()).toEqual(['f1', 'hello-0']);
  });

  it('reports an unparseable schedule', async () => {
    const { ctrl, recorder, created } = setup(newCronJob({ schedule: 'not a schedule' }), [], '2025-01-01T00:05:00Z');
    await ctrl.sync('default/hello');
    expect(created).toHaveLength(0);
    expect(recorder.events[0]).toMatch(/^Warning UnparseableSchedule unparseable schedule: "not a schedule" : /);
  });
});
