// The plugin contract (upstream's framework/interface.go, reduced): extension points are synchronous
// because a scheduling cycle reads only the in-memory snapshot; binding is the only async step.
import type { Pod } from 'kubernetes-types/core/v1';
import type { NodeInfo, PodInfo } from './node-info.js';
import type { Status } from './status.js';

/** Per-cycle scratch space plugins share between their extension points (upstream's CycleState). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter/PreScore returned Skip. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  /** Copy for preemption's what-if runs (values that get mutated must be copied by AddPod/RemovePod). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v && typeof v === 'object' && 'clone' in v && typeof v.clone === 'function' ? v.clone() : v);
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

/** The cluster as the current cycle sees it. */
export interface Snapshot {
  nodes(): NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Nodes that run at least one pod with (anti-)affinity terms. */
  nodesWithAffinityPods(): NodeInfo[];
  nodesWithRequiredAntiAffinityPods(): NodeInfo[];
  /** A namespace's labels (for namespaceSelector), undefined if unknown. */
  namespaceLabels(ns: string): Record<string, string> | undefined;
  /** How many nodes have this (normalised) image. */
  imageNumNodes(image: string): number;
}

export interface Plugin {
  readonly name: string;
}

/** A cluster change that may make a rejected pod schedulable. */
export interface ClusterEvent {
  resource: 'Node' | 'Pod' | 'AssignedPod' | 'Namespace' | 'PersistentVolumeClaim' | 'PersistentVolume' | 'StorageClass' | '*';
  action: 'Add' | 'Update' | 'Delete' | '*';
}

export interface EnqueueExtensions extends Plugin {
  /** Events after which pods this plugin rejected are retried. */
  eventsToRegister(): ClusterEvent[];
}

export interface PreFilterResult {
  /** Only these nodes can pass (e.g. NodeAffinity on metadata.name); undefined means all. */
  nodeNames?: Set<string>;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): { result?: PreFilterResult; status: Status };
  /** Keeps PreFilter state right when preemption adds or removes pods in a what-if. */
  addPod?(state: CycleState, pod: PodInfo, toAdd: PodInfo, node: NodeInfo, snapshot: Snapshot): void;
  removePod?(state: CycleState, pod: PodInfo, toRemove: PodInfo, node: NodeInfo, snapshot: Snapshot): void;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): Status;
}

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /** Called with every node's filter status when no node fits; may nominate a node (preemption). */
  postFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snapshot: Snapshot): Promise<{ result?: PostFilterResult; status: Status }>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snapshot: Snapshot): Status;
}

export interface ScorePlugin extends Plugin {
  /** A raw score; NormalizeScore (if any) maps raw scores into [0, MAX_NODE_SCORE]. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): number;
  /** `names[i]` is the node `scores[i]` belongs to. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: number[], names: string[]): void;
}

/** Runs after a node was chosen and before the pod is bound to it (e.g. writing volume bindings). */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

export interface BindPlugin extends Plugin {
  bind(pod: Pod, nodeName: string): Promise<Status>;
}

export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as PreFilterPlugin).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as FilterPlugin).filter === 'function';
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as PostFilterPlugin).postFilter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as PreScorePlugin).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as ScorePlugin).score === 'function';
}
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as PreBindPlugin).preBind === 'function';
}
export function isEnqueueExtensions(p: Plugin): p is EnqueueExtensions {
  return typeof (p as EnqueueExtensions).eventsToRegister === 'function';
}

/** Default-normalises raw scores to [0, 100] by the maximum (upstream's helper.DefaultNormalizeScore). */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) for (let i = 0; i < scores.length; i++) scores[i] = 100;
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.floor((100 * scores[i]!) / max);
    if (reverse) s = 100 - s;
    scores[i] = s;
  }
}
