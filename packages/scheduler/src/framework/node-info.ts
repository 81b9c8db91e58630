// What the scheduler knows about a node and the pods on it (upstream's framework.NodeInfo and
// PodInfo): quantities are parsed once into plain numbers (milli-CPU, bytes, counts) so filters and
// scores do no parsing in the hot path.
import { Quantity, selectorFromLabelSelector, type Selector } from '@kubelab/api';
import type { Container, Node, Pod, PodAffinityTerm, Taint, Toleration } from 'kubernetes-types/core/v1';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Requests of containers that ask for nothing still count this much when spreading (upstream's DefaultMilliCPURequest/DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  /** Extended resources (nvidia.com/gpu, hugepages-*, ...), in their value() units. */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

function quantityValue(name: string, q: string | number): number {
  const parsed = Quantity.parse(q);
  return Number(name === CPU ? parsed.milliValue() : parsed.value());
}

/** A resource list (requests or allocatable) as numbers. */
export function resourceFromList(list: Record<string, string | number> | undefined): Resource {
  const r = emptyResource();
  for (const [name, q] of Object.entries(list ?? {})) {
    const v = quantityValue(name, q);
    if (name === CPU) r.milliCPU = v;
    else if (name === MEMORY) r.memory = v;
    else if (name === EPHEMERAL_STORAGE) r.ephemeralStorage = v;
    else if (name === PODS) r.allowedPodNumber = v;
    else r.scalar.set(name, v);
  }
  return r;
}

function addInto(a: Resource, b: Resource, sign = 1): void {
  a.milliCPU += sign * b.milliCPU;
  a.memory += sign * b.memory;
  a.ephemeralStorage += sign * b.ephemeralStorage;
  for (const [k, v] of b.scalar) a.scalar.set(k, (a.scalar.get(k) ?? 0) + sign * v);
}

function maxInto(a: Resource, b: Resource): void {
  a.milliCPU = Math.max(a.milliCPU, b.milliCPU);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  for (const [k, v] of b.scalar) a.scalar.set(k, Math.max(a.scalar.get(k) ?? 0, v));
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const r = resourceFromList(c.resources?.requests as Record<string, string> | undefined);
  if (nonZero) {
    if (!c.resources?.requests || !(CPU in c.resources.requests)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!c.resources?.requests || !(MEMORY in c.resources.requests)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request (upstream's resourcehelper.PodRequests): the sum of app containers and
 * sidecars (init containers with restartPolicy Always), or the largest init-phase demand if higher,
 * plus pod overhead. `nonZero` applies the 100m/200Mi defaults used by scoring.
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const reqs = emptyResource();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const phase = cloneResource(r);
      addInto(phase, sidecars);
      maxInto(initMax, phase);
    }
  }
  addInto(reqs, sidecars);
  maxInto(reqs, initMax);
  if (pod.spec?.overhead) addInto(reqs, resourceFromList(pod.spec.overhead as Record<string, string>));
  return reqs;
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** A pod affinity term with its selector parsed and namespaces resolved (upstream's AffinityTerm). */
export interface AffinityTerm {
  topologyKey: string;
  selector: Selector;
  /** Explicit namespaces; with `namespaceSelector` unset and this empty, the pod's own namespace. */
  namespaces: Set<string>;
  namespaceSelector?: Selector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

function affinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set(t.namespaces ?? []);
  let namespaceSelector: Selector | undefined;
  if (t.namespaceSelector) namespaceSelector = selectorFromLabelSelector(t.namespaceSelector);
  if (namespaces.size === 0 && !namespaceSelector) namespaces.add(pod.metadata?.namespace ?? 'default');
  let selector = selectorFromLabelSelector(t.labelSelector);
  const labels = pod.metadata?.labels ?? {};
  const extra = [];
  for (const k of t.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'in' as const, values: [labels[k]!] });
  for (const k of t.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'notin' as const, values: [labels[k]!] });
  if (extra.length && t.labelSelector) selector = selector.add(...extra);
  return { topologyKey: t.topologyKey, selector, namespaces, namespaceSelector };
}

/**
 * Does `term` (declared by some pod) select `pod`? `nsLabels` gives a namespace's labels, for
 * namespaceSelector terms.
 */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: (ns: string) => Record<string, string> | undefined): boolean {
  const ns = pod.metadata?.namespace ?? '';
  if (!term.namespaces.has(ns)) {
    if (!term.namespaceSelector) return false;
    if (!term.namespaceSelector.matches(nsLabels(ns) ?? {})) return false;
  }
  return term.selector.matches(pod.metadata?.labels ?? {});
}

/** A pod with everything the plugins need precomputed (upstream's PodInfo). */
export class PodInfo {
  readonly key: string;
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly hostPorts: HostPort[];
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  readonly priority: number;
  readonly tolerations: Toleration[];

  constructor(readonly pod: Pod) {
    this.key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    this.requests = podRequests(pod);
    this.nonZeroRequests = podRequests(pod, true);
    this.hostPorts = podHostPorts(pod);
    const a = pod.spec?.affinity;
    this.requiredAffinityTerms = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    this.requiredAntiAffinityTerms = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    this.preferredAffinityTerms = (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      ...affinityTerm(pod, w.podAffinityTerm),
      weight: w.weight,
    }));
    this.preferredAntiAffinityTerms = (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      ...affinityTerm(pod, w.podAffinityTerm),
      weight: w.weight,
    }));
    this.priority = pod.spec?.priority ?? 0;
    this.tolerations = pod.spec?.tolerations ?? [];
  }

  private imageNames?: string[];
  /** The normalised image of every init and app container (ImageLocality's per-node lookups). */
  containerImages(): string[] {
    this.imageNames ??= [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].map((c) => (c.image ? normalizedImageName(c.image) : ''));
    return this.imageNames;
  }

  hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length + this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length >
      0
    );
  }
}

export interface ImageState {
  size: number;
  /** How many nodes have this image (for ImageLocality's spread factor). */
  numNodes: number;
}

/** Strips a default tag, so `nginx` and `nginx:latest` (and docker.io/library/…) compare equal. */
export function normalizedImageName(name: string): string {
  let n = name;
  if (!/[:@]/.test(n.slice(n.lastIndexOf('/') + 1))) n += ':latest';
  if (n.startsWith('docker.io/library/')) n = n.slice('docker.io/library/'.length);
  else if (n.startsWith('docker.io/')) n = n.slice('docker.io/'.length);
  return n;
}

export class NodeInfo {
  node: Node;
  readonly name: string;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  requested = emptyResource();
  nonZeroRequested = emptyResource();
  allocatable: Resource;
  /** `protocol/port` → host IPs using it. */
  usedPorts = new Map<string, Set<string>>();
  /** Normalised image name → size in bytes (on this node). */
  images = new Map<string, number>();
  labels: Record<string, string>;
  taints: Taint[];
  generation = 0;

  constructor(node: Node) {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.allocatable = emptyResource();
    this.labels = {};
    this.taints = [];
    this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = resourceFromList(node.status?.allocatable as Record<string, string> | undefined);
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.images.clear();
    for (const img of node.status?.images ?? []) for (const n of img.names ?? []) this.images.set(normalizedImageName(n), img.sizeBytes ?? 0);
    this.generation++;
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.requiredAffinityTerms.length || pi.requiredAntiAffinityTerms.length || pi.preferredAffinityTerms.length || pi.preferredAntiAffinityTerms.length)
      this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** Removes the pod with this key; returns false if it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const [pi] = this.pods.splice(i, 1);
    this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.key !== key);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.key !== key);
    this.update(pi!, -1);
    return true;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    addInto(this.requested, pi.requests, sign);
    addInto(this.nonZeroRequested, pi.nonZeroRequests, sign);
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (sign > 0) {
        if (!ips) this.usedPorts.set(k, (ips = new Set()));
        ips.add(hp.ip);
      } else if (ips) {
        ips.delete(hp.ip);
        if (!ips.size) this.usedPorts.delete(k);
      }
    }
    this.generation++;
  }

  /** A copy for what-if evaluation (preemption removes victims from it). */
  clone(): NodeInfo {
    const c = Object.create(NodeInfo.prototype) as NodeInfo;
    Object.assign(c, this);
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Set(v)]));
    return c;
  }
}
