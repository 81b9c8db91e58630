// PodTopologySpread: DoNotSchedule constraints filter nodes whose domain would exceed maxSkew;
// ScheduleAnyway constraints score nodes in less crowded domains higher.
import { findUntoleratedTaint, podMatchesNodeSelectorAndAffinity, selectorFromLabelSelector, type Selector } from '@kubelab/api';
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Snapshot } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { MAX_NODE_SCORE, Status } from '../framework/status.js';

export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + ' (missing required label)';

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorTaints: boolean;
}

function constraintsOf(pod: Pod, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  const labels = pod.metadata?.labels ?? {};
  return (pod.spec?.topologySpreadConstraints ?? [])
    .filter((c: TopologySpreadConstraint) => c.whenUnsatisfiable === when)
    .map((c) => {
      let selector = selectorFromLabelSelector(c.labelSelector);
      const extra = (c.matchLabelKeys ?? []).filter((k) => k in labels).map((k) => ({ key: k, operator: 'in' as const, values: [labels[k]!] }));
      if (extra.length && c.labelSelector) selector = selector.add(...extra);
      return {
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        selector,
        minDomains: c.minDomains ?? 1,
        honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
        honorTaints: c.nodeTaintsPolicy === 'Honor',
      };
    });
}

function nodeEligible(pod: PodInfo, node: NodeInfo, constraints: Constraint[]): boolean {
  for (const c of constraints) if (!(c.topologyKey in node.labels)) return false;
  const c0 = constraints[0];
  if (c0?.honorNodeAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod, node)) return false;
  if (c0?.honorTaints && findUntoleratedTaint(node.taints, pod.tolerations, ['NoSchedule', 'NoExecute'])) return false;
  return true;
}

function countMatching(c: Constraint, pod: PodInfo, node: NodeInfo): number {
  const ns = pod.pod.metadata?.namespace;
  let n = 0;
  for (const p of node.pods) {
    if (p.pod.metadata?.namespace !== ns || p.pod.metadata?.deletionTimestamp) continue;
    if (c.selector.matches(p.pod.metadata?.labels ?? {})) n++;
  }
  return n;
}

/** PreFilter state: matching pods per topology domain, per constraint. */
class FilterState {
  constructor(
    readonly constraints: Constraint[],
    /** per constraint: domain value → matching pods */
    readonly counts: Array<Map<string, number>>,
  ) {}
  clone(): FilterState {
    return new FilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
    );
  }
  minMatch(i: number): number {
    const m = this.counts[i]!;
    if (m.size < this.constraints[i]!.minDomains) return 0;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  }
  update(pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): void {
    if (other.pod.metadata?.namespace !== pod.pod.metadata?.namespace) return;
    if (!nodeEligible(pod, node, this.constraints)) return;
    this.constraints.forEach((c, i) => {
      if (!c.selector.matches(other.pod.metadata?.labels ?? {})) return;
      const v = node.labels[c.topologyKey]!;
      this.counts[i]!.set(v, (this.counts[i]!.get(v) ?? 0) + delta);
    });
  }
}

interface ScoreState {
  constraints: Constraint[];
  counts: Array<Map<string, number>>;
  weights: number[];
  ignored: Set<string>;
}

const FILTER_KEY = 'PreFilter' + POD_TOPOLOGY_SPREAD;
const SCORE_KEY = 'PreScore' + POD_TOPOLOGY_SPREAD;

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = POD_TOPOLOGY_SPREAD;

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', action: '*' },
      { resource: 'Node', action: '*' },
    ];
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): { status: Status } {
    const constraints = constraintsOf(pod.pod, 'DoNotSchedule');
    if (!constraints.length) return { status: Status.skip() };
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of snapshot.nodes()) {
      if (!nodeEligible(pod, node, constraints)) continue;
      constraints.forEach((c, i) => {
        const v = node.labels[c.topologyKey]!;
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countMatching(c, pod, node));
      });
    }
    state.write(FILTER_KEY, new FilterState(constraints, counts));
    return { status: Status.success() };
  }

  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, node: NodeInfo): void {
    state.read<FilterState>(FILTER_KEY)?.update(pod, toAdd, node, 1);
  }
  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, node: NodeInfo): void {
    state.read<FilterState>(FILTER_KEY)?.update(pod, toRemove, node, -1);
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return Status.success();
    const labels = pod.pod.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = node.labels[c.topologyKey];
      if (v === undefined) return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const self = c.selector.matches(labels) ? 1 : 0;
      const skew = (s.counts[i]!.get(v) ?? 0) + self - s.minMatch(i);
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snapshot: Snapshot): Status {
    const constraints = constraintsOf(pod.pod, 'ScheduleAnyway');
    if (!constraints.length) return Status.skip();
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const n of nodes) {
      if (constraints.some((c) => !(c.topologyKey in n.labels))) {
        ignored.add(n.name);
        continue;
      }
      constraints.forEach((c, i) => counts[i]!.set(n.labels[c.topologyKey]!, 0));
    }
    for (const node of snapshot.nodes()) {
      if (!nodeEligible(pod, node, constraints)) continue;
      constraints.forEach((c, i) => {
        const v = node.labels[c.topologyKey]!;
        if (!counts[i]!.has(v)) return;
        counts[i]!.set(v, counts[i]!.get(v)! + countMatching(c, pod, node));
      });
    }
    const weights = counts.map((m) => Math.log(m.size + 2));
    state.write(SCORE_KEY, { constraints, counts, weights, ignored } satisfies ScoreState);
    return Status.success();
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s || s.ignored.has(node.name)) return 0;
    let total = 0;
    s.constraints.forEach((c, i) => {
      const cnt = s.counts[i]!.get(node.labels[c.topologyKey]!) ?? 0;
      total += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(total);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: number[], names?: string[]): void {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return;
    let min = Infinity;
    let max = -Infinity;
    scores.forEach((v, i) => {
      if (names && s.ignored.has(names[i]!)) return;
      min = Math.min(min, v);
      max = Math.max(max, v);
    });
    for (let i = 0; i < scores.length; i++) {
      if (names && s.ignored.has(names[i]!)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.floor((MAX_NODE_SCORE * (max + min - scores[i]!)) / max);
    }
  }
}
