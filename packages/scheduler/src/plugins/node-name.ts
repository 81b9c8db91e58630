// NodeName: a pod that names its node fits only there.
import type { ClusterEvent, EnqueueExtensions, FilterPlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';

export const NODE_NAME = 'NodeName';
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_NAME;
  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', action: 'Add' }];
  }
  filter(_s: unknown, pod: PodInfo, node: NodeInfo): Status {
    const want = pod.pod.spec?.nodeName;
    if (want && want !== node.name) return Status.unresolvable(ERR_REASON_NODE_NAME);
    return Status.success();
  }
}
