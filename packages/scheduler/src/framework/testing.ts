// Builders for plugin tests: fake nodes and pods, and a snapshot over them (no API server).
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { SchedulerCache } from '../cache.js';
import { PodInfo } from './node-info.js';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
  unschedulable?: boolean;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

export function makeNode(name: string, opts: NodeOptions = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' }, images: opts.images },
  };
}

export function makePod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}, opts: { labels?: Record<string, string>; cpu?: string; memory?: string; namespace?: string } = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    metadata: { name, namespace: opts.namespace ?? 'default', uid: `uid-${name}`, labels: opts.labels },
    spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests } }], ...spec },
  };
}

/** A cache (which is the scheduling snapshot) holding these nodes and bound pods. */
export function makeSnapshot(nodes: Node[], bound: Array<[Pod, string]> = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.addNode(n);
  for (const [p, nodeName] of bound) c.addPod({ ...p, spec: { ...p.spec!, nodeName } });
  return c;
}

export const info = (p: Pod) => new PodInfo(p);
