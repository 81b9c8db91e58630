// NodePorts: a hostPort can be used once per protocol and host IP (0.0.0.0 conflicts with every IP).
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, PreFilterPlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';

export const NODE_PORTS = 'NodePorts';
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_PORTS;
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
    ];
  }
  /** A pod without host ports conflicts with nothing: Filter is skipped (as upstream's PreFilter). */
  preFilter(_s: CycleState, pod: PodInfo): { status: Status } {
    return { status: pod.hostPorts.length ? Status.success() : Status.skip() };
  }
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    for (const hp of pod.hostPorts) {
      const ips = node.usedPorts.get(`${hp.protocol}/${hp.port}`);
      if (!ips) continue;
      if (hp.ip === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.ip)) return Status.unschedulable(ERR_REASON_NODE_PORTS);
    }
    return Status.success();
  }
}
