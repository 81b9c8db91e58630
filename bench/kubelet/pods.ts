// The pods of `npm run bench:kubelet` and what a watch sees of them, as upstream's pod startup latency
// measurement (perf-tests clusterloader2's pod_startup_latency, test/e2e density): per pod, when the
// create was sent, when the watch first saw it bound to a node (PodScheduled), when the node's kubelet
// first wrote its status (startTime), when the watch saw phase Running, and when it saw it DELETED.
// All times are this process's monotonic clock (performance.now(), ms): the API's timestamps have
// one-second resolution, too coarse for sub-second latencies.
import { findResource, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { RestClient, Watch } from '@kubelab/client';
import type { Event, Pod } from 'kubernetes-types/core/v1';

export const PODS = findResource('', 'v1', 'pods')!;
const EVENTS = findResource('', 'v1', 'events')!;
export const APP_LABEL = 'kubelab.io/bench';
export const APP = 'kubelet';
/** busybox's sleep as PID 1 ignores SIGTERM: the shell traps it, so a deletion measures the kubelet, not the grace period. */
export const POD_COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
export const POD_IMAGE = 'busybox:1.36';

/** A pause-like workload pod (image present, IfNotPresent), spread evenly over the nodes by the scheduler. */
export function benchPod(namespace: string, name: string, phase: string): KubeObject & Pod {
  const labels = { [APP_LABEL]: APP, phase };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      containers: [{ name: 'sleep', image: POD_IMAGE, imagePullPolicy: 'IfNotPresent', command: POD_COMMAND }],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
      ],
    },
  };
}

export interface PodTimes {
  name: string;
  phase: string;
  node?: string;
  /** Just before the create request was sent. */
  createSent?: number;
  /** The create request's response. */
  created?: number;
  /** The watch saw spec.nodeName set (the scheduler's binding). */
  scheduled?: number;
  /** The watch saw the kubelet's first status (status.startTime). */
  kubeletSeen?: number;
  /** The watch saw the kubelet's Pulled event (written after the sandbox and the image check). */
  pulled?: number;
  /** The watch saw the kubelet's Created and Started events (after CreateContainer, StartContainer). */
  containerCreated?: number;
  containerStarted?: number;
  /** The watch saw phase Running. */
  running?: number;
  deleteSent?: number;
  /** The watch saw the kubelet's Killing event. */
  killing?: number;
  /** The watch saw every container terminated in the status. */
  stopped?: number;
  /** The watch saw the pod DELETED. */
  gone?: number;
  /** Last phase the watch saw (for the report on a timeout). */
  lastPhase?: string;
}

const now = () => performance.now();

interface WatchState {
  resourceVersion: string;
  items: KubeObject[];
  open: () => Promise<Watch<KubeObject>>;
  watch?: Watch<KubeObject>;
}

/** The kubelet's events whose arrival the tracker records. */
const EVENT_FIELDS: Record<string, 'pulled' | 'containerCreated' | 'containerStarted' | 'killing'> = {
  Pulled: 'pulled',
  Created: 'containerCreated',
  Started: 'containerStarted',
  Killing: 'killing',
};

/**
 * One watch on the bench's pods (reopened from the last resourceVersion if the server ends it) that
 * records each pod's PodTimes; waitFor() resolves as soon as a predicate over them holds.
 */
export class PodTracker {
  readonly pods = new Map<string, PodTimes>();
  private waiters = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private failure?: Error;

  constructor(
    private readonly client: RestClient,
    private readonly namespace: string,
    private readonly signal: AbortSignal,
  ) {}

  times(name: string, phase = ''): PodTimes {
    let t = this.pods.get(name);
    if (!t) this.pods.set(name, (t = { name, phase }));
    if (phase) t.phase = phase;
    return t;
  }

  /** Lists, then watches the bench's pods and the namespace's events from the lists' resourceVersions until the signal aborts. */
  async start(): Promise<void> {
    const selector = `${APP_LABEL}=${APP}`;
    const [pods, events] = await Promise.all([this.listAndWatch(PODS, selector), this.listAndWatch(EVENTS)]);
    this.loops.push(this.run(pods, (type, obj) => this.observe(type, obj as Pod)));
    this.loops.push(this.run(events, (type, obj) => type !== 'DELETED' && this.observeEvent(obj as Event)));
  }

  /** A list (its items are seen as ADDED) and a watch from its resourceVersion. */
  private async listAndWatch(info: ResourceInfo, labelSelector?: string): Promise<WatchState> {
    const api = this.client.resource<KubeObject>(info, this.namespace);
    const list = await api.list({ labelSelector });
    const state: WatchState = {
      resourceVersion: list.metadata?.resourceVersion ?? '',
      items: list.items,
      open: () => api.watch({ labelSelector, resourceVersion: state.resourceVersion, timeoutSeconds: 1800, signal: this.signal }),
    };
    state.watch = await state.open();
    return state;
  }

  /** Feeds the watch's events to `on`; reopens it from the last resourceVersion seen when the server ends it. */
  private async run(state: WatchState, on: (type: string, obj: KubeObject) => void): Promise<void> {
    try {
      for (const item of state.items) on('ADDED', item);
      // Bounded: the server ends a watch after its timeout (30 min here) at the earliest; a few reopenings at most.
      for (let reopen = 0; reopen < 50 && !this.signal.aborted; reopen++) {
        const watch = state.watch ?? (await state.open());
        state.watch = undefined;
        for await (const ev of watch) {
          if (ev.object?.metadata?.resourceVersion) state.resourceVersion = ev.object.metadata.resourceVersion;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') on(ev.type, ev.object);
        }
      }
    } catch (err) {
      if (!this.signal.aborted) this.failure = err as Error;
      this.notify();
    }
  }

  private observeEvent(e: Event): void {
    if (e.involvedObject?.kind !== 'Pod' || !e.involvedObject.name) return;
    const key = EVENT_FIELDS[e.reason ?? ''];
    if (!key) return;
    const t = this.times(e.involvedObject.name);
    t[key] ??= now();
    this.notify();
  }

  private observe(type: string, pod: Pod): void {
    const name = pod.metadata?.name ?? '';
    const t = this.times(name);
    const at = now();
    if (pod.spec?.nodeName && t.scheduled === undefined) {
      t.scheduled = at;
      t.node = pod.spec.nodeName;
    }
    if (pod.status?.startTime && t.kubeletSeen === undefined) t.kubeletSeen = at;
    if (pod.status?.phase) t.lastPhase = pod.status.phase;
    if (pod.status?.phase === 'Running' && t.running === undefined) t.running = at;
    const statuses = pod.status?.containerStatuses ?? [];
    if (t.stopped === undefined && t.running !== undefined && statuses.length > 0 && statuses.every((c) => c.state?.terminated)) t.stopped = at;
    if (type === 'DELETED' && t.gone === undefined) t.gone = at;
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `done()` holds; rejects after timeoutMs (with `describe()`'s text), on abort or if the watch failed. */
  waitFor(what: string, done: () => boolean, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (this.failure) finish(new Error(`watch failed while waiting for ${what}: ${this.failure.message}`));
        else if (done()) finish();
      };
      const onAbort = () => finish(new Error(`interrupted while waiting for ${what}`));
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe() ? `: ${describe()}` : ''}`)), timeoutMs);
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops);
  }
}

/** Nearest-rank percentile (as perf-tests' latency metrics): the smallest sample with at least p of them at or below it. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const s = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const r = (x: number) => Math.round(x);
  return { n: s.length, p50: r(percentile(s, 0.5)), p90: r(percentile(s, 0.9)), p99: r(percentile(s, 0.99)), max: r(s.at(-1) ?? Number.NaN) };
}

/** Differences b - a over the pods that have both. */
export function spans(pods: PodTimes[], a: keyof PodTimes, b: keyof PodTimes): number[] {
  return pods.flatMap((p) => (typeof p[a] === 'number' && typeof p[b] === 'number' ? [(p[b] as number) - (p[a] as number)] : []));
}
