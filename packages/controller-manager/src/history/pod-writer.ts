// The pod side effects of the workload controllers that build each pod themselves (Job, StatefulSet,
// DaemonSet: fixed names, per-node affinity, per-index labels), behind an interface so tests can fake
// them. Events are recorded by the controllers, whose messages differ.
import { isNotFound, type KubeObject } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { PODS } from '../controller-utils.js';

export interface PodWriter {
  create(pod: Pod): Promise<Pod>;
  /** Deletes a pod (a NotFound error is passed on). */
  delete(namespace: string, name: string, uid?: string): Promise<void>;
  /** A JSON merge patch. */
  patch(namespace: string, name: string, patch: object): Promise<Pod>;
}

export class ApiPodWriter implements PodWriter {
  constructor(private readonly client: RestClient) {}

  async create(pod: Pod): Promise<Pod> {
    return (await this.client.resource(PODS, pod.metadata!.namespace).create(pod as KubeObject)) as Pod;
  }

  async delete(namespace: string, name: string, uid?: string): Promise<void> {
    await this.client.resource(PODS, namespace).delete(name, uid ? { preconditions: { uid } } : undefined);
  }

  async patch(namespace: string, name: string, patch: object): Promise<Pod> {
    return (await this.client.resource(PODS, namespace).patch(name, patch, 'merge')) as Pod;
  }
}

/** Records what a controller did; `created` pods get a name (from generateName) and a uid. */
export class FakePodWriter implements PodWriter {
  readonly created: Pod[] = [];
  readonly deleted: string[] = [];
  readonly patched: Array<{ name: string; patch: object }> = [];
  /** Names whose create fails. */
  readonly failCreate = new Set<string>();
  private seq = 0;

  async create(pod: Pod): Promise<Pod> {
    const name = pod.metadata!.name ?? `${pod.metadata!.generateName}${(++this.seq).toString(36).padStart(5, 'x')}`;
    if (this.failCreate.has(name)) throw new Error('fake create failure');
    const p: Pod = { ...structuredClone(pod), metadata: { ...structuredClone(pod.metadata), name, uid: `uid-${name}` } };
    this.created.push(p);
    return p;
  }

  async delete(_namespace: string, name: string): Promise<void> {
    this.deleted.push(name);
  }

  async patch(namespace: string, name: string, patch: object): Promise<Pod> {
    this.patched.push({ name, patch });
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...((patch as { metadata?: object }).metadata ?? {}) } };
  }
}

/** Runs `fn`, treating NotFound as success. */
export async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
