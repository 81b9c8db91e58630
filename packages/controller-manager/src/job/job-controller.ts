// The Job controller (upstream's pkg/controller/job): runs pods until `completions` succeed with at
// most `parallelism` at a time, counts terminated pods through the `batch.kubernetes.io/job-tracking`
// finalizer and status.uncountedTerminatedPods, backs off exponentially after failures, fails the
// Job past backoffLimit or activeDeadlineSeconds, and supports the Indexed completion mode.
import { selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import {
  claimObjects,
  ControllerExpectations,
  getControllerOf,
  isPodReady,
  newControllerRef,
  nowRFC3339,
  runQueue,
  sortPodsForDeletion,
  type RunnableController,
} from '../controller-utils.js';
import { ignoreNotFound, type PodWriter } from '../history/pod-writer.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

export const REASON_BACKOFF_LIMIT_EXCEEDED = 'BackoffLimitExceeded';
export const REASON_DEADLINE_EXCEEDED = 'DeadlineExceeded';
export const REASON_COMPLETIONS_REACHED = 'CompletionsReached';
const MSG_BACKOFF = 'Job has reached the specified backoff limit';
const MSG_DEADLINE = 'Job was active longer than specified deadline';
const MSG_COMPLETIONS = 'Reached expected number of succeeded pods';

export interface JobControllerOptions {
  jobInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  pods: PodWriter;
  /** PUT .../status; resolves with the stored Job. */
  updateStatus(job: Job): Promise<Job>;
  canAdopt?(job: Job): Promise<void>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureMs: number;
}

const isFinishedCondition = (c: JobCondition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True';
export const isJobFinished = (job: Job): boolean => (job.status?.conditions ?? []).some(isFinishedCondition);
const hasFinalizer = (p: Pod) => p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Failed, or deleted before succeeding (podReplacementPolicy TerminatingOrFailed counts those too). */
function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (job.spec?.podReplacementPolicy === 'Failed') return false;
  return !!p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

export function podCompletionIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION] ?? p.metadata?.labels?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** "1,3-5,7" to a set. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.add(i);
  }
  return out;
}

/** A set to the compressed form: runs of three or more become `first-last`. */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${xs[i]}-${xs[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(xs[k]));
    i = j + 1;
  }
  return parts.join(',');
}

/** Delay before the next pod may be created after `failures` consecutive failures (10 s, doubling, at most 10 min). */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(DEFAULT_POD_FAILURE_BACKOFF_MS * 2 ** (failures - 1), MAX_POD_FAILURE_BACKOFF_MS);
}

export class JobController implements RunnableController {
  readonly name = 'job-controller';
  readonly queue: WorkQueue<string>;
  readonly orphanQueue: WorkQueue<string>;
  readonly expectations: ControllerExpectations;
  /** Pod uids counted whose finalizer removal the cache has not shown yet (upstream's finalizerExpectations). */
  private readonly finalizersRemoving = new Set<string>();
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly clock: Clock;
  private readonly log?: Logger;

  constructor(private readonly opts: JobControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.queue = new WorkQueue<string>({ name: 'job', clock: this.clock });
    this.orphanQueue = new WorkQueue<string>({ name: 'job_orphan_pod', clock: this.clock });
    this.expectations = new ControllerExpectations(this.clock);
    opts.jobInformer.addEventHandler({
      onAdd: (j) => this.enqueue(j),
      onUpdate: (_o, j) => this.enqueue(j),
      onDelete: (j) => this.enqueue(j),
    });
    opts.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(p as Pod, 'add'),
      onUpdate: (_o, p) => this.podChanged(p as Pod, 'update'),
      onDelete: (p) => this.podChanged(p as Pod, 'delete'),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await Promise.all([
      runQueue(this.queue, workers, (key) => this.sync(key), signal, this.log),
      runQueue(this.orphanQueue, 1, (key) => this.syncOrphanPod(key), signal, this.log),
    ]);
  }

  enqueue(job: KubeObject): void {
    this.queue.add(metaNamespaceKey(job));
  }

  private ownerOf(pod: Pod): Job | undefined {
    const ref = getControllerOf(pod as KubeObject);
    if (ref?.kind !== 'Job') return undefined;
    const job = this.opts.jobInformer.lister.get(pod.metadata!.namespace!, ref.name) as Job | undefined;
    return job && job.metadata!.uid === ref.uid ? job : undefined;
  }

  private podChanged(pod: Pod, how: 'add' | 'update' | 'delete'): void {
    const uid = pod.metadata?.uid;
    if (uid && (how === 'delete' || !hasFinalizer(pod))) this.finalizersRemoving.delete(uid);
    const job = this.ownerOf(pod);
    if (!job) {
      if (hasFinalizer(pod) && how !== 'delete') this.orphanQueue.add(metaNamespaceKey(pod as KubeObject));
      return;
    }
    const key = metaNamespaceKey(job as KubeObject);
    if (how === 'add' && !pod.metadata?.deletionTimestamp) this.expectations.creationObserved(key);
    if (how === 'delete' || (how === 'update' && pod.metadata?.deletionTimestamp)) this.expectations.deletionObserved(key, metaNamespaceKey(pod as KubeObject));
    this.queue.add(key);
  }

  /** Removes the tracking finalizer from a pod whose Job is gone. */
  async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.opts.podInformer.lister.get(namespace, name) as Pod | undefined;
    if (!pod || !hasFinalizer(pod) || this.ownerOf(pod)) return;
    const ref = getControllerOf(pod as KubeObject);
    // A pod of a Job we still have (another uid) or no Job at all: either way, nothing tracks it.
    if (ref?.kind === 'Job' && !pod.metadata?.deletionTimestamp && !isTerminal(pod) && !this.opts.jobInformer.hasSynced()) return;
    await ignoreNotFound(() => this.opts.pods.patch(namespace, name, { metadata: { finalizers: pod.metadata!.finalizers!.filter((f) => f !== JOB_TRACKING_FINALIZER) } }));
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const job = this.opts.jobInformer.lister.get(namespace, name) as Job | undefined;
    if (!job) {
      this.expectations.delete(key);
      this.backoff.delete(key);
      return;
    }
    const selector = selectorFromLabelSelector(job.spec?.selector);
    const inNamespace = this.opts.podInformer.lister.list(namespace) as Pod[];
    const finished = isJobFinished(job) || !!job.metadata?.deletionTimestamp;
    const candidates = finished ? inNamespace.filter((p) => getControllerOf(p as KubeObject)?.uid === job.metadata!.uid) : inNamespace;
    const pods = (await claimObjects(candidates as KubeObject[], {
      owner: job as KubeObject,
      ownerApiVersion: 'batch/v1',
      ownerKind: 'Job',
      matches: (p) => !selector.empty() && selector.matches(p.metadata.labels ?? {}),
      patch: async (p, patch) => (await this.opts.pods.patch(namespace, p.metadata.name!, patch)) as KubeObject,
      canAdopt: () => this.opts.canAdopt?.(job) ?? Promise.resolve(),
    })) as Pod[];

    if (finished) {
      // Nothing to run any more: just release the pods' tracking finalizers.
      await this.removeFinalizers(pods.filter(hasFinalizer));
      return;
    }

    let current = job;
    const nowMs = this.clock.now();
    const now = nowRFC3339(this.clock);
    const indexed = job.spec?.completionMode === 'Indexed';
    const status: JobStatus = structuredClone(job.status ?? {});
    const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    const inUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const completed = parseIndexes(status.completedIndexes);

    // 1. Record newly terminated pods in uncountedTerminatedPods before releasing their finalizers.
    const newlyTerminated: Pod[] = [];
    const record = (p: Pod, ok: boolean) => {
      (ok ? uncounted.succeeded : uncounted.failed).push(p.metadata!.uid!);
      inUncounted.add(p.metadata!.uid!);
      newlyTerminated.push(p);
      if (ok && indexed) {
        const ix = podCompletionIndex(p);
        if (ix !== undefined && ix < (job.spec?.completions ?? 0)) completed.add(ix);
      }
      this.recordBackoff(key, ok, p);
    };
    for (const p of pods) {
      const uid = p.metadata!.uid!;
      if (!hasFinalizer(p) || inUncounted.has(uid) || this.finalizersRemoving.has(uid)) continue;
      if (p.status?.phase === 'Succeeded') record(p, true);
      else if (isPodFailed(p, job)) record(p, false);
    }

    let active = pods.filter((p) => !isTerminal(p) && !p.metadata?.deletionTimestamp);
    const terminating = pods.filter((p) => !!p.metadata?.deletionTimestamp && !isTerminal(p)).length;
    const succeededSoFar = (status.succeeded ?? 0) + uncounted.succeeded.length;
    const failedSoFar = (status.failed ?? 0) + uncounted.failed.length;
    const completions = job.spec?.completions ?? undefined;
    const parallelism = job.spec?.parallelism ?? 1;
    const suspended = job.spec?.suspend === true;

    if (!status.startTime && !suspended) status.startTime = now;

    // 2. Has the Job failed or succeeded?
    let finish: { type: 'Failed' | 'Complete'; interim: string; reason: string; message: string } | undefined;
    const existingInterim = status.conditions?.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    if (existingInterim) {
      finish = { type: existingInterim.type === 'FailureTarget' ? 'Failed' : 'Complete', interim: existingInterim.type, reason: existingInterim.reason ?? '', message: existingInterim.message ?? '' };
    } else if (failedSoFar > (job.spec?.backoffLimit ?? 6)) {
      finish = { type: 'Failed', interim: 'FailureTarget', reason: REASON_BACKOFF_LIMIT_EXCEEDED, message: MSG_BACKOFF };
    } else if (this.pastDeadline(job, status, nowMs)) {
      finish = { type: 'Failed', interim: 'FailureTarget', reason: REASON_DEADLINE_EXCEEDED, message: MSG_DEADLINE };
    } else {
      const done = indexed
        ? completed.size >= (completions ?? 0)
        : completions !== undefined
          ? succeededSoFar >= completions
          : succeededSoFar > 0 && active.length === 0;
      if (done) finish = { type: 'Complete', interim: 'SuccessCriteriaMet', reason: REASON_COMPLETIONS_REACHED, message: MSG_COMPLETIONS };
    }

    // 3. Act: stop every pod of a finishing Job; otherwise converge to the wanted number of active pods.
    let manageError: Error | undefined;
    let stopping = false;
    if (finish) {
      if (!existingInterim) {
        setJobCondition(status, { type: finish.interim, status: 'True', reason: finish.reason, message: finish.message, lastProbeTime: now, lastTransitionTime: now });
      }
      if (active.length) {
        this.expectations.expectDeletions(key, active.map((p) => metaNamespaceKey(p as KubeObject)));
        for (const p of active) {
          await this.deletePod(job, p).catch((err) => (manageError ??= err as Error));
          if (finish.type === 'Failed') record(p, false);
        }
        active = [];
        stopping = true;
      }
    } else if (this.expectations.satisfied(key)) {
      try {
        active = await this.manage(key, job, active, { succeeded: succeededSoFar, completed, suspended, completions, parallelism, nowMs });
      } catch (err) {
        manageError = err as Error;
      }
    }
    if (finish && !stopping && active.length === 0 && terminating === 0) {
      setJobCondition(status, { type: finish.type, status: 'True', reason: finish.reason, message: finish.message, lastProbeTime: now, lastTransitionTime: now });
      if (finish.type === 'Complete') {
        status.completionTime = now;
        this.opts.recorder.event(job as KubeObject, 'Normal', 'Completed', 'Job completed');
      } else {
        this.opts.recorder.event(job as KubeObject, 'Warning', finish.reason, finish.message);
      }
    }

    // 4. Status: record uncounted pods, release their finalizers, then move them to the counts.
    if (indexed) status.completedIndexes = formatIndexes(completed);
    if (newlyTerminated.length) {
      status.uncountedTerminatedPods = { succeeded: uncounted.succeeded, failed: uncounted.failed };
      current = await this.opts.updateStatus({
        ...current,
        status: {
          ...structuredClone(current.status ?? {}),
          uncountedTerminatedPods: status.uncountedTerminatedPods,
          completedIndexes: status.completedIndexes ?? current.status?.completedIndexes,
        },
      });
    }
    // Every recorded pod still carrying the finalizer is released (also ones a failed sync left behind).
    const toRelease = pods.filter((p) => hasFinalizer(p) && inUncounted.has(p.metadata!.uid!) && !this.finalizersRemoving.has(p.metadata!.uid!));
    await this.removeFinalizers(toRelease);
    const stillTracked = new Set(pods.filter((p) => hasFinalizer(p) && !toRelease.includes(p) && inUncounted.has(p.metadata!.uid!)).map((p) => p.metadata!.uid!));
    const movedSucceeded = uncounted.succeeded.filter((u) => !stillTracked.has(u));
    const movedFailed = uncounted.failed.filter((u) => !stillTracked.has(u));
    status.succeeded = (status.succeeded ?? 0) + movedSucceeded.length;
    status.failed = (status.failed ?? 0) + movedFailed.length;
    status.uncountedTerminatedPods = {
      succeeded: uncounted.succeeded.filter((u) => stillTracked.has(u)),
      failed: uncounted.failed.filter((u) => stillTracked.has(u)),
    };
    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;
    if (!uncountedAny(status)) status.uncountedTerminatedPods = {};
    if (!jobStatusEqual(current.status, status)) current = await this.opts.updateStatus({ ...current, status });

    // 5. Come back when the deadline passes.
    const ads = job.spec?.activeDeadlineSeconds;
    if (!finish && ads != null && status.startTime) {
      const left = Date.parse(status.startTime) + ads * 1000 - nowMs;
      if (left > 0) this.queue.addAfter(key, left);
    }
    if (manageError) throw manageError;
  }

  private pastDeadline(job: Job, status: JobStatus, nowMs: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    if (ads == null || !status.startTime || job.spec?.suspend) return false;
    return nowMs - Date.parse(status.startTime) >= ads * 1000;
  }

  private recordBackoff(key: string, succeeded: boolean, pod: Pod): void {
    const rec = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureMs: 0 };
    if (succeeded) {
      rec.failuresAfterLastSuccess = 0;
    } else {
      rec.failuresAfterLastSuccess++;
      const finishedAt = pod.status?.containerStatuses?.map((c) => c.state?.terminated?.finishedAt).find(Boolean);
      rec.lastFailureMs = Math.max(rec.lastFailureMs, finishedAt ? Date.parse(finishedAt) : this.clock.now());
    }
    this.backoff.set(key, rec);
  }

  /** How long creating replacement pods must still wait after failures. */
  remainingBackoffMs(key: string): number {
    const rec = this.backoff.get(key);
    if (!rec || rec.failuresAfterLastSuccess === 0) return 0;
    return Math.max(0, rec.lastFailureMs + backoffDelayMs(rec.failuresAfterLastSuccess) - this.clock.now());
  }

  private async manage(
    key: string,
    job: Job,
    active: Pod[],
    s: { succeeded: number; completed: Set<number>; suspended: boolean; completions: number | undefined; parallelism: number; nowMs: number },
  ): Promise<Pod[]> {
    const indexed = job.spec?.completionMode === 'Indexed';
    let want: number;
    if (s.suspended) want = 0;
    else if (indexed) want = Math.min(s.parallelism, Math.max(0, (s.completions ?? 0) - s.completed.size));
    else if (s.completions === undefined) want = s.succeeded > 0 ? Math.min(active.length, s.parallelism) : s.parallelism;
    else want = Math.min(s.parallelism, Math.max(0, s.completions - s.succeeded));

    // Indexed: extra pods for one index, and pods for indexes already completed, go first.
    let victims: Pod[] = [];
    if (indexed) {
      const seen = new Set<number>();
      for (const p of active) {
        const ix = podCompletionIndex(p);
        if (ix === undefined || ix >= (s.completions ?? 0) || s.completed.has(ix) || seen.has(ix)) victims.push(p);
        else seen.add(ix);
      }
    }
    const keep = active.filter((p) => !victims.includes(p));
    if (keep.length > want) victims = [...victims, ...sortPodsForDeletion(keep).slice(0, keep.length - want)];
    if (victims.length) {
      this.expectations.expectDeletions(key, victims.map((p) => metaNamespaceKey(p as KubeObject)));
      const errors: Error[] = [];
      await Promise.all(victims.map((p) => this.deletePod(job, p).catch((err) => errors.push(err as Error))));
      if (errors.length) throw errors[0];
      return active.filter((p) => !victims.includes(p));
    }

    const diff = want - active.length;
    if (diff <= 0) return active;
    const wait = this.remainingBackoffMs(key);
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return active;
    }
    let indexes: Array<number | undefined> = Array.from({ length: diff }, () => undefined);
    if (indexed) {
      const taken = new Set(active.map(podCompletionIndex));
      const free: number[] = [];
      for (let i = 0; i < (s.completions ?? 0) && free.length < diff; i++) if (!s.completed.has(i) && !taken.has(i)) free.push(i);
      indexes = free;
    }
    this.expectations.expectCreations(key, indexes.length);
    const created: Pod[] = [];
    let error: Error | undefined;
    // Slow start: 1, 2, 4, ... creates at a time, stopping after a batch with an error.
    let next = 0;
    for (let batch = Math.min(1, indexes.length); batch > 0 && !error; batch = Math.min(batch * 2, indexes.length - next)) {
      const chunk = indexes.slice(next, next + batch);
      next += batch;
      const results = await Promise.allSettled(chunk.map((ix) => this.createPod(job, ix)));
      for (const r of results) {
        if (r.status === 'fulfilled') created.push(r.value);
        else {
          error ??= r.reason as Error;
          this.expectations.creationObserved(key);
        }
      }
    }
    for (let i = next; i < indexes.length; i++) this.expectations.creationObserved(key);
    if (error) throw error;
    return [...active, ...created];
  }

  /** The pod for one slot of the Job (with its completion index in Indexed mode). */
  newPod(job: Job, index: number | undefined): Pod {
    const tpl = structuredClone(job.spec!.template);
    const labels = { ...(tpl.metadata?.labels ?? {}) };
    const annotations = { ...(tpl.metadata?.annotations ?? {}) };
    const spec = tpl.spec!;
    let generateName = `${job.metadata!.name}-`;
    if (index !== undefined) {
      annotations[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      labels[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      generateName = `${job.metadata!.name}-${index}-`;
      spec.hostname ??= `${job.metadata!.name}-${index}`;
      const env = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } };
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (!c.env?.some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) c.env = [...(c.env ?? []), env];
      }
    }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName,
        namespace: job.metadata!.namespace,
        labels,
        annotations: Object.keys(annotations).length ? annotations : undefined,
        finalizers: [...(tpl.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER],
        ownerReferences: [newControllerRef(job as KubeObject, 'batch/v1', 'Job')],
      },
      spec,
    };
  }

  private async createPod(job: Job, index: number | undefined): Promise<Pod> {
    try {
      const pod = await this.opts.pods.create(this.newPod(job, index));
      this.opts.recorder.event(job as KubeObject, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata!.name}`);
      return pod;
    } catch (err) {
      this.opts.recorder.event(job as KubeObject, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
  }

  private async deletePod(job: Job, pod: Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    try {
      await ignoreNotFound(() => this.opts.pods.delete(ns, pod.metadata!.name!, pod.metadata!.uid));
      this.opts.recorder.event(job as KubeObject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
    } catch (err) {
      this.expectations.deletionObserved(metaNamespaceKey(job as KubeObject), metaNamespaceKey(pod as KubeObject));
      this.opts.recorder.event(job as KubeObject, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
      throw err;
    }
  }

  private async removeFinalizers(pods: Pod[]): Promise<void> {
    const errors: Error[] = [];
    await Promise.all(
      pods.map(async (p) => {
        this.finalizersRemoving.add(p.metadata!.uid!);
        const finalizers = (p.metadata!.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
        try {
          await ignoreNotFound(() => this.opts.pods.patch(p.metadata!.namespace!, p.metadata!.name!, { metadata: { finalizers: finalizers.length ? finalizers : null } }));
        } catch (err) {
          this.finalizersRemoving.delete(p.metadata!.uid!);
          errors.push(err as Error);
        }
      }),
    );
    if (errors.length) throw errors[0];
  }
}

function uncountedAny(s: JobStatus): boolean {
  return !!(s.uncountedTerminatedPods?.succeeded?.length || s.uncountedTerminatedPods?.failed?.length);
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
export function setJobCondition(status: JobStatus, cond: JobCondition): void {
  const conds = (status.conditions ??= []);
  const i = conds.findIndex((c) => c.type === cond.type);
  if (i < 0) conds.push(cond);
  else if (conds[i]!.status !== cond.status || conds[i]!.reason !== cond.reason) conds[i] = cond;
}

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

export function jobStatusEqual(a: JobStatus | undefined, b: JobStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}
