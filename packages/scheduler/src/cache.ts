// The scheduler's view of the cluster (upstream's internal cache): nodes with the pods bound or
// assumed on them. Assumed pods are counted as soon as a node is chosen, so the next cycle sees the
// space as taken while the binding is still in flight. Single-threaded JS lets a scheduling cycle
// read it directly as its snapshot.
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1';
import type { Snapshot } from './framework/interface.js';
import { NodeInfo, PodInfo, normalizedImageName } from './framework/node-info.js';

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class SchedulerCache implements Snapshot {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  /** Nodes that exist (a NodeInfo may exist only to hold pods bound to a node we have not seen). */
  private list: NodeInfo[] = [];
  private listDirty = false;
  /** nodes() filtered to those with affinity pods / required anti-affinity pods; undefined when stale. */
  private affinityList?: NodeInfo[];
  private antiAffinityList?: NodeInfo[];
  private readonly pods = new Map<string, PodState>();
  private readonly imageNodes = new Map<string, number>();
  private readonly namespaces = new Map<string, Record<string, string>>();

  // Snapshot
  nodes(): NodeInfo[] {
    if (this.listDirty) {
      this.list = [...this.nodeInfos.values()].filter((n) => present.has(n));
      this.listDirty = false;
      this.affinityChanged();
    }
    return this.list;
  }
  get(name: string): NodeInfo | undefined {
    const n = this.nodeInfos.get(name);
    return n && present.has(n) ? n : undefined;
  }
  // Both lists are read by InterPodAffinity in every cycle: kept until a pod with affinity terms or a
  // node comes or goes, instead of a walk over every node per pod.
  nodesWithAffinityPods(): NodeInfo[] {
    const all = this.nodes();
    this.affinityList ??= all.filter((n) => n.podsWithAffinity.length > 0);
    return this.affinityList;
  }
  nodesWithRequiredAntiAffinityPods(): NodeInfo[] {
    const all = this.nodes();
    this.antiAffinityList ??= all.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    return this.antiAffinityList;
  }
  private affinityChanged(info?: PodInfo): void {
    if (info && !info.hasAffinity()) return;
    this.affinityList = undefined;
    this.antiAffinityList = undefined;
  }
  namespaceLabels(ns: string): Record<string, string> | undefined {
    return this.namespaces.get(ns);
  }
  imageNumNodes(image: string): number {
    return this.imageNodes.get(image) ?? 0;
  }

  nodeCount(): number {
    return this.nodes().length;
  }
  podCount(): number {
    return this.pods.size;
  }

  private nodeInfo(name: string): NodeInfo {
    let n = this.nodeInfos.get(name);
    if (!n) {
      n = new NodeInfo({ metadata: { name } });
      this.nodeInfos.set(name, n);
    }
    return n;
  }

  private countImages(n: NodeInfo, by: number): void {
    for (const img of n.images.keys()) {
      const c = (this.imageNodes.get(img) ?? 0) + by;
      if (c > 0) this.imageNodes.set(img, c);
      else this.imageNodes.delete(img);
    }
  }

  addNode(node: Node): void {
    const n = this.nodeInfo(node.metadata?.name ?? '');
    if (present.has(n)) this.countImages(n, -1);
    n.setNode(node);
    this.countImages(n, 1);
    if (!present.has(n)) {
      present.add(n);
      this.listDirty = true;
    }
  }
  updateNode(node: Node): void {
    this.addNode(node);
  }
  removeNode(node: Node): void {
    const n = this.nodeInfos.get(node.metadata?.name ?? '');
    if (!n) return;
    this.countImages(n, -1);
    present.delete(n);
    this.listDirty = true;
    if (!n.pods.length) this.nodeInfos.delete(n.name);
  }

  setNamespace(ns: Namespace, deleted = false): void {
    const name = ns.metadata?.name ?? '';
    if (deleted) this.namespaces.delete(name);
    else this.namespaces.set(name, ns.metadata?.labels ?? {});
  }

  /** Counts the pod on the node before it is bound. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.pods.has(info.key)) throw new Error(`pod ${info.key} is in the cache, so can't be assumed`);
    this.nodeInfo(nodeName).addPod(info);
    this.affinityChanged(info);
    this.pods.set(info.key, { info, nodeName, assumed: true });
  }

  /** Undoes assumePod after a failed binding. */
  forgetPod(key: string): void {
    const s = this.pods.get(key);
    if (!s?.assumed) return;
    this.removeFromNode(key, s.nodeName, s.info);
    this.pods.delete(key);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /** A bound pod seen by the informer (confirming an assumed one, or moving it if bound elsewhere). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? '';
    const old = this.pods.get(key);
    if (old) this.removeFromNode(key, old.nodeName, old.info);
    const info = old && old.info.pod.metadata?.uid === pod.metadata?.uid && old.info.pod.metadata?.resourceVersion === pod.metadata?.resourceVersion ? old.info : new PodInfo(pod);
    this.nodeInfo(nodeName).addPod(info);
    this.affinityChanged(info);
    this.pods.set(key, { info, nodeName, assumed: false });
  }
  updatePod(pod: Pod): void {
    this.addPod(pod);
  }
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const s = this.pods.get(key);
    if (!s) return;
    this.removeFromNode(key, s.nodeName, s.info);
    this.pods.delete(key);
  }

  private removeFromNode(key: string, nodeName: string, info: PodInfo): void {
    const n = this.nodeInfos.get(nodeName);
    if (!n) return;
    n.removePod(key);
    this.affinityChanged(info);
    if (!present.has(n) && !n.pods.length) this.nodeInfos.delete(nodeName);
  }
}

/** NodeInfos whose Node object exists. */
const present = new WeakSet<NodeInfo>();

export { normalizedImageName };
