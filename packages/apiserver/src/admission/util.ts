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

/**
 * An object from the watch cache, else from etcd (upstream's lister, then a live lookup on a miss, as the
 * ServiceAccount plugin does): the common case costs no etcd round trip, and an object created a moment
 * ago that has not reached the cache yet is still found.
 */
export async function getCachedOrLive(store: Store, namespace: string, name: string): Promise<KubeObject | undefined> {
  if (name) {
    // The key itself as the prefix (keys that merely start with it are filtered out by name).
    const cached = await store.storage.list(store.key(namespace, name), { resourceVersion: '0', predicate: (o) => o.metadata?.name === name });
    if (cached.items.length) return cached.items[0];
  }
  return getOrUndefined(store, namespace, name);
}

/**
 * Shares one run of `fetch(key)` among the callers that arrive while no run has started yet, so that N
 * concurrent admissions of a namespace cost one read instead of N. A caller never gets the result of a
 * run that started before it asked: one that arrives while a run is in flight waits for the next run,
 * which starts when the current one ends. Each result is therefore as fresh as a read of its own.
 */
export class CoalescedReads<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly next = new Map<string, Promise<T>>();

  constructor(private readonly fetch: (key: string) => Promise<T>) {}

  read(key: string): Promise<T> {
    const queued = this.next.get(key);
    if (queued) return queued;
    const current = this.running.get(key);
    if (!current) return this.start(key);
    const after = current.then(
      () => undefined,
      () => undefined,
    );
    const p = after.then(() => {
      this.next.delete(key);
      return this.start(key);
    });
    this.next.set(key, p);
    return p;
  }

  private start(key: string): Promise<T> {
    const p = this.fetch(key).finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
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
