// A profile's plugins wired into extension points, and the scheduling algorithm over them (upstream's
// frameworkImpl plus schedulePod): PreFilter → Filter (a sample of nodes, as percentageOfNodesToScore)
// → PreScore → Score → NormalizeScore × weight → the best node, ties broken at random.
import { FitError, ERR_NO_NODES_AVAILABLE, type Diagnosis } from './fit-error.js';
import {
  CycleState,
  isEnqueueExtensions,
  isFilter,
  isPostFilter,
  isPreBind,
  isPreFilter,
  isPreScore,
  isScore,
  type ClusterEvent,
  type FilterPlugin,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type Snapshot,
} from './interface.js';
import type { Pod } from 'kubernetes-types/core/v1';
import type { NodeInfo, PodInfo } from './node-info.js';
import { Code, Status } from './status.js';

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** How many feasible nodes to look for before scoring (upstream's numFeasibleNodesToFind). */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let p = percentage;
  if (p <= 0) {
    p = 50 - Math.trunc(numAllNodes / 125);
    if (p < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) p = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (p >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * p) / 100);
  return Math.max(n , MIN_FEASIBLE_NODES_TO_FIND);
}

export interface ScoredPlugin {
  plugin: ScorePlugin;
  weight: number;
}

/** Per node: the rejecting plugin and reasons, or each plugin's weighted score. */
export interface NodeDecision {
  filter?: { plugin: string; reasons: string[] };
  scores?: Record<string, number>;
  total?: number;
}

export interface ScheduleResult {
  nodeName: string;
  evaluatedNodes: number;
  feasibleNodes: number;
  /** Filled when `explain` was asked for. */
  decisions?: Map<string, NodeDecision>;
}

export interface FrameworkOptions {
  schedulerName: string;
  plugins: Plugin[];
  /** Score weights by plugin name (default 1). */
  weights?: Record<string, number>;
  percentageOfNodesToScore?: number;
  random?: () => number;
}

export class Framework {
  readonly schedulerName: string;
  readonly preFilter: PreFilterPlugin[];
  readonly filters: FilterPlugin[];
  readonly postFilters: PostFilterPlugin[];
  readonly preScore: PreScorePlugin[];
  readonly scores: ScoredPlugin[];
  readonly preBind: PreBindPlugin[];
  private readonly events = new Map<string, ClusterEvent[]>();
  private readonly percentage: number;
  private readonly random: () => number;
  private nextStartNodeIndex = 0;
  /** Per cycle: the Filter plugins PreFilter did not skip. */
  private readonly activeFilters = new WeakMap<CycleState, { skipped: number; filters: FilterPlugin[] }>();

  constructor(opts: FrameworkOptions) {
    this.schedulerName = opts.schedulerName;
    this.preFilter = opts.plugins.filter(isPreFilter);
    this.filters = opts.plugins.filter(isFilter);
    this.postFilters = opts.plugins.filter(isPostFilter);
    this.preScore = opts.plugins.filter(isPreScore);
    this.preBind = opts.plugins.filter(isPreBind);
    this.scores = opts.plugins.filter(isScore).map((plugin) => ({ plugin, weight: opts.weights?.[plugin.name] ?? 1 }));
    for (const p of opts.plugins) if (isEnqueueExtensions(p)) this.events.set(p.name, p.eventsToRegister());
    this.percentage = opts.percentageOfNodesToScore ?? 0;
    this.random = opts.random ?? Math.random;
  }

  /** Whether `event` may make a pod rejected by `plugins` schedulable (no plugins: any event may). */
  eventMayHelp(plugins: ReadonlySet<string>, event: ClusterEvent): boolean {
    if (plugins.size === 0) return true;
    for (const name of plugins) {
      const evs = this.events.get(name);
      if (!evs) return true;
      for (const e of evs) {
        const resOk = e.resource === '*' || e.resource === event.resource || (e.resource === 'Pod' && event.resource === 'AssignedPod');
        if (resOk && (e.action === '*' || e.action === event.action)) return true;
      }
    }
    return false;
  }

  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): { status: Status; nodeNames?: Set<string> } {
    let nodeNames: Set<string> | undefined;
    for (const p of this.preFilter) {
      const { result, status } = p.preFilter(state, pod, snapshot);
      if (status.isSkip()) {
        state.skipFilter.add(p.name);
        continue;
      }
      if (!status.isSuccess()) return { status: status.withPlugin(p.name) };
      if (result?.nodeNames) nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => result.nodeNames!.has(n))) : result.nodeNames;
    }
    return { status: Status.success(), nodeNames };
  }

  /** Runs Filter plugins in order; the first rejection wins. */
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): Status {
    // The filters not skipped by PreFilter, worked out once per cycle (the same for every node).
    let active = this.activeFilters.get(state);
    if (!active || active.skipped !== state.skipFilter.size) {
      const filters = state.skipFilter.size ? this.filters.filter((p) => !state.skipFilter.has(p.name)) : this.filters;
      active = { skipped: state.skipFilter.size, filters };
      this.activeFilters.set(state, active);
    }
    const filters = active.filters;
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i]!;
      const s = p.filter(state, pod, node, snapshot);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  runAddPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, snapshot: Snapshot): void {
    for (const p of this.preFilter) if (!state.skipFilter.has(p.name)) p.addPod?.(state, pod, other, node, snapshot);
  }
  runRemovePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, snapshot: Snapshot): void {
    for (const p of this.preFilter) if (!state.skipFilter.has(p.name)) p.removePod?.(state, pod, other, node, snapshot);
  }

  /** Runs PreBind plugins in order; the first non-success stops (upstream's RunPreBindPlugins). */
  async runPreBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.preBind) {
      const s = await p.preBind(state, pod, nodeName);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  async runPostFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snapshot: Snapshot): Promise<{ result?: PostFilterResult; status: Status }> {
    let last: { result?: PostFilterResult; status: Status } = { status: Status.unschedulable() };
    for (const p of this.postFilters) {
      const r = await p.postFilter(state, pod, statuses, snapshot);
      if (r.status.isSuccess()) return r;
      last = r;
    }
    return last;
  }

  /**
   * Picks a node for the pod or throws a FitError (unschedulable) or another Error. `explain` records
   * every node's filter result and scores, evaluating all nodes.
   */
  schedulePod(state: CycleState, pod: PodInfo, snapshot: Snapshot, explain = false): ScheduleResult {
    const all = snapshot.nodes();
    if (all.length === 0) throw new Error(ERR_NO_NODES_AVAILABLE);
    const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set() };
    const decisions = explain ? new Map<string, NodeDecision>() : undefined;

    const pre = this.runPreFilter(state, pod, snapshot);
    if (!pre.status.isSuccess()) {
      if (pre.status.code === Code.Error) throw new Error(pre.status.message());
      diagnosis.preFilterMsg = pre.status.message();
      diagnosis.unschedulablePlugins.add(pre.status.plugin);
      for (const n of all) diagnosis.nodeToStatus.set(n.name, pre.status);
      throw new FitError(all.length, diagnosis);
    }

    // A pod nominated by preemption tries its nominated node first.
    const nominated = pod.pod.status?.nominatedNodeName;
    let feasible: NodeInfo[] = [];
    if (nominated && !explain) {
      const n = snapshot.get(nominated);
      if (n && (!pre.nodeNames || pre.nodeNames.has(n.name)) && this.runFilter(state, pod, n, snapshot).isSuccess()) feasible = [n];
    }
    let evaluated = feasible.length;
    if (!feasible.length) {
      const candidates = pre.nodeNames ? all.filter((n) => pre.nodeNames!.has(n.name)) : all;
      for (const n of all) if (pre.nodeNames && !pre.nodeNames.has(n.name)) diagnosis.nodeToStatus.set(n.name, Status.unresolvable("node(s) didn't satisfy plugin(s) [PreFilter]"));
      const want = explain ? candidates.length : numFeasibleNodesToFind(this.percentage, candidates.length);
      const len = candidates.length;
      const start = len ? this.nextStartNodeIndex % len : 0;
      let i = 0;
      for (; i < len && feasible.length < want; i++) {
        const n = candidates[(start + i) % len]!;
        const s = this.runFilter(state, pod, n, snapshot);
        if (s.isSuccess()) feasible.push(n);
        else {
          if (s.code === Code.Error) throw new Error(s.message());
          diagnosis.nodeToStatus.set(n.name, s);
          diagnosis.unschedulablePlugins.add(s.plugin);
          decisions?.set(n.name, { filter: { plugin: s.plugin, reasons: [...s.reasons] } });
        }
      }
      evaluated = i;
      this.nextStartNodeIndex = len ? (start + i) % len : 0;
    }
    if (!feasible.length) throw new FitError(all.length, diagnosis);
    if (feasible.length === 1 && !explain) return { nodeName: feasible[0]!.name, evaluatedNodes: evaluated, feasibleNodes: 1 };

    const totals = this.prioritize(state, pod, feasible, snapshot, decisions);
    let best = 0;
    let ties = 0;
    for (let i = 0; i < totals.length; i++) {
      if (i === 0 || totals[i]! > totals[best]!) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return { nodeName: feasible[best]!.name, evaluatedNodes: evaluated, feasibleNodes: feasible.length, decisions };
  }

  /** Weighted sum of every Score plugin's normalised score, per node. */
  prioritize(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snapshot: Snapshot, decisions?: Map<string, NodeDecision>): number[] {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, nodes, snapshot);
      if (s.isSkip()) state.skipScore.add(p.name);
      else if (!s.isSuccess()) throw new Error(s.message());
    }
    const totals = new Array<number>(nodes.length).fill(0);
    const names = nodes.map((n) => n.name);
    for (const { plugin, weight } of this.scores) {
      if (state.skipScore.has(plugin.name)) continue;
      const scores = nodes.map((n) => plugin.score(state, pod, n, snapshot));
      plugin.normalizeScore?.(state, pod, scores, names);
      for (let i = 0; i < nodes.length; i++) {
        totals[i]! += scores[i]! * weight;
        if (decisions) {
          const d = decisions.get(names[i]!) ?? {};
          (d.scores ??= {})[plugin.name] = scores[i]! * weight;
          decisions.set(names[i]!, d);
        }
      }
    }
    if (decisions) nodes.forEach((n, i) => (decisions.get(n.name) ?? decisions.set(n.name, {}).get(n.name)!).total = totals[i]);
    return totals;
  }
}

export { CycleState };
