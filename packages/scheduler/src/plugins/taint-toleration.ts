// TaintToleration: NoSchedule and NoExecute taints must be tolerated; untolerated PreferNoSchedule
// taints lower the score. (Evicting for NoExecute is the node lifecycle controller's job.)
import { defaultNormalizeScore, type ClusterEvent, type CycleState, type EnqueueExtensions, type FilterPlugin, type ScorePlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from '@kubelab/api';

export const TAINT_TOLERATION = 'TaintToleration';

export class TaintToleration implements FilterPlugin, ScorePlugin, EnqueueExtensions {
  readonly name = TAINT_TOLERATION;
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (!node.taints.length) return Status.success();
    const taint = findUntoleratedTaint(node.taints, pod.tolerations, ['NoSchedule', 'NoExecute']);
    if (!taint) return Status.success();
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }
  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (!node.taints.length) return 0;
    const tolerations = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    return n;
  }
  normalizeScore(_s: CycleState, _p: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, true);
  }
}
