// Storage in memory with etcd's semantics (upstream has no twin: its registry tests use an embedded
// etcd). A multi-version key space with one revision counter: resourceVersion is the revision that
// last wrote a key, lists can read any revision not yet compacted, and watches replay history from a
// resourceVersion before they go live. The registry and the request handlers are unit-tested on it;
// the same contract tests (test/fixtures/storage-contract.ts) hold it and EtcdStorage to one behaviour.
import type { KubeObject, WatchEvent } from '@kubelab/api';
import { toWatchEvent } from './etcd.js';
import { StorageError, type GuaranteedUpdateOptions, type ListOptions, type ListResult, type Preconditions, type Storage, type WatchOptions, type Watcher } from './interface.js';
import {
  CONTINUE_EXPIRED,
  INITIAL_EVENTS_END_ANNOTATION,
  LIST_EXPIRED,
  checkPreconditions,
  decodeFromStorage,
  encodeContinue,
  encodeForStorage,
  listRevisionOf,
  parseResourceVersion,
  tooOldResourceVersionEvent,
  withResourceVersion,
} from './util.js';
import { WatchQueue } from './watch-queue.js';

/** One write of a key: its value at `revision`, or null for a delete. */
interface Version {
  revision: number;
  createRevision: number;
  value: string | null;
}

/** A change, kept for watches that resume from an older resourceVersion. */
interface Change {
  revision: number;
  key: string;
  value: string | null;
  prev: Version | undefined;
}

interface LiveWatch {
  key: string;
  prefix: boolean;
  opts: WatchOptions;
  queue: WatchQueue;
}

export class MemoryStorage implements Storage {
  private revision = 1;
  private compactedRevision = 0;
  private readonly versions = new Map<string, Version[]>();
  private readonly history: Change[] = [];
  private readonly watches = new Set<LiveWatch>();

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    if (this.latest(key)?.value != null) throw new StorageError('KeyExists', key, `key exists: ${key}`);
    const value = encodeForStorage(obj);
    return decodeFromStorage(key, value, this.write(key, value));
  }

  async get(key: string): Promise<KubeObject> {
    const v = this.latest(key);
    if (v?.value == null) throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
    return decodeFromStorage(key, v.value, v.revision);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const { revision: pinned, fromKey, minRevision, continuing } = listRevisionOf(opts, prefix, limit > 0);
    if (minRevision > this.revision || pinned > this.revision) {
      throw new StorageError('TooLargeResourceVersion', prefix, `Too large resource version: ${Math.max(minRevision, pinned)}, current: ${this.revision}`);
    }
    const revision = pinned || this.revision;
    if (revision < this.compactedRevision) throw new StorageError('Expired', prefix, continuing ? CONTINUE_EXPIRED : LIST_EXPIRED);
    const items: KubeObject[] = [];
    let scanned = 0;
    let lastKey: string | undefined;
    const entries = this.snapshot((k) => k.startsWith(prefix) && k >= fromKey, revision);
    for (const [key, obj] of entries) {
      if (limit && items.length >= limit) break;
      scanned++;
      lastKey = key;
      if (!opts.predicate || opts.predicate(obj)) items.push(obj);
    }
    const present = entries.length;
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (limit && present > scanned && lastKey !== undefined) {
      result.continue = encodeContinue(`${lastKey}\x00`, prefix, revision);
      if (!opts.predicate) result.remainingItemCount = present - scanned;
    }
    return result;
  }

  async guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject> | KubeObject,
    opts: GuaranteedUpdateOptions = {},
  ): Promise<KubeObject> {
    for (;;) {
      const seen = this.latest(key);
      let current: KubeObject | null = null;
      if (seen?.value != null) {
        current = decodeFromStorage(key, seen.value, seen.revision);
        checkPreconditions(key, opts.preconditions, current);
      } else if (!opts.ignoreNotFound) {
        throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
      }
      const updated = await tryUpdate(current);
      // Another write landed while tryUpdate ran: start over from the fresh state, as etcd's txn would.
      if (this.latest(key) !== seen) continue;
      const value = encodeForStorage(updated);
      if (current && value === seen?.value) return current;
      return decodeFromStorage(key, value, this.write(key, value));
    }
  }

  async delete(key: string, opts: { preconditions?: Preconditions; validateDeletion?: (current: KubeObject) => Promise<void> | void } = {}): Promise<KubeObject> {
    for (;;) {
      const seen = this.latest(key);
      if (seen?.value == null) throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
      const current = decodeFromStorage(key, seen.value, seen.revision);
      checkPreconditions(key, opts.preconditions, current);
      await opts.validateDeletion?.(current);
      if (this.latest(key) !== seen) continue;
      return withResourceVersion(current, this.write(key, null));
    }
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<Watcher> {
    const prefix = key.endsWith('/');
    const matches = (k: string) => (prefix ? k.startsWith(key) : k === key);
    const rvString = opts.resourceVersion ?? '';
    const rv = parseResourceVersion(rvString);
    const watch: LiveWatch = { key, prefix, opts, queue: new WatchQueue({ onStop: () => this.watches.delete(watch) }) };
    const sendInitial = opts.sendInitialEvents ?? rvString === '0';
    if (sendInitial) {
      for (const [, item] of this.snapshot(matches, this.revision)) {
        if (!opts.predicate || opts.predicate(item)) watch.queue.push({ type: 'ADDED', object: item });
      }
      if (opts.allowBookmarks && opts.sendInitialEvents === true) {
        const object = { metadata: { resourceVersion: String(this.revision), annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } } } as KubeObject;
        watch.queue.push({ type: 'BOOKMARK', object });
      }
    } else if (rv > 0) {
      if (rv < this.compactedRevision) {
        watch.queue.end(tooOldResourceVersionEvent(rv, this.compactedRevision));
        return watch.queue;
      }
      for (const change of this.history) if (change.revision > rv && matches(change.key)) this.deliver(watch, change);
    }
    this.watches.add(watch);
    return watch.queue;
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async count(prefix: string): Promise<number> {
    let n = 0;
    for (const [key, versions] of this.versions) if (key.startsWith(prefix) && versions.at(-1)?.value != null) n++;
    return n;
  }

  /** Forgets history before `revision` (reads and watches from older revisions are then Expired). */
  async compact(revision: number): Promise<void> {
    if (revision <= this.compactedRevision) return;
    this.compactedRevision = revision;
    for (const [key, versions] of this.versions) {
      // Keep the newest version at or before the compaction point (it is still the state there).
      let keepFrom = 0;
      for (let i = 0; i < versions.length; i++) if (versions[i]!.revision <= revision) keepFrom = i;
      versions.splice(0, keepFrom);
      if (versions.length === 1 && versions[0]!.value === null && versions[0]!.revision <= revision) this.versions.delete(key);
    }
    const firstKept = this.history.findIndex((c) => c.revision > revision);
    this.history.splice(0, firstKept < 0 ? this.history.length : firstKept);
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.queue.stop();
  }

  private latest(key: string): Version | undefined {
    return this.versions.get(key)?.at(-1);
  }

  /** The version of key that was current at revision. */
  private at(key: string, revision: number): Version | undefined {
    const versions = this.versions.get(key) ?? [];
    for (let i = versions.length - 1; i >= 0; i--) if (versions[i]!.revision <= revision) return versions[i];
    return undefined;
  }

  /** The objects present at revision under the keys that match, in key order. */
  private snapshot(matches: (key: string) => boolean, revision: number): Array<[string, KubeObject]> {
    const out: Array<[string, KubeObject]> = [];
    for (const key of [...this.versions.keys()].filter(matches).sort()) {
      const v = this.at(key, revision);
      if (v?.value != null) out.push([key, decodeFromStorage(key, v.value, v.revision)]);
    }
    return out;
  }

  private write(key: string, value: string | null): number {
    const revision = ++this.revision;
    const prev = this.latest(key);
    const createRevision = prev?.value != null ? prev.createRevision : revision;
    let versions = this.versions.get(key);
    if (!versions) this.versions.set(key, (versions = []));
    versions.push({ revision, createRevision, value });
    const change: Change = { revision, key, value, prev: prev?.value != null ? prev : undefined };
    this.history.push(change);
    for (const w of this.watches) if (w.prefix ? key.startsWith(w.key) : key === w.key) this.deliver(w, change);
    return revision;
  }

  private deliver(w: LiveWatch, change: Change): void {
    // As etcd reports it (prev_kv): the previous state is stamped with the change's revision.
    const prevObject = change.prev ? decodeFromStorage(change.key, change.prev.value!, change.revision) : null;
    const object = change.value === null ? null : decodeFromStorage(change.key, change.value, change.revision);
    const event: WatchEvent | null = toWatchEvent({ type: object ? 'put' : 'delete', object, prevObject, created: !change.prev }, w.opts.predicate);
    if (event) w.queue.push(event);
  }
}
