import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Job } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { FakePodWriter } from '../history/pod-writer.js';
import { seededInformer } from '../testing.js';
import { formatIndexes, JOB_COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER, JobController, parseIndexes } from './job-controller.js';
import { TTLAfterFinishedController } from './ttl-after-finished-controller.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function newJob(spec: Partial<Job['spec']> = {}, status: Job['status'] = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid', resourceVersion: '5', generation: 1 },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } },
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'perl' }] },
      },
      ...spec,
    },
    status,
  };
}

let seq = 0;
function jobPod(name: string, phase: string, opts: { finalizer?: boolean; index?: number; deleting?: boolean; finishedAt?: number } = {}): Pod {
  const labels: Record<string, string> = { 'batch.kubernetes.io/controller-uid': 'job-uid' };
  const annotations: Record<string, string> = {};
  if (opts.index !== undefined) labels[JOB_COMPLETION_INDEX_ANNOTATION] = annotations[JOB_COMPLETION_INDEX_ANNOTATION] = String(opts.index);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: String(++seq),
      labels,
      annotations,
      creationTimestamp: iso(T0),
      deletionTimestamp: opts.deleting ? iso(T0) : undefined,
      finalizers: opts.finalizer === false ? undefined : [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
    },
    spec: { containers: [{ name: 'c', image: 'perl' }] },
    status: {
      phase: phase as 'Running',
      containerStatuses: opts.finishedAt
        ? [{ name: 'c', image: 'perl', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: iso(opts.finishedAt) } } }]
        : undefined,
    },
  };
}

function setup(job: Job, pods: Pod[] = [], now = T0) {
  const clock = new FakeClock(now);
  const jobInformer = seededInformer([job as KubeObject]);
  const podInformer = seededInformer(pods as KubeObject[]);
  const writer = new FakePodWriter();
  const recorder = new FakeRecorder();
  const statuses: Job[] = [];
  const ctrl = new JobController({
    jobInformer,
    podInformer,
    pods: writer,
    recorder,
    clock,
    updateStatus: async (j) => {
      statuses.push(structuredClone(j));
      jobInformer.store.update(j as KubeObject);
      return j;
    },
  });
  const last = () => statuses[statuses.length - 1]!;
  return { ctrl, clock, writer, recorder, statuses, last, jobInformer, podInformer };
}

describe('JobController.sync', () => {
  it('creates parallelism pods with the tracking finalizer and a controllerRef, and reports them active', async () => {
    const { ctrl, writer, recorder, last } = setup(newJob({ completions: 5, parallelism: 2 }));
    await ctrl.sync('default/pi');
    expect(writer.created).toHaveLength(2);
    const pod = writer.created[0]!;
    expect(pod.metadata!.generateName).toBe('pi-');
    expect(pod.metadata!.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(pod.metadata!.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true, blockOwnerDeletion: true }]);
    expect(last().status).toMatchObject({ active: 2, ready: 0, startTime: iso(T0), uncountedTerminatedPods: {} });
    expect(recorder.events[0]).toMatch(/^Normal SuccessfulCreate Created pod: pi-/);
    // Expectations hold back a second sync until the creates are seen.
    await ctrl.sync('default/pi');
    expect(writer.created).toHaveLength(2);
  });

  it('counts a succeeded pod through uncountedTerminatedPods, removes its finalizer and replaces it', async () => {
    const job = newJob({ completions: 3, parallelism: 2 }, { startTime: iso(T0), active: 2 });
    const { ctrl, writer, statuses, last } = setup(job, [jobPod('a', 'Succeeded'), jobPod('b', 'Running')]);
    await ctrl.sync('default/pi');
    expect(statuses[0]!.status!.uncountedTerminatedPods).toEqual({ succeeded: ['uid-a'], failed: [] });
    expect(writer.patched).toEqual([{ name: 'a', patch: { metadata: { finalizers: null } } }]);
    expect(last().status).toMatchObject({ succeeded: 1, active: 2, uncountedTerminatedPods: {} });
    expect(writer.created).toHaveLength(1);
    // The stale cache still shows the finalizer: the pod is not counted twice.
    await ctrl.sync('default/pi');
    expect(last().status!.succeeded).toBe(1);
  });

  it('completes with SuccessCriteriaMet then Complete (CompletionsReached) and a completionTime', async () => {
    const job = newJob({ completions: 2, parallelism: 2 }, { startTime: iso(T0), succeeded: 1, active: 1 });
    const { ctrl, last, recorder, writer } = setup(job, [jobPod('a', 'Succeeded', { finalizer: false }), jobPod('b', 'Succeeded')], T0 + 5000);
    await ctrl.sync('default/pi');
    const st = last().status!;
    expect(st.succeeded).toBe(2);
    expect(st.active).toBe(0);
    expect(st.completionTime).toBe(iso(T0 + 5000));
    expect(st.conditions!.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    expect(recorder.events).toContain('Normal Completed Job completed');
    expect(writer.created).toHaveLength(0);
  });

  it('fails with BackoffLimitExceeded once failures pass backoffLimit, deleting the active pods', async () => {
    const job = newJob({ completions: 3, parallelism: 1, backoffLimit: 1 }, { startTime: iso(T0), failed: 1 });
    const { ctrl, last, writer, recorder, podInformer } = setup(job, [jobPod('f2', 'Failed'), jobPod('r', 'Running')]);
    await ctrl.sync('default/pi');
    expect(writer.deleted).toEqual(['r']);
    let st = last().status!;
    expect(st.failed).toBe(3); // the running pod deleted on failure counts as failed too
    expect(st.conditions!.map((c) => `${c.type}/${c.reason}`)).toEqual(['FailureTarget/BackoffLimitExceeded']);
    // Once the pods are gone, the terminal condition follows.
    podInformer.store.replace([]);
    ctrl.expectations.delete('default/pi');
    await ctrl.sync('default/pi');
    st = last().status!;
    expect(st.conditions!.map((c) => `${c.type}/${c.reason}`)).toEqual(['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
    expect(st.conditions![1]!.message).toBe('Job has reached the specified backoff limit');
    expect(recorder.events).toContain('Warning BackoffLimitExceeded Job has reached the specified backoff limit');
  });

  it('backs off exponentially before replacing a failed pod', async () => {
    const job = newJob({ completions: 1, parallelism: 1 }, { startTime: iso(T0), active: 1 });
    const { ctrl, clock, writer, podInformer } = setup(job, [jobPod('f1', 'Failed', { finishedAt: T0 })], T0 + 1000);
    await ctrl.sync('default/pi');
    expect(writer.created).toHaveLength(0);
    expect(ctrl.remainingBackoffMs('default/pi')).toBe(9000);
    podInformer.store.replace([{ ...jobPod('f1', 'Failed'), metadata: { ...jobPod('f1', 'Failed').metadata, finalizers: undefined } } as KubeObject]);
    await clock.step(9000);
    expect(ctrl.queue.len()).toBe(1);
    await ctrl.sync('default/pi');
    expect(writer.created).toHaveLength(1);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, and requeues before it', async () => {
    const job = newJob({ activeDeadlineSeconds: 30 }, { startTime: iso(T0) });
    const early = setup(job, [jobPod('r', 'Running')], T0 + 10_000);
    await early.ctrl.sync('default/pi');
    expect(early.writer.deleted).toEqual([]);
    await early.clock.step(20_000);
    expect(early.ctrl.queue.len()).toBe(1);

    const late = setup(job, [jobPod('r', 'Running')], T0 + 30_000);
    await late.ctrl.sync('default/pi');
    expect(late.writer.deleted).toEqual(['r']);
    expect(late.last().status!.conditions![0]).toMatchObject({ type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
  });

  it('Indexed mode: one pod per index with the index annotation, label, hostname and env, and completedIndexes', async () => {
    const job = newJob({ completions: 3, parallelism: 2, completionMode: 'Indexed' }, { startTime: iso(T0) });
    const { ctrl, writer, last } = setup(job, [jobPod('pi-0-x', 'Succeeded', { index: 0 }), jobPod('pi-1-x', 'Running', { index: 1 })]);
    await ctrl.sync('default/pi');
    expect(last().status).toMatchObject({ completedIndexes: '0', succeeded: 1, active: 2 });
    expect(writer.created).toHaveLength(1);
    const pod = writer.created[0]!;
    expect(pod.metadata!.generateName).toBe('pi-2-');
    expect(pod.metadata!.annotations![JOB_COMPLETION_INDEX_ANNOTATION]).toBe('2');
    expect(pod.metadata!.labels![JOB_COMPLETION_INDEX_ANNOTATION]).toBe('2');
    expect(pod.spec!.hostname).toBe('pi-2');
    expect(pod.spec!.containers[0]!.env).toEqual([
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } },
    ]);
  });

  it('releases finalizers of pods of a finished Job', async () => {
    const job = newJob({}, { conditions: [{ type: 'Complete', status: 'True' }] });
    const { ctrl, writer } = setup(job, [jobPod('a', 'Running')]);
    await ctrl.sync('default/pi');
    expect(writer.patched.map((p) => p.name)).toEqual(['a']);
    expect(writer.created).toHaveLength(0);
  });
});

describe('completed index sets', () => {
  it('compresses runs of three or more', () => {
    expect(formatIndexes([7, 1, 3, 4, 5])).toBe('1,3-5,7');
    expect(formatIndexes([0, 1])).toBe('0,1');
    expect([...parseIndexes('1,3-5,7')]).toEqual([1, 3, 4, 5, 7]);
  });
});

describe('TTLAfterFinishedController', () => {
  it('deletes a finished Job once its TTL passes, not before', async () => {
    const job = newJob({ ttlSecondsAfterFinished: 60 }, { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(T0) }] });
    const clock = new FakeClock(T0 + 10_000);
    const deleted: string[] = [];
    const ctrl = new TTLAfterFinishedController({
      jobInformer: seededInformer([job as KubeObject]),
      getJob: async () => job,
      deleteJob: async (j) => {
        deleted.push(j.metadata!.name!);
      },
      clock,
    });
    await ctrl.sync('default/pi');
    expect(deleted).toEqual([]);
    await clock.step(50_000);
    expect(ctrl.queue.len()).toBe(1);
    await ctrl.sync('default/pi');
    expect(deleted).toEqual(['pi']);
  });
});
