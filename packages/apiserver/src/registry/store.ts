// The generic Store (upstream's registry/generic/registry.Store): keys, storage, resourceVersion
// checks, uid/creationTimestamp/generation, finalizers and graceful deletion, list and watch with
// selectors. Each resource supplies only a Strategy.
import { randomUUID } from 'node:crypto';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  deepCopy,
  expired,
  internal,
  invalid,
  notFound,
  serviceUnavailable,
  OPTIMISTIC_LOCK_MESSAGE,
  apiVersionOf,
  type FieldError,
  type GroupResource,
  type KubeList,
  type KubeObject,
  type ResourceInfo,
  validateObject,
  validateObjectUpdate,
} from '@kubelab/api';
import { StorageError, type Predicate, type Storage, type Watcher } from '../storage/interface.js';
import type { DeleteOptions, ResourceDefinition } from './strategy.js';
import { compileSelectors } from './selectors.js';
import type { ListQuery, ObjectKind, StandardStorage, UpdatedObjectInfo, UpdateOptions, WatchQuery, WriteOptions } from './rest.js';

export type Clock = () => Date;

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
  return s;
}

/** 9999-12-31T23:59:59Z. */
const LAST_RFC3339_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Objects their caller gave to the Store to change and keep (see handOver): not copied before a write. */
const handedOver = new WeakSet<object>();

/**
 * Gives `obj` to the Store's next create or update (as its input or what produce() returns): the Store may
 * change it and keep it instead of writing a deep copy. For objects nobody else holds, such as a request
 * body just decoded. Returns `obj`.
 */
export function handOver<T extends object>(obj: T): T {
  handedOver.add(obj);
  return obj;
}

/** The input of a write, copied unless it was handed over. */
function writable(input: KubeObject): KubeObject {
  if (handedOver.has(input)) {
    handedOver.delete(input);
    return input;
  }
  return structuredClone(input);
}

/** How many compiled selectors a Store keeps (all are dropped when it is full). */
const MAX_CACHED_PREDICATES = 256;

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

export class Store implements StandardStorage {
  readonly info: ResourceInfo;
  readonly gr: GroupResource;
  readonly kind: ObjectKind;
  readonly admitsWrites = true;
  private readonly clock: Clock;

  constructor(
    readonly def: ResourceDefinition,
    readonly storage: Storage,
    opts: { clock?: Clock } = {},
  ) {
    this.info = def.info;
    this.gr = { group: def.info.group, resource: def.info.resource };
    this.kind = { apiVersion: apiVersionOf(def.info), kind: def.info.kind };
    this.clock = opts.clock ?? (() => new Date());
  }

  /** `/registry/pods/` or `/registry/pods/<ns>/`. */
  prefix(namespace?: string): string {
    return this.info.namespaced && namespace ? `/registry/${this.info.resource}/${namespace}/` : `/registry/${this.info.resource}/`;
  }

  key(namespace: string, name: string): string {
    return this.info.namespaced ? `/registry/${this.info.resource}/${namespace}/${name}` : `/registry/${this.info.resource}/${name}`;
  }

  /** Sets apiVersion and kind; objects from the watch cache are shared and frozen, so those are copied when they differ. */
  private withTypeMeta(obj: KubeObject): KubeObject {
    const apiVersion = apiVersionOf(this.info);
    if (obj.apiVersion === apiVersion && obj.kind === this.info.kind) return obj;
    if (Object.isFrozen(obj)) return { ...obj, apiVersion, kind: this.info.kind };
    obj.apiVersion = apiVersion;
    obj.kind = this.info.kind;
    return obj;
  }

  /** Maps storage errors to API errors for this resource. */
  private mapError(err: unknown, name: string): StatusError {
    if (err instanceof StatusError) return err;
    if (err instanceof StorageError) {
      switch (err.code) {
        case 'KeyNotFound':
          return notFound(this.gr, name);
        case 'KeyExists':
          return alreadyExists(this.gr, name);
        case 'ResourceVersionConflicts':
          return conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
        case 'Expired':
          return expired(err.message);
        case 'TooLargeResourceVersion':
          return new StatusError({
            code: 504,
            reason: 'Timeout',
            message: err.message,
            details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
          });
        case 'Unreachable':
          return serviceUnavailable(`storage is unavailable: ${err.message}`);
        default:
          return internal(err);
      }
    }
    return internal(err);
  }

  async get(namespace: string, name: string, opts: { readOnly?: boolean } = {}): Promise<KubeObject> {
    try {
      return this.withTypeMeta(await this.storage.get(this.key(namespace, name), opts));
    } catch (err) {
      throw this.mapError(err, name);
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.storage.get(key);
      return true;
    } catch (err) {
      if (err instanceof StorageError && err.code === 'KeyNotFound') return false;
      throw this.mapError(err, '');
    }
  }

  /**
   * Compiled selectors by their text: the same few selectors come again and again (admission's look-ups by
   * name, every kubelet's spec.nodeName watch), and a predicate is a pure function of its text.
   */
  private readonly predicates = new Map<string, Predicate | undefined>();

  predicate(q: { labelSelector?: string; fieldSelector?: string }): Predicate | undefined {
    if (!q.labelSelector && !q.fieldSelector) return undefined;
    const key = `${q.labelSelector ?? ''}\u0000${q.fieldSelector ?? ''}`;
    if (this.predicates.has(key)) return this.predicates.get(key);
    // Invalid selectors throw here and are not remembered.
    const predicate = compileSelectors(this.info, q.labelSelector, q.fieldSelector);
    if (this.predicates.size >= MAX_CACHED_PREDICATES) this.predicates.clear();
    this.predicates.set(key, predicate);
    return predicate;
  }

  async list(namespace: string, q: ListQuery = {}): Promise<KubeList> {
    const predicate = this.predicate(q);
    if (q.resourceVersionMatch && !['NotOlderThan', 'Exact'].includes(q.resourceVersionMatch)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'resourceVersionMatch', badValue: q.resourceVersionMatch, detail: 'supported values: "Exact", "NotOlderThan", ""' },
      ]);
    }
    try {
      const res = await this.storage.list(this.prefix(namespace), {
        resourceVersion: q.resourceVersion,
        resourceVersionMatch: (q.resourceVersionMatch ?? '') as '',
        limit: q.limit,
        continue: q.continue,
        predicate,
      });
      const list: KubeList = {
        apiVersion: apiVersionOf(this.info),
        kind: this.info.listKind,
        metadata: { resourceVersion: res.resourceVersion },
        items: res.items.map((o) => this.withTypeMeta(o)),
      };
      if (res.continue) list.metadata.continue = res.continue;
      if (res.remainingItemCount !== undefined && res.continue) list.metadata.remainingItemCount = res.remainingItemCount;
      return list;
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Expired') {
        throw expired(
          q.continue
            ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
              'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
              'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
              'modified, or deleted between the time the first chunk was returned and now may show up in the list.'
            : `The resourceVersion for the provided list is too old.`,
        );
      }
      throw this.mapError(err, '');
    }
  }

  async watch(namespace: string, q: WatchQuery = {}): Promise<Watcher> {
    const predicate = this.predicate(q);
    const rv = q.resourceVersion ?? '';
    // Upstream: a watch from "" or "0" starts with the current state as synthetic ADDED events.
    const sendInitialEvents = q.sendInitialEvents ?? (rv === '' || rv === '0');
    try {
      const watcher = await this.storage.watch(this.prefix(namespace), {
        resourceVersion: rv,
        predicate,
        allowBookmarks: q.allowWatchBookmarks,
        sendInitialEvents,
      });
      return this.typedWatcher(watcher);
    } catch (err) {
      throw this.mapError(err, '');
    }
  }

  private typedWatcher(w: Watcher): Watcher {
    const self = this;
    return {
      stop: () => w.stop(),
      async *[Symbol.asyncIterator]() {
        for await (const ev of w) {
          yield ev.type === 'ERROR' ? ev : { type: ev.type, object: self.withTypeMeta(ev.object) };
        }
      },
    };
  }

  private validationErrors(obj: KubeObject, old: KubeObject | null): FieldError[] {
    const generic = old ? validateObjectUpdate(obj, old) : validateObject(obj);
    const specific = old ? this.def.strategy.validateUpdate(obj, old) : this.def.strategy.validate(obj);
    return [...generic, ...specific];
  }

  private invalid(obj: KubeObject, errs: FieldError[]): StatusError {
    return invalid({ group: this.info.group, kind: this.info.kind }, obj.metadata?.name ?? obj.metadata?.generateName ?? '', errs);
  }

  /**
   * What every new object goes through, from POST and from create-on-update (PUT, apply) alike (upstream's
   * rest.BeforeCreate): its namespace from the request (a different one in the body is a 400), the fields
   * only the server sets, the strategy's preparation, validation and canonical form.
   */
  private async beforeCreate(obj: KubeObject, namespace: string, opts: WriteOptions): Promise<void> {
    const { strategy } = this.def;
    const meta = obj.metadata;
    if (this.info.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace || meta.namespace;
    } else {
      delete meta.namespace;
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.clock());
    strategy.prepareForCreate(obj, opts.requester);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    const errs = this.validationErrors(obj, null);
    if (errs.length) throw this.invalid(obj, errs);
    strategy.canonicalize(obj);
    if (opts.validate) await opts.validate(obj, null);
  }

  /** Creates an object (POST): a generated name is retried on collision; allocations are undone on failure. */
  async create(namespace: string, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const { strategy } = this.def;
    const obj = this.withTypeMeta(writable(input));
    obj.metadata ??= {};
    const meta = obj.metadata;
    const generated = !meta.name && !!meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generated) meta.name = `${meta.generateName}${randomSuffix()}`;
      await this.beforeCreate(obj, namespace, opts);
      // Allocation hooks (ClusterIPs, NodePorts) must not run for a name that exists: that is AlreadyExists.
      if (strategy.beginCreate && (await this.exists(this.key(meta.namespace ?? '', meta.name!)))) {
        if (generated && attempt < 8) continue;
        throw alreadyExists(this.gr, meta.name!);
      }
      const undo = strategy.beginCreate ? (await strategy.beginCreate(obj, !!opts.dryRun, opts.requester)) || undefined : undefined;
      if (opts.dryRun) {
        if (undo) await undo().catch(() => undefined);
        return obj;
      }
      try {
        return this.withTypeMeta(await this.storage.create(this.key(meta.namespace ?? '', meta.name!), obj));
      } catch (err) {
        if (undo) await undo().catch(() => undefined);
        if (generated && err instanceof StorageError && err.code === 'KeyExists' && attempt < 8) continue;
        throw this.mapError(err, meta.name!);
      }
    }
  }

  /**
   * Replaces an object with what produce() makes of the current state, with optimistic concurrency:
   * a resourceVersion in the produced object must equal the current one (409 Conflict otherwise).
   * Used by PUT (produce returns the client's object) and PATCH (produce applies the patch).
   */
  async update(
    namespace: string,
    name: string,
    produce: UpdatedObjectInfo,
    opts: UpdateOptions & { subresource?: string } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const { strategy, subresources } = this.def;
    const key = this.key(namespace, name);
    const allowCreate = (strategy.allowCreateOnUpdate || !!opts.forceAllowCreate) && !opts.subresource;
    let created = false;
    let lastOld: KubeObject | undefined;
    let undo: (() => Promise<void>) | undefined ;
    const tryUpdate = async (current: KubeObject | null): Promise<KubeObject> => {
      if (undo) {
        await undo().catch(() => undefined);
        undo = undefined;
      }
      if (!current) {
        if (!allowCreate) throw notFound(this.gr, name);
        const input = await produce(null);
        created = true;
        if (input.metadata?.name && input.metadata.name !== name) throw badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
        const obj = this.withTypeMeta(writable(input));
        obj.metadata ??= {};
        obj.metadata.name = name;
        await this.beforeCreate(obj, namespace, opts);
        undo = strategy.beginCreate ? (await strategy.beginCreate(obj, !!opts.dryRun, opts.requester)) || undefined : undefined;
        return obj;
      }
      created = false;
      lastOld = current;
      const currentCopy = deepCopy(current);
      const input = await produce(currentCopy);
      // The copy made here is already this write's own (a binding or a status change edits it in place).
      const obj = this.withTypeMeta(input === currentCopy ? input : writable(input));
      obj.metadata ??= {};
      const meta = obj.metadata;
      if (meta.name && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
      meta.name = name;
      if (this.info.namespaced) {
        if (meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        meta.namespace = namespace;
      } else delete meta.namespace;
      const curMeta = current.metadata;
      if (meta.resourceVersion) {
        if (meta.resourceVersion !== curMeta.resourceVersion) throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
      } else if (!strategy.allowUnconditionalUpdate) {
        throw this.invalid(obj, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', badValue: '', detail: 'must be specified for an update' }]);
      }
      if (meta.uid && meta.uid !== curMeta.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${curMeta.uid}`);
      }
      // Fields only the server sets.
      meta.uid = curMeta.uid;
      meta.creationTimestamp = curMeta.creationTimestamp;
      meta.resourceVersion = curMeta.resourceVersion;
      if (curMeta.deletionTimestamp) {
        meta.deletionTimestamp = curMeta.deletionTimestamp;
        meta.deletionGracePeriodSeconds = curMeta.deletionGracePeriodSeconds;
      } else {
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
      }
      if (opts.subresource) {
        const sub = subresources[opts.subresource];
        if (!sub) throw notFound(this.gr, name);
        sub.prepareForUpdate(obj, current);
        const errs = sub.validateUpdate(obj, current);
        if (errs.length) throw this.invalid(obj, errs);
      } else {
        strategy.prepareForUpdate(obj, current);
        if (strategy.tracksGeneration) {
          meta.generation = (curMeta.generation ?? 1) + (specOf(obj) !== specOf(current) ? 1 : 0);
        } else delete meta.generation;
        const errs = this.validationErrors(obj, current);
        if (errs.length) throw this.invalid(obj, errs);
      }
      strategy.canonicalize(obj);
      if (opts.validate) await opts.validate(obj, current);
      if (!opts.subresource && strategy.beforeUpdate) undo = (await strategy.beforeUpdate(obj, current, !!opts.dryRun, opts.requester)) || undefined;
      return obj;
    };
    let stored: KubeObject;
    try {
      if (opts.dryRun) {
        let current: KubeObject | null = null;
        try {
          current = await this.storage.get(key);
        } catch (err) {
          if (!(err instanceof StorageError && err.code === 'KeyNotFound')) throw err;
        }
        // Dry runs go through every step but the write.
        const obj = await tryUpdate(current);
        if (undo) await (undo as () => Promise<void>)().catch(() => undefined);
        return { object: obj, created };
      }
      stored = await this.storage.guaranteedUpdate(key, tryUpdate, { ignoreNotFound: allowCreate });
    } catch (err) {
      if (undo) await (undo as () => Promise<void>)().catch(() => undefined);
      throw this.mapError(err, name);
    }
    this.withTypeMeta(stored);
    if (!created && !opts.subresource && this.def.strategy.afterUpdate && lastOld) await this.def.strategy.afterUpdate(stored, lastOld);
    // An object being deleted whose last finalizer was just removed goes away now.
    const ready = this.def.strategy.readyToDelete ? this.def.strategy.readyToDelete(stored) : !stored.metadata.finalizers?.length;
    if (stored.metadata.deletionTimestamp && ready && (stored.metadata.deletionGracePeriodSeconds ?? 0) === 0) {
      try {
        const gone = await this.storage.delete(key, { preconditions: { resourceVersion: stored.metadata.resourceVersion } });
        if (this.def.strategy.afterDelete) await this.def.strategy.afterDelete(gone);
        return { object: this.withTypeMeta(gone), created: false };
      } catch (err) {
        if (err instanceof StorageError && (err.code === 'KeyNotFound' || err.code === 'ResourceVersionConflicts')) return { object: stored, created };
        throw this.mapError(err, name);
      }
    }
    return { object: stored, created };
  }

  get returnDeletedObject(): boolean {
    return this.def.strategy.returnDeletedObject;
  }

  /**
   * Deletes an object. Objects with finalizers, or a graceful period (pods), get a deletionTimestamp and
   * stay until the finalizers are gone (deleted=false). Returns the last state.
   */
  async delete(namespace: string, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    const dryRun = !!opts.dryRun?.includes('All');
    for (let attempt = 0; attempt < 16; attempt++) {
      const current = await this.get(namespace, name);
      const meta = current.metadata;
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      const next = deepCopy(current);
      const custom = this.def.strategy.onDelete?.(next, opts);
      let keep = custom !== undefined;
      if (!keep) {
        const finalizers = new Set(next.metadata.finalizers ?? []);
        if (!meta.deletionTimestamp) {
          const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
          if (policy === 'Foreground') finalizers.add('foregroundDeletion');
          if (policy === 'Orphan') finalizers.add('orphan');
        }
        const grace = this.def.strategy.gracePeriod?.(current, opts) ?? 0;
        if (finalizers.size > 0 || grace > 0) {
          keep = true;
          next.metadata.finalizers = [...finalizers];
          const now = this.clock();
          // Capped at the last instant RFC 3339 can write (a grace period of 2^63-1 s must not break the write).
          const proposed = new Date(Math.min(now.getTime() + grace * 1000, LAST_RFC3339_MS));
          const existing = meta.deletionTimestamp ? new Date(meta.deletionTimestamp) : undefined;
          // A later delete may only shorten the grace period.
          if (!existing || proposed < existing) {
            next.metadata.deletionTimestamp = rfc3339(proposed);
            next.metadata.deletionGracePeriodSeconds = grace;
          }
          if (grace === 0 && finalizers.size === 0) keep = false;
        }
      }
      if (keep) {
        const updated = custom ?? next;
        if (dryRun) return { object: updated, deleted: false };
        if (JSON.stringify(updated) === JSON.stringify(current)) return { object: current, deleted: false };
        try {
          const stored = await this.storage.guaranteedUpdate(key, (cur) => {
            if (!cur || cur.metadata.resourceVersion !== meta.resourceVersion) throw new StorageError('ResourceVersionConflicts', key);
            return updated;
          });
          return { object: this.withTypeMeta(stored), deleted: false };
        } catch (err) {
          if (err instanceof StorageError && err.code === 'ResourceVersionConflicts') continue;
          throw this.mapError(err, name);
        }
      }
      if (dryRun) return { object: current, deleted: true };
      try {
        const gone = await this.storage.delete(key, { preconditions: { resourceVersion: meta.resourceVersion } });
        if (this.def.strategy.afterDelete) await this.def.strategy.afterDelete(gone);
        return { object: this.withTypeMeta(gone), deleted: true };
      } catch (err) {
        if (err instanceof StorageError && err.code === 'ResourceVersionConflicts') continue;
        throw this.mapError(err, name);
      }
    }
    throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
  }

  async deleteCollection(namespace: string, q: ListQuery, opts: DeleteOptions = {}): Promise<KubeList> {
    const list = await this.list(namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const deleted: KubeObject[] = [];
    for (const item of list.items) {
      try {
        const { object } = await this.delete(item.metadata.namespace ?? '', item.metadata.name!, opts);
        deleted.push(object);
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'NotFound') continue;
        throw err;
      }
    }
    return { ...list, items: deleted };
  }
}
