// A hollow kubelet (upstream kubemark's HollowKubelet, cmd/kubemark --morph=kubelet): the real kubelet of this
// package, over the hollow runtime, with nothing taken from the host: a fixed machine, stats from the runtime's
// pretend containers, no volume set-up (the pods' volumes are not written anywhere), no log directories, no
// HTTPS API (a thousand nodes in one process would fight for :10250). Registration, the Lease, node status,
// pod workers, the status manager and the PLEG are the real ones, so the apiserver sees a node as a real one.
import type { KubeletConfig } from '../config.js';
import type { KubeletDeps, PodVolumes } from '../kubelet.js';
import { HollowImageService, HollowRuntimeService } from './runtime.js';
import { HollowCgroupReader, hollowMachineInfo } from './stats.js';

/** The images every hollow node starts with (the node's status.images; any other is "pulled" at once). */
export const HOLLOW_IMAGES = ['registry.k8s.io/pause:3.10'];

/** Pods' volumes on a hollow node: nothing is mounted, every volume is "ready" at once. */
export const hollowVolumes: PodVolumes = {
  mountPod: async () => {},
  unmountPod: async () => {},
  paths: () => new Map(),
};

export interface HollowDepsOptions {
  /** Where pod IPs come from until the node's spec.podCIDR is known (default 10.255.0.0/16). */
  fallbackCIDR?: string;
  cpus?: number;
  memoryBytes?: number;
}

/** The hollow runtime of one node and the kubelet dependencies that replace the host. */
export function hollowKubeletDeps(
  config: Readonly<KubeletConfig>,
  opts: HollowDepsOptions = {},
): Required<Pick<KubeletDeps, 'runtime' | 'images' | 'machineInfo' | 'cgroups' | 'volumes' | 'mkdirAll' | 'serveAPI'>> & {
  runtime: HollowRuntimeService;
  images: HollowImageService;
} {
  const runtime = new HollowRuntimeService({ fallbackCIDR: opts.fallbackCIDR });
  return {
    runtime,
    images: new HollowImageService({ images: HOLLOW_IMAGES }),
    machineInfo: hollowMachineInfo(config.nodeName, { cpus: opts.cpus, memoryBytes: opts.memoryBytes }),
    cgroups: new HollowCgroupReader(runtime),
    volumes: hollowVolumes,
    mkdirAll: async () => {},
    serveAPI: false,
  };
}
