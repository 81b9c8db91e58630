// Helpers shared by the admission plugins: the request's target, Forbidden errors in upstream's
// shape (`<resource> "<name>" is forbidden: <why>`), store look-ups and pod walking.
import { StatusError, forbidden, type KubeObject } from '@kubelab/api';
import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1';
import type { Store } from '../registry/store.js';
import type { AdmissionAttributes } from './admission.js';

/** True for the named resource in the core group, without a subresource unless one is given. */
export function isCore(a: AdmissionAttributes, resource: string, subresource = ''): boolean {
  return a.resource.group === '' && a.resource.resource === resource && a.subresource === subresource;
}

/** admission.NewForbidden: `<resource> "<name>" is forbidden: <why>` with reason Forbidden (403). */
export function forbiddenFor(a: AdmissionAttributes, why: string): StatusError {
  const name = a.name || a.object?.metadata?.name || '';
  const resource = a.subresource ? `${a.resource.resource}/${a.subresource}` : a.resource.resource;
  return forbidden({ group: a.resource.group, resource }, name, why);
}

/** The object from storage, or undefined when it does not exist. */
export async function getOrUndefined(store: Store, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(namespace, name);
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

/** The objects of a namespace ('' for all / cluster-scoped) from the watch cache. */
export async function listCached(store: Store, namespace: string): Promise<KubeObject[]> {
  return (await store.list(namespace, { resourceVersion: '0' })).items;
}

export function asPod(obj: KubeObject | null): Pod | undefined {
  return obj ? (obj as unknown as Pod) : undefined;
}

/** Init containers, then containers (ephemeral containers have no resources or mounts to default). */
export function allContainers(spec: PodSpec | undefined): Container[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/** `container "a"` / `containers "a", "b"` as pod-security and quota messages name them. */
export function pluralize(singular: string, plural: string, n: number): string {
  return n === 1 ? singular : plural;
}

export function joinQuote(items: readonly string[]): string {
  return items.map((i) => JSON.stringify(i)).join(', ');
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** utilrand.String: n characters from the alphabet upstream uses for generated names. */
export function randomString(n: number, random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return s;
}
