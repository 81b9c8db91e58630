// Test helpers: informers whose caches tests seed by hand, and a pod control that records calls.
import type { KubeObject } from '@kubelab/api';
import { Informer, type ListWatch } from '@kubelab/client';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { podFromTemplate, type PodControl } from './controller-utils.js';

const idle: ListWatch<KubeObject> = {
  list: async () => ({ apiVersion: 'v1', kind: 'List', metadata: {}, items: [] }),
  watch: async () => {
    throw new Error('not watching in tests');
  },
};

/** An informer that never talks to a server: seed it with `informer.store.add(obj)`. */
export function seededInformer(objs: KubeObject[] = []): Informer<KubeObject> {
  const inf = new Informer<KubeObject>({ listWatch: idle });
  for (const o of objs) inf.store.add(o);
  return inf;
}

export class FakePodControl implements PodControl {
  readonly created: Pod[] = [];
  readonly deleted: string[] = [];
  readonly patched: Array<{ name: string; patch: object }> = [];
  /** Fail creates after this many succeed. */
  createLimit = Infinity;
  private seq = 0;

  async createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, ref: OwnerReference): Promise<Pod> {
    if (this.created.length >= this.createLimit) throw new Error('fake create failure');
    const pod = podFromTemplate(template, owner, ref);
    pod.metadata!.name = `${pod.metadata!.generateName}${++this.seq}`;
    pod.metadata!.namespace = namespace;
    this.created.push(pod);
    return pod;
  }

  async deletePod(_namespace: string, name: string): Promise<void> {
    this.deleted.push(name);
  }

  async patchPod(namespace: string, name: string, patch: object): Promise<Pod> {
    this.patched.push({ name, patch });
    const meta = (patch as { metadata?: Pod['metadata'] }).metadata ?? {};
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...meta } };
  }
}
