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
    const fractions: number[] = [];
    const pairs: Array<[number, number]> = [
      [node.allocatable.milliCPU, node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU],
      [node.allocatable.memory, node.nonZeroRequested.memory + pod.nonZeroRequests.memory],
    ];
    for (const [alloc, req] of pairs) {
      if (alloc === 0) continue;
      fractions.push(Math.min(1, req / alloc));
    }
    let std = 0;
    if (fractions.length === 2) std = Math.abs(fractions[0]! - fractions[1]!) / 2;
    else if (fractions.length > 2) {
      const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
      std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
    }
    return Math.trunc((1 - std) * 100);
  }
}
