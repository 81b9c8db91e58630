// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the unschedulable taint.
import type { ClusterEvent, EnqueueExtensions, FilterPlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import { tolerationsTolerateTaint } from '@kubelab/api';

export const NODE_UNSCHEDULABLE = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_UNSCHEDULABLE;
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
  filter(_s: unknown, pod: PodInfo, node: NodeInfo): Status {
    if (!node.node.spec?.unschedulable) return Status.success();
    if (tolerationsTolerateTaint(pod.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' })) return Status.success();
    return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  }
}
