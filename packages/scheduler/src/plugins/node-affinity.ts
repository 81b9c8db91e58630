// NodeAffinity: nodeSelector and required node affinity filter; preferred terms add their weights.
import {
  defaultNormalizeScore,
  type ClusterEvent,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import { nodeSelectorTermMatches, podMatchesNodeSelectorAndAffinity } from '@kubelab/api';

export const NODE_AFFINITY = 'NodeAffinity';
export const ERR_REASON_POD_NOT_MATCH_NODE_SELECTOR = "node(s) didn't match Pod's node affinity/selector";

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NODE_AFFINITY;
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
  /** No nodeSelector and no required node affinity: every node passes, Filter is skipped (as upstream). */
  preFilter(_s: CycleState, pod: PodInfo): { status: Status } {
    const spec = pod.pod.spec;
    const selector = spec?.nodeSelector && Object.keys(spec.nodeSelector).length > 0;
    return { status: selector || spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? Status.success() : Status.skip() };
  }
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (podMatchesNodeSelectorAndAffinity(pod.pod, node)) return Status.success();
    return Status.unresolvable(ERR_REASON_POD_NOT_MATCH_NODE_SELECTOR);
  }
  /** Without preferred terms every node scores 0: Score is skipped (as upstream's PreScore). */
  preScore(_s: CycleState, pod: PodInfo): Status {
    return pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? Status.success() : Status.skip();
  }
  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    let total = 0;
    for (const t of pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node)) total += t.weight;
    }
    return total;
  }
  normalizeScore(_s: CycleState, _p: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, false);
  }
}
