// The garbage collector (upstream's pkg/controller/garbagecollector). The ownerReferences graph is
// kept as an index over every resource's informer (owner uid -> dependents), so each decision is
// made from the caches at sync time:
// - a dependent whose owners are all gone (verified with a live GET) is deleted, with Background
//   propagation unless its own finalizers ask otherwise;
// - an owner deleted with propagationPolicy=Foreground carries the `foregroundDeletion` finalizer: its
//   dependents are deleted, and the finalizer is removed once no dependent with blockOwnerDeletion is left;
// - an owner deleted with propagationPolicy=Orphan carries the `orphan` finalizer: the references to it
//   are removed from its dependents, then the finalizer.
import { findKind, isConflict, isNotFound, preferredResources, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger, type RestClient } from '@kubelab/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const OWNER_UID_INDEX = 'gc-owner-uid';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** The API calls the collector makes. */
export interface GarbageCollectorClient {
  /** A live read; undefined when the object does not exist. */
  get(info: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Deletes with a uid precondition. */
  delete(info: ResourceInfo, namespace: string, name: string, uid: string, policy: PropagationPolicy): Promise<void>;
  /** A merge patch. */
  patch(info: ResourceInfo, namespace: string, name: string, patch: object): Promise<void>;
}

export function apiGarbageCollectorClient(client: RestClient): GarbageCollectorClient {
  return {
    async get(info, namespace, name) {
      try {
        return await client.resource(info, namespace || undefined).get(name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async delete(info, namespace, name, uid, policy) {
      await client.resource(info, namespace || undefined).delete(name, { propagationPolicy: policy, preconditions: { uid } });
    },
    async patch(info, namespace, name, patch) {
      await client.resource(info, namespace || undefined).patch(name, patch, 'merge');
    },
  };
}

export const infoKey = (info: ResourceInfo) => `${info.group}/${info.version}/${info.resource}`;

/** Resources the collector watches: everything that can be listed, watched and deleted, except events. */
export function collectableResources(all: readonly ResourceInfo[]): ResourceInfo[] {
  return preferredResources(all).filter((r) => r.resource !== 'events' && ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v)));
}

export interface GarbageCollectorOptions {
  /** One informer per watched resource. */
  informers: Array<{ info: ResourceInfo; informer: Informer<KubeObject> }>;
  client: GarbageCollectorClient;
  clock?: Clock;
  logger?: Logger;
}

export class GarbageCollector implements RunnableController {
  readonly name = 'garbage-collector-controller';
  readonly queue: WorkQueue<string>;
  private readonly monitors = new Map<string, { info: ResourceInfo; informer: Informer<KubeObject> }>();
  private readonly client: GarbageCollectorClient;
  private readonly log?: Logger;

  constructor(opts: GarbageCollectorOptions) {
    this.client = opts.client;
    this.log = opts.logger;
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    for (const m of opts.informers) {
      this.monitors.set(infoKey(m.info), m);
      m.informer.addIndexer(OWNER_UID_INDEX, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
      m.informer.addEventHandler({
        onAdd: (o) => this.objectChanged(m.info, o),
        onUpdate: (_old, o) => this.objectChanged(m.info, o),
        onDelete: (o) => this.objectDeleted(o),
      });
    }
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  // -------------------------------------------------------------------------------------------
  // Graph queries

  private keyOf(info: ResourceInfo, o: KubeObject): string {
    return [infoKey(info), o.metadata.namespace ?? '', o.metadata.name, o.metadata.uid].join('|');
  }

  private enqueue(info: ResourceInfo, o: KubeObject): void {
    this.queue.add(this.keyOf(info, o));
  }

  /** Every cached object that names `uid` as an owner. */
  dependentsOf(uid: string): Array<{ info: ResourceInfo; obj: KubeObject }> {
    const out: Array<{ info: ResourceInfo; obj: KubeObject }> = [];
    for (const { info, informer } of this.monitors.values()) {
      for (const obj of informer.store.byIndex(OWNER_UID_INDEX, uid)) out.push({ info, obj });
    }
    return out;
  }

  private ownerInfo(ref: OwnerReference): ResourceInfo | undefined {
    return findKind(ref.apiVersion, ref.kind);
  }

  /** The owner from the cache, if it is there with the referenced uid. */
  private cachedOwner(dependent: KubeObject, ref: OwnerReference): { info: ResourceInfo; obj: KubeObject } | undefined {
    const info = this.ownerInfo(ref);
    if (!info) return undefined;
    const m = this.monitors.get(infoKey(info));
    const obj = m?.informer.lister.get(info.namespaced ? (dependent.metadata.namespace ?? '') : '', ref.name);
    return obj && obj.metadata.uid === ref.uid ? { info, obj } : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Events (only enqueue)

  private objectChanged(info: ResourceInfo, o: KubeObject): void {
    const fins = o.metadata.finalizers ?? [];
    if (o.metadata.ownerReferences?.length) this.enqueue(info, o);
    if (o.metadata.deletionTimestamp && (fins.includes(FINALIZER_ORPHAN) || fins.includes(FINALIZER_FOREGROUND))) {
      this.enqueue(info, o);
      if (fins.includes(FINALIZER_FOREGROUND)) for (const d of this.dependentsOf(o.metadata.uid!)) this.enqueue(d.info, d.obj);
    }
    this.enqueueDeletingOwners(o);
  }

  private objectDeleted(o: KubeObject): void {
    for (const d of this.dependentsOf(o.metadata.uid!)) this.enqueue(d.info, d.obj);
    this.enqueueDeletingOwners(o);
  }

  /** Owners waiting in foreground deletion re-check their dependents when one changes. */
  private enqueueDeletingOwners(o: KubeObject): void {
    for (const ref of o.metadata.ownerReferences ?? []) {
      const owner = this.cachedOwner(o, ref);
      if (owner?.obj.metadata.deletionTimestamp && owner.obj.metadata.finalizers?.includes(FINALIZER_FOREGROUND)) this.enqueue(owner.info, owner.obj);
    }
  }

  // -------------------------------------------------------------------------------------------
  // sync

  async sync(key: string): Promise<void> {
    const [ik, namespace, name, uid] = key.split('|') as [string, string, string, string];
    const m = this.monitors.get(ik);
    if (!m) return;
    const obj = m.informer.lister.get(namespace, name);
    if (!obj || obj.metadata.uid !== uid) return;
    const fins = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp) {
      if (fins.includes(FINALIZER_ORPHAN)) return this.orphanDependents(m.info, obj);
      if (fins.includes(FINALIZER_FOREGROUND)) return this.processDeletingDependents(m.info, obj);
      return;
    }
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;

    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const info = this.ownerInfo(ref);
      if (!info) {
        // An owner kind this cluster does not serve: never collect on its account.
        solid.push(ref);
        continue;
      }
      const ns = info.namespaced ? namespace : '';
      const owner = this.cachedOwner(obj, ref)?.obj ?? (await this.client.get(info, ns, ref.name));
      if (!owner || owner.metadata.uid !== ref.uid) dangling.push(ref);
      else if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes(FINALIZER_FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }

    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // Still owned: only drop the references to owners that are gone or waiting on their dependents.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.patchIgnoringMissing(m.info, obj, { metadata: { ownerReferences: refs.filter((r) => !drop.has(r.uid)) } });
      return;
    }
    let policy: PropagationPolicy = 'Background';
    if (waiting.length && this.dependentsOf(uid).length) policy = 'Foreground';
    else if (fins.includes(FINALIZER_ORPHAN)) policy = 'Orphan';
    else if (fins.includes(FINALIZER_FOREGROUND)) policy = 'Foreground';
    this.log?.debug?.({ object: `${namespace}/${name}`, resource: ik, policy }, 'Deleting object whose owners are gone');
    await this.deleteIgnoringMissing(m.info, obj, policy);
  }

  private async processDeletingDependents(info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    const deps = this.dependentsOf(uid);
    const blocking = deps.filter(({ obj }) => obj.metadata.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (!blocking.length) {
      await this.removeFinalizer(info, owner, FINALIZER_FOREGROUND);
      return;
    }
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) this.enqueue(d.info, d.obj);
  }

  private async orphanDependents(info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    for (const d of this.dependentsOf(uid)) {
      const refs = d.obj.metadata.ownerReferences ?? [];
      await this.patchIgnoringMissing(d.info, d.obj, { metadata: { ownerReferences: refs.filter((r) => r.uid !== uid) } });
    }
    await this.removeFinalizer(info, owner, FINALIZER_ORPHAN);
  }

  private async removeFinalizer(info: ResourceInfo, obj: KubeObject, finalizer: string): Promise<void> {
    const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    await this.patchIgnoringMissing(info, obj, { metadata: { finalizers: rest, resourceVersion: obj.metadata.resourceVersion } });
  }

  private async patchIgnoringMissing(info: ResourceInfo, obj: KubeObject, patch: { metadata: object }): Promise<void> {
    try {
      await this.client.patch(info, obj.metadata.namespace ?? '', obj.metadata.name!, { metadata: { uid: obj.metadata.uid, ...patch.metadata } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deleteIgnoringMissing(info: ResourceInfo, obj: KubeObject, policy: PropagationPolicy): Promise<void> {
    try {
      await this.client.delete(info, obj.metadata.namespace ?? '', obj.metadata.name!, obj.metadata.uid!, policy);
    } catch (err) {
      // Gone already, or replaced by a new object of the same name (uid precondition).
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
