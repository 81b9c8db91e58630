// metrics.k8s.io/v1beta1 served by the apiserver itself (what upstream's metrics-server add-on serves through the
// aggregation layer): NodeMetrics and PodMetrics, get and list, computed on each request from the Ready nodes'
// kubelet Summary (GET /stats/summary, stats/v1alpha1: usageNanoCores from the kubelet's two latest housekeeping
// samples, workingSetBytes) through the KubeletClient. As metrics-server: a node or pod without a CPU rate yet is
// not reported (get is NotFound "nodemetrics"/"podmetrics"), a pod only with every container measured, labels
// copied from the object, cpu in nanocores and memory in bytes.
import { findResource, notFound, type KubeList, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { kubeletURL, type KubeletClient } from './kubelet-client.js';
import { compileSelectors } from './selectors.js';
import { restStorage, type Getter, type ListQuery, type Lister } from './rest.js';

/** How long one kubelet may take to answer before its node is left out. */
const KUBELET_TIMEOUT_MS = 5_000;
/** The window the kubelet's rates are computed over (its housekeeping interval, cadvisor's 10 s). */
export const METRICS_WINDOW = '10s';

/** The part of a stats/v1alpha1 Summary read here. */
interface CPU {
  time?: string;
  usageNanoCores?: number;
}
interface Memory {
  time?: string;
  workingSetBytes?: number;
}
export interface Summary {
  node: { nodeName: string; cpu?: CPU; memory?: Memory };
  pods?: { podRef: { name: string; namespace: string; uid: string }; containers?: { name: string; cpu?: CPU; memory?: Memory }[] }[];
}

/** A CPU quantity from nanocores as resource.NewScaledQuantity(n, resource.Nano) serializes it. */
export function cpuQuantity(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  if (n === 0) return '0';
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

/** A memory quantity from bytes as resource.NewQuantity(n, resource.BinarySI) serializes it. */
export function memoryQuantity(bytes: number): string {
  let n = Math.max(0, Math.round(bytes));
  if (n === 0) return '0';
  // Below 1024 a BinarySI quantity is written as DecimalSI (1000 is "1k").
  if (n < 1024) return n % 1000 === 0 ? `${n / 1000}k` : String(n);
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** The latest of RFC 3339 times (second precision). */
function latest(times: (string | undefined)[]): string | undefined {
  return times.filter((t): t is string => !!t).sort().at(-1);
}

const objectLabels = (o: { metadata?: { labels?: Record<string, string> } }) => (o.metadata?.labels ? { labels: { ...o.metadata.labels } } : {});

/** The NodeMetrics of a node from its kubelet's Summary, or undefined without a CPU rate and working set yet. */
export function nodeMetrics(node: Node, summary: Summary, now: Date): KubeObject | undefined {
  const cpu = summary.node.cpu;
  const mem = summary.node.memory;
  if (cpu?.usageNanoCores === undefined || mem?.workingSetBytes === undefined) return undefined;
  return {
    kind: 'NodeMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: node.metadata?.name ?? '', creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'), ...objectLabels(node) },
    timestamp: latest([cpu.time, mem.time]) ?? now.toISOString().replace(/\.\d+Z$/, 'Z'),
    window: METRICS_WINDOW,
    usage: { cpu: cpuQuantity(cpu.usageNanoCores), memory: memoryQuantity(mem.workingSetBytes) },
  } as KubeObject;
}

/** The PodMetrics of a pod from its node's Summary, or undefined unless every container was measured. */
export function podMetrics(pod: Pod, summary: Summary, now: Date): KubeObject | undefined {
  const uid = pod.metadata?.uid;
  const stats = summary.pods?.find((p) => (uid && p.podRef.uid === uid) || (!uid && p.podRef.namespace === pod.metadata?.namespace && p.podRef.name === pod.metadata?.name));
  if (!stats?.containers?.length) return undefined;
  const containers: { name: string; usage: { cpu: string; memory: string } }[] = [];
  const times: (string | undefined)[] = [];
  for (const c of stats.containers) {
    if (c.cpu?.usageNanoCores === undefined || c.memory?.workingSetBytes === undefined) return undefined;
    containers.push({ name: c.name, usage: { cpu: cpuQuantity(c.cpu.usageNanoCores), memory: memoryQuantity(c.memory.workingSetBytes) } });
    times.push(c.cpu.time, c.memory.time);
  }
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', creationTimestamp: stamp, ...objectLabels(pod) },
    timestamp: latest(times) ?? stamp,
    window: METRICS_WINDOW,
    containers,
  } as KubeObject;
}

const isReady = (node: Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export interface MetricsSources {
  getNode(name: string): Promise<KubeObject>;
  listNodes(q: ListQuery): Promise<KubeList>;
  getPod(namespace: string, name: string): Promise<KubeObject>;
  listPods(namespace: string, q: ListQuery): Promise<KubeList>;
  /** A node's kubelet Summary, or undefined when the kubelet does not answer. */
  summary(node: Node): Promise<Summary | undefined>;
  now?: () => Date;
}

/** Reads a node's /stats/summary through the apiserver's kubelet client. */
export function kubeletSummary(kubelet: KubeletClient): (node: Node) => Promise<Summary | undefined> {
  return async (node) => {
    try {
      const res = await kubelet.get(kubeletURL(node, '/stats/summary'), AbortSignal.timeout(KUBELET_TIMEOUT_MS));
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      if (res.statusCode !== 200) return undefined;
      return JSON.parse(Buffer.concat(chunks).toString()) as Summary;
    } catch {
      return undefined;
    }
  };
}

/** One Summary per Ready node, fetched at once (nodes whose kubelet fails are left out, as metrics-server does). */
async function summaries(src: MetricsSources, nodes: Node[]): Promise<Map<string, Summary>> {
  const out = new Map<string, Summary>();
  await Promise.all(
    nodes.filter(isReady).map(async (n) => {
      const s = await src.summary(n);
      if (s) out.set(n.metadata?.name ?? '', s);
    }),
  );
  return out;
}

/** Only the selectors metrics-server honours: labels (fields are refused by the pods/nodes list as usual). */
function selectorQuery(q: ListQuery): ListQuery {
  return { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector };
}

function list(info: ResourceInfo, items: KubeObject[]): KubeList {
  return { kind: `${info.kind}List`, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items } as KubeList;
}

export function nodeMetricsREST(src: MetricsSources): Getter & Lister {
  const info = findResource('metrics.k8s.io', 'v1beta1', 'nodes')!;
  const now = src.now ?? (() => new Date());
  return {
    ...restStorage(info),
    async get(_namespace, name) {
      const node = (await src.getNode(name).catch(() => undefined)) as Node | undefined;
      const summary = node && isReady(node) ? await src.summary(node) : undefined;
      const m = node && summary ? nodeMetrics(node, summary, now()) : undefined;
      if (!m) throw notFound({ group: '', resource: 'nodemetrics' }, name);
      return m;
    },
    async list(_namespace, q) {
      // A malformed selector is a 400 before any kubelet is asked.
      compileSelectors(info, q.labelSelector);
      const nodes = (await src.listNodes(selectorQuery(q))).items as Node[];
      const byNode = await summaries(src, nodes);
      const items: KubeObject[] = [];
      for (const n of nodes) {
        const s = byNode.get(n.metadata?.name ?? '');
        const m = s && nodeMetrics(n, s, now());
        if (m) items.push(m);
      }
      return list(info, items);
    },
  };
}

export function podMetricsREST(src: MetricsSources): Getter & Lister {
  const info = findResource('metrics.k8s.io', 'v1beta1', 'pods')!;
  const now = src.now ?? (() => new Date());
  const nodesOf = async (pods: Pod[]) => {
    const names = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))];
    const nodes = await Promise.all(names.map((n) => src.getNode(n).catch(() => undefined)));
    return summaries(src, nodes.filter((n): n is KubeObject => !!n) as Node[]);
  };
  return {
    ...restStorage(info),
    async get(namespace, name) {
      const pod = (await src.getPod(namespace, name).catch(() => undefined)) as Pod | undefined;
      const byNode = pod ? await nodesOf([pod]) : new Map<string, Summary>();
      const s = pod?.spec?.nodeName ? byNode.get(pod.spec.nodeName) : undefined;
      const m = pod && s ? podMetrics(pod, s, now()) : undefined;
      if (!m) throw notFound({ group: '', resource: 'podmetrics' }, name);
      return m;
    },
    async list(namespace, q) {
      const pods = ((await src.listPods(namespace, selectorQuery(q))).items as Pod[]).filter((p) => p.status?.phase === 'Running');
      const byNode = await nodesOf(pods);
      const items: KubeObject[] = [];
      for (const p of pods) {
        const s = byNode.get(p.spec?.nodeName ?? '');
        const m = s && podMetrics(p, s, now());
        if (m) items.push(m);
      }
      return list(info, items);
    },
  };
}
