// DefaultPreemption (PostFilter): when no node fits, find a node where evicting lower-priority pods
// makes room, evict as few and as low-priority pods as possible, and nominate that node. As upstream, victims whose
// eviction would exceed a PodDisruptionBudget are kept if the pod still fits without evicting them, and the node
// whose victims violate the fewest budgets wins.
import { selectorFromLabelSelector } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { reasonHistogram } from '../framework/fit-error.js';
import type { CycleState, PostFilterPlugin, PostFilterResult, Snapshot } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Code, Status } from '../framework/status.js';

export const DEFAULT_PREEMPTION = 'DefaultPreemption';
export const ERR_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const ERR_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/** What preemption needs from the scheduler. */
export interface PreemptionHandle {
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): Status;
  runAddPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, snapshot: Snapshot): void;
  runRemovePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, snapshot: Snapshot): void;
  /** Deletes a victim and records the Preempted event. */
  evict(victim: Pod, preemptor: Pod, nodeName: string): Promise<void>;
  /** The PodDisruptionBudgets in the cluster (empty when none are known). */
  listPDBs(): readonly PodDisruptionBudget[];
}

export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  /** How many victims' evictions exceed a PodDisruptionBudget. */
  pdbViolations: number;
}

/**
 * Upstream's filterPodsWithPDBViolation: splits pods (most important first) into those whose eviction, counted in this
 * order against each matching budget's disruptionsAllowed, would violate a budget, and the others. A pod the budget
 * already lists in disruptedPods is being evicted through the API and counts as no violation.
 */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((b) => b.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((b) => {
    try {
      return selectorFromLabelSelector(b.spec?.selector);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    const meta = p.pod.metadata ?? {};
    pdbs.forEach((b, i) => {
      const sel = selectors[i];
      if (b.metadata?.namespace !== meta.namespace || !sel || sel.empty() || !sel.matches(meta.labels)) return;
      if (meta.name && b.status?.disruptedPods?.[meta.name]) return;
      allowed[i]!--;
      if (allowed[i]! < 0) violated = true;
    });
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION;
  constructor(private readonly handle: () => PreemptionHandle) {}

  /** Upstream's PodEligibleToPreemptOthers. */
  eligible(pod: PodInfo, snapshot: Snapshot): string | undefined {
    if (pod.pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = snapshot.get(nominated);
      if (n?.pods.some((p) => p.pod.metadata?.deletionTimestamp && p.priority < pod.priority)) return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  /** The victims that must go for the pod to fit on this node (and how many violate a budget), or why none do. */
  selectVictimsOnNode(
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    snapshot: Snapshot,
    pdbs: readonly PodDisruptionBudget[] = [],
  ): { victims?: PodInfo[]; pdbViolations?: number; status: Status } {
    const h = this.handle();
    const copy = node.clone();
    const st = state.clone();
    const lower = copy.pods.filter((p) => p.priority < pod.priority);
    if (!lower.length) return { status: Status.unresolvable(ERR_NO_VICTIMS) };
    for (const p of lower) {
      copy.removePod(p.key);
      h.runRemovePod(st, pod, p, copy, snapshot);
    }
    const fits = h.runFilter(st, pod, copy, snapshot);
    if (!fits.isSuccess()) return { status: fits };
    // Reprieve as many as possible, most important first: first those whose eviction would violate a budget.
    lower.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
    const { violating, nonViolating } = filterPodsWithPDBViolation(lower, pdbs);
    const victims: PodInfo[] = [];
    let pdbViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      copy.addPod(p);
      h.runAddPod(st, pod, p, copy, snapshot);
      if (h.runFilter(st, pod, copy, snapshot).isSuccess()) return true;
      copy.removePod(p.key);
      h.runRemovePod(st, pod, p, copy, snapshot);
      victims.push(p);
      return false;
    };
    for (const p of violating) if (!reprieve(p)) pdbViolations++;
    for (const p of nonViolating) reprieve(p);
    victims.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
    return { victims, pdbViolations, status: Status.success() };
  }

  /**
   * Upstream's pickOneNodeForPreemption: fewest budget violations, then the lowest highest-priority victim, the lowest
   * sum of victim priorities, the fewest victims, and the latest start among the highest-priority victims; then the first.
   */
  pick(candidates: Candidate[]): Candidate | undefined {
    const key = (c: Candidate): number[] => {
      const prios = c.victims.map((v) => v.priority);
      const highest = prios.length ? Math.max(...prios) : -Infinity;
      const sum = prios.reduce((a, p) => a + p + 2147483648, 0);
      const earliestTop = Math.min(...c.victims.filter((v) => v.priority === highest).map(startTime));
      // Smaller is better in every position; a later start is better, hence negated.
      return [c.pdbViolations, highest, sum, c.victims.length, -earliestTop];
    };
    let best: Candidate | undefined;
    let bestKey: number[] = [];
    for (const c of candidates) {
      const k = key(c);
      const i = k.findIndex((v, j) => v !== bestKey[j]);
      if (!best || (i >= 0 && k[i]! < bestKey[i]!)) {
        best = c;
        bestKey = k;
      }
    }
    return best;
  }

  async postFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, snapshot: Snapshot): Promise<{ result?: PostFilterResult; status: Status }> {
    const notEligible = this.eligible(pod, snapshot);
    if (notEligible) return { status: Status.unschedulable('preemption: ' + notEligible) };
    const nodeStatuses = new Map<string, Status>();
    const candidates: Candidate[] = [];
    const pdbs = this.handle().listPDBs();
    for (const node of snapshot.nodes()) {
      const s = statuses.get(node.name);
      if (!s || s.code === Code.UnschedulableAndUnresolvable) {
        nodeStatuses.set(node.name, Status.unresolvable(ERR_NOT_HELPFUL));
        continue;
      }
      const r = this.selectVictimsOnNode(state, pod, node, snapshot, pdbs);
      if (r.victims?.length) candidates.push({ nodeName: node.name, victims: r.victims, pdbViolations: r.pdbViolations ?? 0 });
      else nodeStatuses.set(node.name, r.victims ? Status.unresolvable(ERR_NO_VICTIMS) : r.status);
    }
    const best = this.pick(candidates);
    if (!best) {
      const n = snapshot.nodes().length;
      const msg = `preemption: 0/${n} nodes are available: ${reasonHistogram(nodeStatuses.values()).join(', ')}.`;
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(msg) };
    }
    const h = this.handle();
    await Promise.all(best.victims.map((v) => h.evict(v.pod, pod.pod, best.nodeName)));
    return { result: { nominatedNodeName: best.nodeName }, status: Status.success() };
  }
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime;
  return t ? Date.parse(t) : 0;
}
