// Counterpart of pkg/kubelet/pod/mirror_client.go: a static pod's stand-in in the apiserver. The mirror
// pod is the static pod with the annotation kubernetes.io/config.mirror (its hash) and, as upstream since
// 1.24, a controller ownerReference to the Node (so that the Node's deletion collects it and
// NodeRestriction can check who made it). It is deleted with gracePeriodSeconds 0 and a uid precondition.
import { findResource, isAlreadyExists, isConflict, isNotFound, type KubeObject } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod } from 'kubernetes-types/core/v1';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION } from '../config/file.js';

const PODS = findResource('', 'v1', 'pods')!;

/** The static pod's hash (the config.hash annotation every static pod carries). */
export function podHash(pod: Pod): string {
  return pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
}

/** The hash a mirror pod was made from, or undefined for a pod that is no mirror. */
export function mirrorPodHash(pod: Pod): string | undefined {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION];
}

/** Upstream's IsMirrorPodOf: same name and namespace, and the mirror's hash is the static pod's. */
export function isMirrorPodOf(mirror: Pod, pod: Pod): boolean {
  if (mirror.metadata?.name !== pod.metadata?.name || mirror.metadata?.namespace !== pod.metadata?.namespace) return false;
  const hash = mirrorPodHash(mirror);
  return hash !== undefined && hash === podHash(pod);
}

/** The mirror pod to create for a static pod on the node (name and uid of its Node). */
export function mirrorPodFor(pod: Pod, node: { name: string; uid: string }): Pod {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, ...meta } = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      annotations: { ...pod.metadata?.annotations, [CONFIG_MIRROR_ANNOTATION]: podHash(pod) },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: pod.spec,
  };
}

export interface MirrorClientOptions {
  client: RestClient;
  nodeName: string;
  /** The Node's uid, once the node is registered (from the node informer). */
  nodeUID: () => string | undefined;
  logger?: Logger;
}

export class MirrorClient {
  constructor(private readonly opts: MirrorClientOptions) {}

  /**
   * Creates the static pod's mirror pod. An existing pod of that name made from the same hash counts as
   * created (resolves undefined); throws otherwise.
   */
  async createMirrorPod(pod: Pod): Promise<Pod | undefined> {
    const nodeUID = this.opts.nodeUID();
    if (!nodeUID) throw new Error(`failed to get node UID: node "${this.opts.nodeName}" not found`);
    const mirror = mirrorPodFor(pod, { name: this.opts.nodeName, uid: nodeUID });
    const api = this.opts.client.resource<KubeObject & Pod>(PODS, pod.metadata?.namespace ?? 'default');
    try {
      return await api.create(mirror as KubeObject & Pod);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await api.get(pod.metadata?.name ?? '').catch(() => undefined);
      if (existing && mirrorPodHash(existing) === podHash(pod)) return undefined;
      throw err;
    }
  }

  /**
   * Deletes a mirror pod (gracePeriodSeconds 0, with the uid as a precondition when given). Resolves to
   * whether it deleted; a pod already gone or replaced is no error, as upstream.
   */
  async deleteMirrorPod(namespace: string, name: string, uid?: string): Promise<boolean> {
    this.opts.logger?.info({ pod: `${namespace}/${name}`, podUID: uid }, 'Deleting a mirror pod');
    try {
      await this.opts.client.resource(PODS, namespace).delete(name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
      return true;
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) this.opts.logger?.warn({ err: (err as Error).message, pod: `${namespace}/${name}` }, 'Failed deleting a mirror pod');
      return false;
    }
  }
}
