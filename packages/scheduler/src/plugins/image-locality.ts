// ImageLocality: prefers nodes that already have the pod's images, weighted by image size and by how
// widely the image is spread (so one node with a popular image does not attract every pod).
import type { ClusterEvent, CycleState, EnqueueExtensions, ScorePlugin, Snapshot } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';

export const IMAGE_LOCALITY = 'ImageLocality';
const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export class ImageLocality implements ScorePlugin, EnqueueExtensions {
  readonly name = IMAGE_LOCALITY;
  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', action: 'Add' }];
  }
  score(_s: CycleState, pod: PodInfo, node: NodeInfo, snapshot: Snapshot): number {
    const images = pod.containerImages();
    let sum = 0;
    for (const name of images) {
      if (!name) continue;
      const size = node.images.size ? node.images.get(name) : undefined;
      if (size === undefined) continue;
      sum += Math.trunc(size * (snapshot.imageNumNodes(name) / Math.max(1, snapshot.nodes().length)));
    }
    const max = MAX_CONTAINER_THRESHOLD * Math.max(1, images.length);
    if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
    else if (sum > max) sum = max;
    return Math.trunc((100 * (sum - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
  }
}
