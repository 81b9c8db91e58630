// Counterpart of pkg/kubelet/stats (the cadvisor stats provider) and pkg/kubelet/metrics/collectors/
// resource_metrics.go: the node's and its pods' CPU and memory, read from the cgroups every housekeeping period
// (cadvisor's 10 s) and kept as the last two samples per cgroup, so that a rate (usageNanoCores) is known.
// Served as the stats/v1alpha1 Summary (GET /stats/summary) and as Prometheus text (GET /metrics/resource).
import type { DelayFn } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Container } from '../cri/runtime-service.js';
import { CONTAINER_NAME_LABEL } from '../kuberuntime/container-config.js';
import { POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../kuberuntime/sandbox-config.js';
import { type CgroupReader, type CgroupSample, podCgroups } from './cgroup.js';

/** cadvisor's default housekeeping interval. */
export const HOUSEKEEPING_INTERVAL_MS = 10_000;

// ---- stats/v1alpha1 (the fields this kubelet fills)

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface NodeStats {
  nodeName: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

// ---- computations

/** Two samples of one cgroup, the latest last. */
export type SamplePair = [CgroupSample | undefined, CgroupSample];

const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The CPU rate between two samples in nanocores (cadvisor's instantaneous usage); undefined without two samples. */
export function usageNanoCores(prev: CgroupSample | undefined, cur: CgroupSample): number | undefined {
  if (!prev || cur.timeMs <= prev.timeMs || cur.usageCoreNanoSeconds < prev.usageCoreNanoSeconds) return undefined;
  return Math.round(((cur.usageCoreNanoSeconds - prev.usageCoreNanoSeconds) * 1000) / (cur.timeMs - prev.timeMs));
}

export function cpuStats([prev, cur]: SamplePair): CPUStats {
  const rate = usageNanoCores(prev, cur);
  return { time: rfc3339(cur.timeMs), ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: cur.usageCoreNanoSeconds };
}

/** Memory stats; availableBytes only with a limit (the node's capacity, or the cgroup's limit). */
export function memoryStats([, cur]: SamplePair, limitBytes?: number): MemoryStats {
  return {
    time: rfc3339(cur.timeMs),
    ...(limitBytes ? { availableBytes: Math.max(0, limitBytes - cur.workingSetBytes) } : {}),
    usageBytes: cur.usageBytes,
    workingSetBytes: cur.workingSetBytes,
    rssBytes: cur.rssBytes,
    pageFaults: cur.pageFaults,
    majorPageFaults: cur.majorPageFaults,
  };
}

/** What one housekeeping pass saw: every tracked cgroup's samples and the runtime's containers. */
export interface Snapshot {
  node?: SamplePair;
  pods: {
    uid: string;
    name: string;
    namespace: string;
    startTimeMs: number;
    samples: SamplePair;
    containers: { name: string; startTimeMs: number; samples: SamplePair }[];
  }[];
}

/** The Summary of a snapshot (upstream's summary provider). */
export function buildSummary(nodeName: string, nodeStartTimeMs: number, memoryCapacityBytes: number, snap: Snapshot): Summary {
  const node: NodeStats = { nodeName, startTime: rfc3339(nodeStartTimeMs) };
  if (snap.node) {
    node.cpu = cpuStats(snap.node);
    node.memory = memoryStats(snap.node, memoryCapacityBytes);
  }
  const pods = snap.pods.map((p) => ({
    podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
    startTime: rfc3339(p.startTimeMs),
    containers: p.containers
      .map((c) => ({ name: c.name, startTime: rfc3339(c.startTimeMs), cpu: cpuStats(c.samples), memory: memoryStats(c.samples) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    cpu: cpuStats(p.samples),
    memory: memoryStats(p.samples),
  }));
  return { node, pods };
}

const promLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A sample value as Go's strconv.FormatFloat(v, 'g', -1, 64), which the Prometheus text encoder writes. */
export function promValue(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return '0';
  const [mantissa, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  const digits = mantissa.replace(/^-/, '').replace('.', '').length;
  // Go's %g shortest: exponent form when exp < -4 || exp >= eprec, eprec = 6 unless the digits are fewer and all integral.
  const eprec = digits < 6 && digits >= exp + 1 ? digits : 6;
  if (exp < -4 || exp >= eprec) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/**
 * The resource metrics (GET /metrics/resource) of a Summary: cumulative CPU seconds and working sets of the node,
 * the pods and their containers, with upstream's names, help texts and labels, each sample with its timestamp.
 */
export function resourceMetricsText(summary: Summary, scrapeError = false): string {
  const out: string[] = [];
  const family = (name: string, help: string, type: 'counter' | 'gauge', samples: [string, number, string?][]) => {
    if (!samples.length) return;
    out.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value, time] of samples) {
      const ts = time ? ` ${Date.parse(time)}` : '';
      out.push(`${name}${labels} ${promValue(value)}${ts}`);
    }
  };
  const containerLabels = (p: PodStats, c: ContainerStats) =>
    `{container="${promLabel(c.name)}",namespace="${promLabel(p.podRef.namespace)}",pod="${promLabel(p.podRef.name)}"}`;
  const podLabels = (p: PodStats) => `{namespace="${promLabel(p.podRef.namespace)}",pod="${promLabel(p.podRef.name)}"}`;
  const containers = summary.pods.flatMap((p) => p.containers.map((c) => ({ p, c })));
  family(
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the container in core-seconds',
    'counter',
    containers.filter(({ c }) => c.cpu).map(({ p, c }) => [containerLabels(p, c), c.cpu!.usageCoreNanoSeconds / 1e9, c.cpu!.time]),
  );
  family(
    'container_memory_working_set_bytes',
    'Current working set of the container in bytes',
    'gauge',
    containers.filter(({ c }) => c.memory).map(({ p, c }) => [containerLabels(p, c), c.memory!.workingSetBytes, c.memory!.time]),
  );
  family(
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds',
    'gauge',
    containers.map(({ p, c }) => [containerLabels(p, c), Date.parse(c.startTime) / 1000, c.startTime]),
  );
  const n = summary.node;
  family('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter', n.cpu ? [['', n.cpu.usageCoreNanoSeconds / 1e9, n.cpu.time]] : []);
  family('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge', n.memory ? [['', n.memory.workingSetBytes, n.memory.time]] : []);
  family(
    'pod_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the pod in core-seconds',
    'counter',
    summary.pods.filter((p) => p.cpu).map((p) => [podLabels(p), p.cpu!.usageCoreNanoSeconds / 1e9, p.cpu!.time]),
  );
  family(
    'pod_memory_working_set_bytes',
    'Current working set of the pod in bytes',
    'gauge',
    summary.pods.filter((p) => p.memory).map((p) => [podLabels(p), p.memory!.workingSetBytes, p.memory!.time]),
  );
  family('resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge', [['', scrapeError ? 1 : 0]]);
  return `${out.join('\n')}\n`;
}

// ---- the provider

export interface StatsProviderOptions {
  nodeName: string;
  /** --cgroup-root: the node's cgroup ('' is the root cgroup); pods are below <root>/kubepods. */
  cgroupRoot: string;
  reader: CgroupReader;
  memoryCapacityBytes: number;
  /** The runtime's containers (CRI ListContainers): a child cgroup's id to its container name. */
  listContainers: () => Promise<Container[]>;
  /** The pods bound to the node: names and start times for the pod cgroups. */
  pods: () => Pod[];
  nodeStartTimeMs?: number;
  now?: () => number;
}

/** Samples the node's cgroups every housekeeping interval and answers Summary and resource metrics requests from them. */
export class StatsProvider {
  private samples = new Map<string, SamplePair>();
  private containers: Container[] = [];
  private scrapeError = false;
  private readonly now: () => number;
  private readonly nodeStartTimeMs: number;

  constructor(private readonly opts: StatsProviderOptions) {
    this.now = opts.now ?? Date.now;
    this.nodeStartTimeMs = opts.nodeStartTimeMs ?? this.now();
  }

  private nodeCgroup(): string {
    return this.opts.cgroupRoot.replace(/\/+$/, '') || '/';
  }

  /** One housekeeping pass: every tracked cgroup read once, its previous reading kept. */
  async housekeep(): Promise<void> {
    try {
      this.containers = await this.opts.listContainers();
      this.scrapeError = false;
    } catch {
      this.scrapeError = true;
    }
    const { reader } = this.opts;
    const next = new Map<string, SamplePair>();
    const track = (path: string) => {
      const cur = reader.read(path, this.now());
      if (cur) next.set(path, [this.samples.get(path)?.[1], cur]);
    };
    track(this.nodeCgroup());
    for (const pod of podCgroups(reader, this.opts.cgroupRoot)) {
      track(pod.path);
      for (const child of pod.children) track(child.path);
    }
    this.samples = next;
  }

  /** What the last passes saw, joined with the runtime's containers and the node's pods. */
  snapshot(): Snapshot {
    const byId = new Map(this.containers.map((c) => [c.id, c]));
    const podsByUid = new Map(this.opts.pods().map((p) => [p.metadata?.uid ?? '', p]));
    const pods: Snapshot['pods'] = [];
    for (const pc of podCgroups(this.opts.reader, this.opts.cgroupRoot)) {
      const samples = this.samples.get(pc.path);
      if (!samples) continue;
      const containers: Snapshot['pods'][number]['containers'] = [];
      let labels: Record<string, string> | undefined;
      for (const child of pc.children) {
        const c = byId.get(child.id);
        const s = this.samples.get(child.path);
        if (!c || !s || c.labels[POD_UID_LABEL] !== pc.uid) continue; // the sandbox, or a container not listed yet
        labels = c.labels;
        containers.push({ name: c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? '', startTimeMs: c.createdAt / 1e6, samples: s });
      }
      const pod = podsByUid.get(pc.uid);
      const name = pod?.metadata?.name ?? labels?.[POD_NAME_LABEL];
      const namespace = pod?.metadata?.namespace ?? labels?.[POD_NAMESPACE_LABEL];
      if (!name || !namespace) continue;
      const started = pod?.status?.startTime ? Date.parse(pod.status.startTime) : samples[1].timeMs;
      pods.push({ uid: pc.uid, name, namespace, startTimeMs: started, samples, containers });
    }
    pods.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    return { node: this.samples.get(this.nodeCgroup()), pods };
  }

  summary(): Summary {
    return buildSummary(this.opts.nodeName, this.nodeStartTimeMs, this.opts.memoryCapacityBytes, this.snapshot());
  }

  resourceMetrics(): string {
    return resourceMetricsText(this.summary(), this.scrapeError);
  }

  /** Housekeeping every interval until the signal aborts. */
  async run(signal: AbortSignal, delay: DelayFn, intervalMs = HOUSEKEEPING_INTERVAL_MS): Promise<void> {
    while (!signal.aborted) {
      await this.housekeep().catch(() => {
        this.scrapeError = true;
      });
      await delay(intervalMs, signal);
    }
  }
}
