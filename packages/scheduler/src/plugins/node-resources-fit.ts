// NodeResourcesFit: the pod's requests must fit in allocatable minus what pods on the node request
// (and one more pod must fit); scoring prefers the least (or most) allocated node.
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, ScorePlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo, Resource } from '../framework/node-info.js';
import { Status } from '../framework/status.js';

export const NODE_RESOURCES_FIT = 'NodeResourcesFit';

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** Whether the pod fits (fitsRequest finds nothing), without building the list: the filter's common case. */
function fits(req: Resource, node: NodeInfo): boolean {
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.length + 1 > alloc.allowedPodNumber) return false;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) return false;
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) return false;
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  if (req.scalar.size) for (const [name, v] of req.scalar) if (v !== 0 && v > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) return false;
  return true;
}

/** Every resource the pod does not fit on the node for (upstream's fitsRequest). */
export function fitsRequest(req: Resource, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: node.pods.length, capacity: alloc.allowedPodNumber });
  }
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0) return out;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU)
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: req.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  if (req.memory > 0 && req.memory > alloc.memory - used.memory)
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: req.memory, used: used.memory, capacity: alloc.memory });
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage)
    out.push({
      resourceName: 'ephemeral-storage',
      reason: 'Insufficient ephemeral-storage',
      requested: req.ephemeralStorage,
      used: used.ephemeralStorage,
      capacity: alloc.ephemeralStorage,
    });
  for (const [name, v] of req.scalar) {
    if (v === 0) continue;
    const a = alloc.scalar.get(name) ?? 0;
    const u = used.scalar.get(name) ?? 0;
    if (v > a - u) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: v, used: u, capacity: a });
  }
  return out;
}

export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

export interface NodeResourcesFitArgs {
  scoringStrategy?: { type?: ScoringStrategy; resources?: Array<{ name: string; weight: number }> };
}

function amount(r: Resource, name: string): number {
  if (name === 'cpu') return r.milliCPU;
  if (name === 'memory') return r.memory;
  if (name === 'ephemeral-storage') return r.ephemeralStorage;
  return r.scalar.get(name) ?? 0;
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NODE_RESOURCES_FIT;
  private readonly strategy: ScoringStrategy;
  private readonly resources: Array<{ name: string; weight: number }>;

  constructor(args: NodeResourcesFitArgs = {}) {
    this.strategy = args.scoringStrategy?.type ?? 'LeastAllocated';
    this.resources = args.scoringStrategy?.resources ?? [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ];
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', action: 'Delete' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (fits(pod.requests, node)) return Status.success();
    const insufficient = fitsRequest(pod.requests, node);
    if (!insufficient.length) return Status.success();
    return Status.unschedulable(...insufficient.map((i) => i.reason));
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    let sum = 0;
    let weights = 0;
    for (let i = 0; i < this.resources.length; i++) {
      const { name, weight } = this.resources[i]!;
      const alloc = name === 'pods' ? node.allocatable.allowedPodNumber : amount(node.allocatable, name);
      if (alloc === 0) continue;
      const requested = amount(node.nonZeroRequested, name) + amount(pod.nonZeroRequests, name);
      let s: number;
      if (this.strategy === 'LeastAllocated') s = requested > alloc ? 0 : Math.floor(((alloc - requested) * 100) / alloc);
      else s = requested > alloc ? 100 : Math.floor((requested * 100) / alloc);
      sum += s * weight;
      weights += weight;
    }
    return weights === 0 ? 0 : Math.floor(sum / weights);
  }
}
