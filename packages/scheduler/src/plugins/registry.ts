// Every in-tree plugin by name, and the default profile (upstream's registry.go and default plugin
// set for v1.32, with the same score weights).
import type { Plugin } from '../framework/interface.js';
import { DEFAULT_PREEMPTION, DefaultPreemption, type PreemptionHandle } from './default-preemption.js';
import { IMAGE_LOCALITY, ImageLocality } from './image-locality.js';
import { INTER_POD_AFFINITY, InterPodAffinity } from './inter-pod-affinity.js';
import { NODE_AFFINITY, NodeAffinity } from './node-affinity.js';
import { NODE_NAME, NodeName } from './node-name.js';
import { NODE_PORTS, NodePorts } from './node-ports.js';
import { NODE_RESOURCES_BALANCED_ALLOCATION, NodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.js';
import { NODE_RESOURCES_FIT, NodeResourcesFit, type NodeResourcesFitArgs } from './node-resources-fit.js';
import { NODE_UNSCHEDULABLE, NodeUnschedulable } from './node-unschedulable.js';
import { POD_TOPOLOGY_SPREAD, PodTopologySpread } from './pod-topology-spread.js';
import { TAINT_TOLERATION, TaintToleration } from './taint-toleration.js';
import { VOLUME_BINDING, VolumeBinding, type VolumeBindingHandle } from './volume-binding.js';

export interface PluginHandle {
  preemption: () => PreemptionHandle;
  /** PersistentVolume(Claim) and StorageClass caches and writes, once the informers exist. */
  volumes?: () => VolumeBindingHandle | undefined;
}

export type PluginFactory = (args: unknown, handle: PluginHandle) => Plugin;

export const REGISTRY: Readonly<Record<string, PluginFactory>> = Object.freeze({
  [NODE_UNSCHEDULABLE]: () => new NodeUnschedulable(),
  [NODE_NAME]: () => new NodeName(),
  [TAINT_TOLERATION]: () => new TaintToleration(),
  [NODE_AFFINITY]: () => new NodeAffinity(),
  [NODE_PORTS]: () => new NodePorts(),
  [NODE_RESOURCES_FIT]: (args) => new NodeResourcesFit(args as NodeResourcesFitArgs),
  [VOLUME_BINDING]: (_args, h) => new VolumeBinding(() => h.volumes?.()),
  [POD_TOPOLOGY_SPREAD]: () => new PodTopologySpread(),
  [INTER_POD_AFFINITY]: () => new InterPodAffinity(),
  [DEFAULT_PREEMPTION]: (_args, h) => new DefaultPreemption(h.preemption),
  [NODE_RESOURCES_BALANCED_ALLOCATION]: () => new NodeResourcesBalancedAllocation(),
  [IMAGE_LOCALITY]: () => new ImageLocality(),
});

export interface PluginConfig {
  name: string;
  /** Score weight (ignored for plugins that do not score). */
  weight?: number;
  args?: unknown;
}

export interface Profile {
  schedulerName: string;
  /** In Filter order. */
  plugins: PluginConfig[];
  /** 0: adaptive (50% minus 1% per 125 nodes, at least 5%). */
  percentageOfNodesToScore?: number;
}

/** The v1.32 default profile: filter order and score weights as upstream's getDefaultPlugins. */
export function defaultProfile(schedulerName = 'default-scheduler'): Profile {
  return {
    schedulerName,
    plugins: [
      { name: NODE_UNSCHEDULABLE },
      { name: NODE_NAME },
      { name: TAINT_TOLERATION, weight: 3 },
      { name: NODE_AFFINITY, weight: 2 },
      { name: NODE_PORTS },
      { name: NODE_RESOURCES_FIT, weight: 1 },
      { name: VOLUME_BINDING },
      { name: POD_TOPOLOGY_SPREAD, weight: 2 },
      { name: INTER_POD_AFFINITY, weight: 2 },
      { name: DEFAULT_PREEMPTION },
      { name: NODE_RESOURCES_BALANCED_ALLOCATION, weight: 1 },
      { name: IMAGE_LOCALITY, weight: 1 },
    ],
  };
}

export function buildPlugins(profile: Profile, handle: PluginHandle): { plugins: Plugin[]; weights: Record<string, number> } {
  const weights: Record<string, number> = {};
  const plugins = profile.plugins.map((cfg) => {
    const factory = REGISTRY[cfg.name];
    if (!factory) throw new Error(`plugin "${cfg.name}" does not exist`);
    weights[cfg.name] = cfg.weight ?? 1;
    return factory(cfg.args, handle);
  });
  return { plugins, weights };
}
