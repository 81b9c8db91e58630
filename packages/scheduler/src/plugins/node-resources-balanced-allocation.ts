// NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory would be used in equal
// proportion after placing the pod (score = (1 - standard deviation of the fractions) × 100).
import type { ClusterEvent, CycleState, EnqueueExtensions, ScorePlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';

export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation';

export class NodeResourcesBalancedAllocation implements ScorePlugin, EnqueueExtensions {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION;
  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }
  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    // CPU and memory only: with two fractions the standard deviation is half their difference.
    const cpuAlloc = node.allocatable.milliCPU;
    const memAlloc = node.allocatable.memory;
    const cpu = cpuAlloc === 0 ? -1 : Math.min(1, (node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU) / cpuAlloc);
    const mem = memAlloc === 0 ? -1 : Math.min(1, (node.nonZeroRequested.memory + pod.nonZeroRequests.memory) / memAlloc);
    const std = cpu >= 0 && mem >= 0 ? Math.abs(cpu - mem) / 2 : 0;
    return Math.trunc((1 - std) * 100);
  }
}
