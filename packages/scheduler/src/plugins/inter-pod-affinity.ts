// InterPodAffinity: required pod affinity / anti-affinity of the incoming pod, and existing pods'
// required anti-affinity, filter nodes by topology domain; preferred terms (both ways) score them.
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Snapshot } from '../framework/interface.js';
import { termMatches, type AffinityTerm, type NodeInfo, type PodInfo } from '../framework/node-info.js';
import { MAX_NODE_SCORE, Status } from '../framework/status.js';

export const INTER_POD_AFFINITY = 'InterPodAffinity';
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
/** Upstream's default hardPodAffinityWeight. */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** topologyKey → value → count */
type TopologyCounts = Map<string, Map<string, number>>;

function bump(m: TopologyCounts, key: string, value: string, by: number): void {
  let inner = m.get(key);
  if (!inner) m.set(key, (inner = new Map()));
  inner.set(value, (inner.get(value) ?? 0) + by);
}

function countOn(m: TopologyCounts, node: NodeInfo, key: string): number {
  const v = node.labels[key];
  return v === undefined ? 0 : (m.get(key)?.get(v) ?? 0);
}

function cloneCounts(m: TopologyCounts): TopologyCounts {
  return new Map([...m].map(([k, v]) => [k, new Map(v)]));
}

class FilterState {
  constructor(
    /** Domains where some existing pod's required anti-affinity selects the incoming pod. */
    readonly existingAnti: TopologyCounts,
    /** Domains with pods matching all the incoming pod's required affinity terms. */
    readonly affinity: TopologyCounts,
    /** Domains with pods matching one of the incoming pod's required anti-affinity terms. */
    readonly anti: TopologyCounts,
  ) {}
  clone(): FilterState {
    return new FilterState(cloneCounts(this.existingAnti), cloneCounts(this.affinity), cloneCounts(this.anti));
  }
}

const FILTER_KEY = 'PreFilter' + INTER_POD_AFFINITY;
const SCORE_KEY = 'PreScore' + INTER_POD_AFFINITY;

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = INTER_POD_AFFINITY;

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', action: '*' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }

  private update(state: FilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, by: number, snapshot: Snapshot): void {
    const nsl = (ns: string) => snapshot.namespaceLabels(ns);
    for (const t of other.requiredAntiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pod.pod, nsl)) bump(state.existingAnti, t.topologyKey, v, by);
    }
    if (pod.requiredAffinityTerms.length && pod.requiredAffinityTerms.every((t) => termMatches(t, other.pod, nsl))) {
      for (const t of pod.requiredAffinityTerms) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined) bump(state.affinity, t.topologyKey, v, by);
      }
    }
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatches(t, other.pod, nsl)) bump(state.anti, t.topologyKey, v, by);
    }
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): { status: Status } {
    const own = pod.requiredAffinityTerms.length + pod.requiredAntiAffinityTerms.length > 0;
    const nodes = own ? snapshot.nodes() : snapshot.nodesWithRequiredAntiAffinityPods();
    if (!own && !nodes.length) return { status: Status.skip() };
    const s = new FilterState(new Map(), new Map(), new Map());
    for (const node of nodes) for (const other of own ? node.pods : node.podsWithRequiredAntiAffinity) this.update(s, pod, other, node, 1, snapshot);
    state.write(FILTER_KEY, s);
    return { status: Status.success() };
  }

  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, node: NodeInfo, snapshot: Snapshot): void {
    const s = state.read<FilterState>(FILTER_KEY);
    if (s) this.update(s, pod, toAdd, node, 1, snapshot);
  }
  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, node: NodeInfo, snapshot: Snapshot): void {
    const s = state.read<FilterState>(FILTER_KEY);
    if (s) this.update(s, pod, toRemove, node, -1, snapshot);
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): Status {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return Status.success();
    if (pod.requiredAffinityTerms.length) {
      const ok = pod.requiredAffinityTerms.every((t) => countOn(s.affinity, node, t.topologyKey) > 0);
      if (!ok) {
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        const anyMatch = [...s.affinity.values()].some((m) => [...m.values()].some((c) => c > 0));
        const selfMatch = pod.requiredAffinityTerms.every((t) => termMatches(t, pod.pod, (ns) => snapshot.namespaceLabels(ns)));
        const hasKeys = pod.requiredAffinityTerms.every((t) => t.topologyKey in node.labels);
        if (anyMatch || !selfMatch || !hasKeys) return Status.unresolvable(ERR_REASON_AFFINITY);
      }
    }
    for (const t of pod.requiredAntiAffinityTerms) if (countOn(s.anti, node, t.topologyKey) > 0) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
    for (const [key, values] of s.existingAnti) {
      const v = node.labels[key];
      if (v !== undefined && (values.get(v) ?? 0) > 0) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: NodeInfo[], snapshot: Snapshot): Status {
    const own = pod.preferredAffinityTerms.length + pod.preferredAntiAffinityTerms.length > 0;
    const nodes = own ? snapshot.nodes() : snapshot.nodesWithAffinityPods();
    if (!own && !nodes.length) return Status.skip();
    const nsl = (ns: string) => snapshot.namespaceLabels(ns);
    const scores: TopologyCounts = new Map();
    const add = (t: AffinityTerm, node: NodeInfo, w: number) => {
      const v = node.labels[t.topologyKey];
      if (v !== undefined) bump(scores, t.topologyKey, v, w);
    };
    for (const node of nodes) {
      for (const other of own ? node.pods : node.podsWithAffinity) {
        for (const t of pod.preferredAffinityTerms) if (termMatches(t, other.pod, nsl)) add(t, node, t.weight);
        for (const t of pod.preferredAntiAffinityTerms) if (termMatches(t, other.pod, nsl)) add(t, node, -t.weight);
        for (const t of other.requiredAffinityTerms) if (termMatches(t, pod.pod, nsl)) add(t, node, HARD_POD_AFFINITY_WEIGHT);
        for (const t of other.preferredAffinityTerms) if (termMatches(t, pod.pod, nsl)) add(t, node, t.weight);
        for (const t of other.preferredAntiAffinityTerms) if (termMatches(t, pod.pod, nsl)) add(t, node, -t.weight);
      }
    }
    if (!scores.size) return Status.skip();
    state.write(SCORE_KEY, scores);
    return Status.success();
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<TopologyCounts>(SCORE_KEY);
    if (!s) return 0;
    let total = 0;
    for (const [key, values] of s) {
      const v = node.labels[key];
      if (v !== undefined) total += values.get(v) ?? 0;
    }
    return total;
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: number[]): void {
    if (!state.read(SCORE_KEY)) return;
    let min = Infinity;
    let max = -Infinity;
    for (const v of scores) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.floor((MAX_NODE_SCORE * (scores[i]! - min)) / diff) : 0;
  }
}
