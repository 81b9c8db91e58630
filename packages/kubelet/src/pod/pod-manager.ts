// Counterpart of pkg/kubelet/pod/pod_manager.go and the static-pod parts of kubelet.go (SyncPod's mirror
// pod step, HandlePodCleanups' orphaned mirror pods) and status_manager.go (statuses of static pods are
// written to their mirror pods): the kubelet's pods are the API pods bound to the node that are not
// mirror pods, plus the static pods of the file source.
import { notFound } from '@kubelab/api';
import type { Logger } from '@kubelab/component-base';
import type { Pod } from 'kubernetes-types/core/v1';
import { isMirrorPod } from '../config/file.js';
import type { PodStatusClient } from '../status/status-manager.js';
import { isMirrorPodOf, mirrorPodHash, type MirrorClient } from './mirror-client.js';

const fullName = (pod: Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

export interface PodManagerOptions {
  /** The API pods bound to the node (the informer's store), mirror pods included. */
  apiPods: () => Pod[];
  /** One API pod by namespace/name. */
  apiPod: (namespace: string, name: string) => Pod | undefined;
  mirrorClient: MirrorClient;
  /** Whether the node exists and is not being deleted (mirror pods are made only then). */
  nodeUsable?: () => boolean;
  /** Called with a mirror pod just created for a static pod (the kubelet writes the pod's status to it). */
  onMirrorPodCreated?: (pod: Pod, mirror: Pod) => Promise<void>;
  logger?: Logger;
}

export interface StaticPodChanges {
  added: Pod[];
  removed: Pod[];
}

export class PodManager {
  private readonly statics = new Map<string, Pod>();

  constructor(private readonly opts: PodManagerOptions) {}

  /** Replaces the static pods with the file source's set; returns what appeared and what went away. */
  setStaticPods(pods: readonly Pod[]): StaticPodChanges {
    const next = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    const added = pods.filter((p) => !this.statics.has(p.metadata?.uid ?? ''));
    const removed = [...this.statics.values()].filter((p) => !next.has(p.metadata?.uid ?? ''));
    this.statics.clear();
    for (const [uid, p] of next) this.statics.set(uid, p);
    return { added, removed };
  }

  staticPods(): Pod[] {
    return [...this.statics.values()];
  }

  /** Every pod the kubelet runs: API pods (not mirrors) and static pods. */
  getPods(): Pod[] {
    return [...this.opts.apiPods().filter((p) => !isMirrorPod(p)), ...this.statics.values()];
  }

  getPodByUID(uid: string): Pod | undefined {
    return this.statics.get(uid) ?? this.opts.apiPods().find((p) => p.metadata?.uid === uid && !isMirrorPod(p));
  }

  /** The static pod a mirror pod stands for (by full name), if the kubelet has one. */
  getPodByMirrorPod(mirror: Pod): Pod | undefined {
    const name = fullName(mirror);
    return [...this.statics.values()].find((p) => fullName(p) === name);
  }

  getMirrorPodByPod(pod: Pod): Pod | undefined {
    const m = this.opts.apiPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    return m && isMirrorPod(m) ? m : undefined;
  }

  /**
   * SyncPod's step for a static pod: a mirror pod being deleted, or made from another version of the
   * manifest, is deleted (gracePeriodSeconds 0, uid precondition); a missing one is created.
   */
  async syncMirrorPod(pod: Pod): Promise<void> {
    const mirror = this.getMirrorPodByPod(pod);
    let deleted = false;
    if (mirror && (mirror.metadata?.deletionTimestamp || !isMirrorPodOf(mirror, pod))) {
      this.opts.logger?.info({ pod: fullName(pod), podUID: mirror.metadata?.uid }, 'Deleting mirror pod because it is outdated or being deleted');
      deleted = await this.opts.mirrorClient.deleteMirrorPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', mirror.metadata?.uid);
      if (!deleted) return;
    }
    if (mirror && !deleted) return;
    if (this.opts.nodeUsable && !this.opts.nodeUsable()) {
      this.opts.logger?.debug({ pod: fullName(pod) }, 'No need to create a mirror pod, since the node is not registered or is being deleted');
      return;
    }
    this.opts.logger?.debug({ pod: fullName(pod) }, 'Creating a mirror pod for static pod');
    const created = await this.opts.mirrorClient.createMirrorPod(pod);
    if (created) await this.opts.onMirrorPodCreated?.(pod, created);
  }

  /** Static pods without a mirror pod of their hash (housekeeping syncs them so that the mirror is made). */
  staticPodsWithoutMirror(): Pod[] {
    return [...this.statics.values()].filter((p) => {
      const m = this.getMirrorPodByPod(p);
      return !m || !isMirrorPodOf(m, p) || !!m.metadata?.deletionTimestamp;
    });
  }

  /** Mirror pods whose static pod is gone (upstream GetOrphanedMirrorPodNames). */
  orphanedMirrorPods(): Pod[] {
    const names = new Set([...this.statics.values()].map(fullName));
    return this.opts.apiPods().filter((p) => isMirrorPod(p) && !names.has(fullName(p)));
  }

  /**
   * The status manager's client for the kubelet: a static pod's status goes to its mirror pod (with the
   * mirror's uid); without a mirror pod of the static pod's hash there is nothing to write to (NotFound).
   */
  statusClient(inner: PodStatusClient): PodStatusClient {
    return {
      patchStatus: (ns, name, patch) => {
        const meta = patch.metadata as { uid?: string } | undefined;
        const pod = meta?.uid ? this.statics.get(meta.uid) : undefined;
        if (!pod && !(meta?.uid && this.isStaticHash(ns, name, meta.uid))) return inner.patchStatus(ns, name, patch);
        const mirror = this.opts.apiPod(ns, name);
        if (!mirror || mirrorPodHash(mirror) !== meta!.uid) return Promise.reject(notFound({ group: '', resource: 'pods' }, name));
        return inner.patchStatus(ns, name, { ...patch, metadata: { ...meta, uid: mirror.metadata?.uid } });
      },
      deletePod: (ns, name, uid) => inner.deletePod(ns, name, uid),
    };
  }

  /** A static pod removed from the file but still terminating: its mirror pod still carries its hash. */
  private isStaticHash(ns: string, name: string, uid: string): boolean {
    const m = this.opts.apiPod(ns, name);
    return !!m && mirrorPodHash(m) === uid;
  }
}
