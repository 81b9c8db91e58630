// The watch cache for one resource prefix (as upstream's k8s.io/apiserver/pkg/storage/cacher): one
// etcd watch feeds an in-memory copy of every object plus a ring buffer of recent events, and any
// number of watchers and cache-servable lists are answered from memory. Writes and get go to etcd.
//
// Freshness: the cache knows it reflects etcd at `revision` (the last event applied). A consistent
// read needs etcd's current revision R; when no event reached R (nothing under the prefix changed, or
// events are in flight) the cache proves freshness with one cheap etcd read at R: the same number of
// keys and no key modified since `revision` means the cached state is the state at R. (etcd 3.4's
// progress notifications can overtake events, so they are not used for this.)
import { deepCopy, type KubeObject } from '@kubelab/api';
import {
  StorageError,
  type ListOptions,
  type GetOptions,
  type GuaranteedUpdateOptions,
  type ListResult,
  type Preconditions,
  type Predicate,
  type Storage,
  type WatchOptions,
  type Watcher,
} from './interface.js';
import { toWatchEvent, type EtcdStorage, type RawWatch, type RawWatchEvent } from './etcd.js';
import { WatchQueue } from './watch-queue.js';
import { watchLatency } from './watch-latency.js';
import { IndexedWatchers, indexedTriggerFor, type IndexedTrigger } from './watchers.js';
import {
  INITIAL_EVENTS_END_ANNOTATION,
  decodeContinue,
  encodeContinue,
  noopLogger,
  parseResourceVersion,
  sleep,
  tooOldResourceVersionEvent,
  type StorageLogger,
} from './util.js';

export interface CacherOptions {
  /** The etcd storage to read through and write to (not closed by the Cacher). */
  storage: EtcdStorage;
  /** The prefix this cache holds, ending with '/', e.g. '/registry/pods/'. */
  resourcePrefix: string;
  /** Events kept for watchers resuming from an older resourceVersion (default 1000). */
  capacity?: number;
  /** How often watchers that allow bookmarks get one (default 60 s). */
  bookmarkIntervalMs?: number;
  /** The bookmark object's shell, e.g. () => ({kind: 'Pod', apiVersion: 'v1', metadata: {}}). */
  newBookmarkObject?: () => KubeObject;
  /** Events a watcher may have pending before it is ended as too slow (default 1000). */
  watcherQueueCapacity?: number;
  /** How long a watcher may stay above watcherQueueCapacity before it is ended (default 1 s). */
  slowWatcherGraceMs?: number;
  /** How long a consistent read (or a watch/list from a future resourceVersion) waits for the cache (default 3 s). */
  freshnessTimeoutMs?: number;
  /** Backoff of the etcd watch reconnect loop (default 100 ms doubling to 2 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: StorageLogger;
  /**
   * The field watchers are indexed by (upstream's indexed trigger); default: the built-in resource's
   * own (pods: spec.nodeName), null for none.
   */
  indexedTrigger?: IndexedTrigger | null;
}

type CachedEvent = RawWatchEvent;

class CacheWatcher {
  private slowCheck: NodeJS.Timeout | undefined;
  /** Initial and replayed events queued at registration do not count against the capacity. */
  allowance = 0;

  constructor(
    readonly queue: WatchQueue,
    readonly key: string,
    readonly isPrefix: boolean,
    readonly predicate: Predicate | undefined,
    readonly allowBookmarks: boolean,
    /** Events at or below this revision are not for this watcher. */
    public fromRev: number,
    private readonly limits: { capacity: number; graceMs: number },
  ) {}

  matchesKey(key: string): boolean {
    return this.isPrefix ? key.startsWith(this.key) : key === this.key;
  }

  /**
   * Queues the event if it concerns this watcher. A queue above capacity gets graceMs to drain (events
   * arrive in bursts); if it is still above, or reaches 10x capacity, the watcher is ended as too slow.
   */
  deliver(ev: CachedEvent): void {
    if (ev.revision <= this.fromRev || !this.matchesKey(ev.key)) return;
    const out = toWatchEvent(ev, this.predicate);
    if (!out) return;
    if (!this.queue.push(out, { force: true })) return;
    this.fromRev = ev.revision;
    this.checkBacklog();
  }

  private checkBacklog(): void {
    const capacity = this.limits.capacity + this.allowance;
    const graceMs = this.limits.graceMs;
    if (this.queue.length <= capacity || this.slowCheck) return;
    if (this.queue.length >= capacity * 10) {
      this.queue.overflow();
      return;
    }
    this.slowCheck = setTimeout(() => {
      this.slowCheck = undefined;
      if (this.queue.length > capacity) this.queue.overflow();
    }, graceMs);
    this.slowCheck.unref();
  }

  dispose(): void {
    if (this.slowCheck) clearTimeout(this.slowCheck);
    this.slowCheck = undefined;
  }
}

export class Cacher implements Storage {
  readonly storage: EtcdStorage;
  readonly resourcePrefix: string;
  private readonly capacity: number;
  private readonly bookmarkIntervalMs: number;
  private readonly newBookmarkObject: () => KubeObject;
  private readonly watcherQueueCapacity: number;
  private readonly freshnessTimeoutMs: number;
  private readonly slowWatcherGraceMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger: StorageLogger;

  private readonly objects = new Map<string, KubeObject>();
  /** The keys of objects in etcd's (bytewise) order; rebuilt on the next list after a key comes or goes. */
  private sortedKeys: string[] | undefined;
  /** Ring buffer of recent events, oldest first (events[head..]). */
  private events: CachedEvent[] = [];
  private head = 0;
  /** Every event with a revision above this is in the buffer. */
  private oldestRev = 0;
  /** The revision the cache reflects (last event applied, or the initial list). */
  private revision = 0;
  /** A later revision the cached state was proven equal to (0 when none). */
  private verifiedRev = 0;
  private readonly watchers: IndexedWatchers<CacheWatcher>;
  private revisionWaiters: Array<() => void> = [];

  private startPromise: Promise<void> | undefined;
  private initialized = false;
  private readyWaiters: Array<() => void> = [];
  private closed = false;
  private rawWatch: RawWatch | undefined;
  private watchUp = false;
  private endWatchOnce: (() => void) | undefined;
  private readonly stopLoop = new AbortController();
  private wake = new AbortController();
  private bookmarkTimer: NodeJS.Timeout | undefined;

  constructor(opts: CacherOptions) {
    if (!opts.resourcePrefix.endsWith('/')) throw new Error(`Cacher: resourcePrefix must end with '/': ${opts.resourcePrefix}`);
    this.storage = opts.storage;
    this.resourcePrefix = opts.resourcePrefix;
    this.capacity = Math.max(1, opts.capacity ?? 1000);
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    this.newBookmarkObject = opts.newBookmarkObject ?? (() => ({ metadata: {} }));
    this.watcherQueueCapacity = Math.max(1, opts.watcherQueueCapacity ?? 1000);
    this.freshnessTimeoutMs = opts.freshnessTimeoutMs ?? 3000;
    this.slowWatcherGraceMs = opts.slowWatcherGraceMs ?? 1000;
    this.minBackoffMs = opts.minBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 2000;
    this.logger = opts.logger ?? noopLogger;
    this.watchers = new IndexedWatchers(opts.indexedTrigger === undefined ? indexedTriggerFor(opts.resourcePrefix) : (opts.indexedTrigger ?? undefined));
  }

  /** Starts the list+watch loop (idempotent); resolves once the cache is initialized. */
  start(): Promise<void> {
    if (!this.startPromise) {
      void this.syncLoop();
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
      this.startPromise = new Promise<void>((resolve) => {
        if (this.initialized) resolve();
        else this.readyWaiters.push(resolve);
      });
    }
    return this.startPromise;
  }

  /** The revision the cache currently reflects (for tests and metrics). */
  get cacheRevision(): number {
    return this.revision;
  }

  /** Number of registered watchers (for tests and metrics). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  // ---- the list+watch loop -------------------------------------------------------------------

  private async syncLoop(): Promise<void> {
    let backoff = this.minBackoffMs;
    let needList = true;
    while (!this.closed) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce(() => {
          backoff = this.minBackoffMs;
        });
        if (this.closed) return;
        if (outcome === 'compacted') {
          this.logger.info({ prefix: this.resourcePrefix, revision: this.revision }, 'Watch cache revision compacted, relisting');
          needList = true;
          continue;
        }
      } catch (err) {
        if (this.closed) return;
        this.logger.warn({ prefix: this.resourcePrefix, err: (err as Error).message }, 'Watch cache sync failed');
      }
      await sleep(backoff, AbortSignal.any([this.stopLoop.signal, this.wake.signal]));
      if (this.wake.signal.aborted) this.wake = new AbortController();
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  private async relist(): Promise<void> {
    const items: KubeObject[] = [];
    const keys: string[] = [];
    let cont: string | undefined;
    let rev = 0;
    do {
      const page = await this.storage.listWithKeys(this.resourcePrefix, { limit: 5000, continue: cont });
      items.push(...page.items);
      keys.push(...page.keys);
      rev = Number(page.resourceVersion);
      cont = page.continue;
    } while (cont);
    if (this.closed) return;
    const wasInitialized = this.initialized;
    this.objects.clear();
    this.sortedKeys = undefined;
    items.forEach((obj, i) => this.objects.set(keys[i]!, deepFreeze(obj)));
    this.events = [];
    this.head = 0;
    this.revision = rev;
    this.oldestRev = rev;
    this.verifiedRev = 0;
    this.initialized = true;
    if (wasInitialized) {
      // Watchers cannot be told about a gap: end them so their clients re-watch (and relist if needed).
      for (const w of [...this.watchers]) w.queue.end();
      this.watchers.clear();
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    this.notifyRevision();
  }

  private watchOnce(onHealthy: () => void): Promise<'compacted' | 'error' | 'closed'> {
    return new Promise((resolve, reject) => {
      this.endWatchOnce = () => resolve('closed');
      this.storage
        .openWatch(this.resourcePrefix, true, this.revision + 1, {
          onCreated: onHealthy,
          onEvents: (events) => {
            onHealthy();
            for (const ev of events) this.apply(ev);
          },
          onCompacted: () => {
            this.watchUp = false;
            this.rawWatch = undefined;
            resolve('compacted');
          },
          onError: (err) => {
            this.watchUp = false;
            this.rawWatch = undefined;
            this.logger.warn({ prefix: this.resourcePrefix, err: err.message }, 'Watch cache etcd watch failed');
            resolve('error');
          },
        }, { prevKv: false })
        .then((raw) => {
          if (this.closed) raw.cancel();
          this.rawWatch = raw;
          this.watchUp = true;
        }, reject);
    });
  }

  private apply(ev: CachedEvent): void {
    if (ev.revision < this.revision) return;
    watchLatency.cacheReceived(ev.revision);
    if (ev.revision <= this.verifiedRev) this.verifiedRev = 0;
    // Cached objects are shared by every list and watcher (never copied per consumer): frozen, so a
    // consumer that tried to change one would fail loudly instead of corrupting the cache.
    if (ev.object) deepFreeze(ev.object);
    // The previous state is the cache's own, as in upstream's watch cache (etcd sends no prev_kv to decode),
    // stamped with this event's revision as a DELETED event's object is.
    const prev = this.objects.get(ev.key);
    ev.prevObject = prev ? atRevision(prev, ev.revision) : null;
    if (ev.type === 'put' && ev.object) {
      if (!this.objects.has(ev.key)) this.sortedKeys = undefined;
      this.objects.set(ev.key, ev.object);
    } else if (this.objects.delete(ev.key)) {
      this.sortedKeys = undefined;
    }
    this.events.push(ev);
    if (this.events.length - this.head > this.capacity) {
      const evicted = this.events[this.head]!;
      this.head++;
      this.oldestRev = evicted.revision;
      while (this.head < this.events.length && this.events[this.head]!.revision <= this.oldestRev) this.head++;
      if (this.head > this.capacity) {
        this.events = this.events.slice(this.head);
        this.head = 0;
      }
    }
    this.revision = ev.revision;
    this.watchers.forEvent(ev.object, ev.prevObject, (w) => w.deliver(ev));
    this.notifyRevision();
  }

  private notifyRevision(): void {
    const waiters = this.revisionWaiters;
    this.revisionWaiters = [];
    for (const w of waiters) w();
  }

  private sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.allowBookmarks || w.queue.length >= this.watcherQueueCapacity / 2) continue;
      const rv = Math.max(this.revision, w.fromRev);
      const shell = this.newBookmarkObject();
      w.queue.push({ type: 'BOOKMARK', object: { ...shell, metadata: { resourceVersion: String(rv) } } });
    }
  }

  // ---- freshness ------------------------------------------------------------------------------

  private async waitReady(key: string): Promise<void> {
    if (this.closed) throw new StorageError('Unreachable', key, 'watch cache is closed');
    void this.start();
    if (this.initialized) return;
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<boolean>((resolve) => {
      this.readyWaiters.push(() => resolve(true));
      timer = setTimeout(() => resolve(false), this.freshnessTimeoutMs);
    });
    const ok = await ready;
    clearTimeout(timer);
    if (this.closed) throw new StorageError('Unreachable', key, 'watch cache is closed');
    if (!ok) throw new StorageError('Unreachable', key, `watch cache for ${this.resourcePrefix} is not initialized yet`);
  }

  private fresh(): number {
    return Math.max(this.revision, this.verifiedRev);
  }

  /** Resolves when this.revision changes or after ms. */
  private revisionChangeOrTimeout(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.revisionWaiters.push(done);
    });
  }

  /** Waits until the cache reflects at least target; returns the revision it is known to reflect. */
  private async waitFresh(target: number, key: string): Promise<number> {
    await this.waitReady(key);
    const deadline = Date.now() + this.freshnessTimeoutMs;
    let pause = 5;
    for (;;) {
      if (this.fresh() >= target) return this.fresh();
      if (!this.watchUp && !this.wake.signal.aborted) this.wake.abort(); // reconnect now, not after the backoff
      // Events for the target are usually in flight: give them a moment before asking etcd.
      await this.revisionChangeOrTimeout(Math.max(0, Math.min(pause, deadline - Date.now())));
      if (this.fresh() >= target) return this.fresh();
      const since = this.revision;
      const count = this.objects.size;
      try {
        const { count: etcdCount, modified } = await this.storage.changedSince(this.resourcePrefix, since, target);
        if (this.revision === since && !modified && etcdCount === count) {
          this.verifiedRev = Math.max(this.verifiedRev, target);
          return this.fresh();
        }
      } catch (err) {
        if (!(err instanceof StorageError && err.code === 'TooLargeResourceVersion')) throw err;
      }
      if (Date.now() >= deadline) {
        throw new StorageError('TooLargeResourceVersion', key, `Too large resource version: ${target}, current: ${this.revision}`);
      }
      pause = Math.min(pause * 2, 100);
    }
  }

  /** The cached keys in etcd's order, and the index of the first one at or after from. */
  private keysFrom(from: string): { keys: string[]; start: number } {
    this.sortedKeys ??= [...this.objects.keys()].sort(compareKeys);
    const keys = this.sortedKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return { keys, start: lo };
  }

  private snapshot(prefix: string, isPrefix: boolean, predicate?: Predicate): KubeObject[] {
    const out: KubeObject[] = [];
    if (!isPrefix) {
      const obj = this.objects.get(prefix);
      if (obj && (!predicate || predicate(obj))) out.push(obj);
      return out;
    }
    // The keys under prefix are one run of the sorted keys: find its start, read until it ends.
    const { keys, start } = this.keysFrom(prefix);
    for (let i = start; i < keys.length && keys[i]!.startsWith(prefix); i++) {
      const obj = this.objects.get(keys[i]!)!;
      if (!predicate || predicate(obj)) out.push(obj);
    }
    return out;
  }

  /**
   * A page of a consistent paged list (resourceVersion "", first page or continued) from memory when
   * the cache holds the state of the list's revision, with what etcd would answer at that revision:
   * the same items, continue token and remainingItemCount. A first page is read at the current
   * revision; a continued one only while nothing under the prefix changed since its token's revision
   * (the cached state is still the state at that revision). Otherwise undefined: etcd serves it.
   */
  private async consistentPage(prefix: string, opts: ListOptions): Promise<ListResult | undefined> {
    let rev: number;
    let from = prefix;
    if (opts.continue) {
      const token = decodeContinue(opts.continue, prefix);
      if (!(this.revision <= token.revision && token.revision <= this.fresh())) return undefined;
      rev = token.revision;
      from = token.fromKey;
    } else {
      try {
        await this.waitFresh(await this.storage.currentRevision(), prefix);
      } catch (err) {
        // A cache that does not catch up in time leaves the page to etcd (paged lists were always served there).
        if (err instanceof StorageError && err.code === 'TooLargeResourceVersion') return undefined;
        throw err;
      }
      rev = this.fresh();
    }
    const limit = Math.floor(opts.limit!);
    const { keys, start } = this.keysFrom(from);
    const items: KubeObject[] = [];
    let i = start;
    let lastKey: string | undefined;
    for (; i < keys.length && keys[i]!.startsWith(prefix) && items.length < limit; i++) {
      lastKey = keys[i]!;
      const obj = this.objects.get(lastKey)!;
      if (!opts.predicate || opts.predicate(obj)) items.push(obj);
    }
    const result: ListResult = { items, resourceVersion: String(rev) };
    // The keys under prefix are contiguous: the first one after i that is not under it ends them.
    let lo = i;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]!.startsWith(prefix)) lo = mid + 1;
      else hi = mid;
    }
    const remaining = lo - i;
    if (remaining > 0 && lastKey !== undefined) {
      result.continue = encodeContinue(lastKey + '\x00', prefix, rev);
      if (!opts.predicate) result.remainingItemCount = remaining;
    }
    return result;
  }

  // ---- Storage ----------------------------------------------------------------------------------

  create(key: string, obj: KubeObject): Promise<KubeObject> {
    return this.storage.create(key, obj);
  }

  get(key: string, opts: GetOptions = {}): Promise<KubeObject> {
    if (!opts.readOnly) return this.storage.get(key);
    // A consistent read from etcd, as upstream's GET; when the cache holds that revision, its object is the
    // answer: no decode here, and its JSON encoding is shared with watchers and lists (serialize once).
    return this.storage.get(key, {
      cachedAt: (modRevision) => {
        const obj = this.objects.get(key);
        return obj?.metadata.resourceVersion === modRevision ? obj : undefined;
      },
    });
  }

  guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject> | KubeObject,
    opts?: GuaranteedUpdateOptions,
  ): Promise<KubeObject> {
    // The cached object saves the read before the write (upstream's Cacher.GuaranteedUpdate). It is handed
    // over as a deep copy, as upstream does: strategies move parts of the old object into the new one.
    const cached = this.initialized ? this.objects.get(key) : undefined;
    return this.storage.guaranteedUpdate(key, tryUpdate, cached ? { ...opts, cachedExisting: deepCopy(cached) } : opts);
  }

  delete(
    key: string,
    opts?: { preconditions?: Preconditions; validateDeletion?: (current: KubeObject) => Promise<void> | void },
  ): Promise<KubeObject> {
    return this.storage.delete(key, opts);
  }

  currentRevision(): Promise<number> {
    return this.storage.currentRevision();
  }

  async count(prefix: string): Promise<number> {
    if (!prefix.startsWith(this.resourcePrefix) || !this.initialized) return this.storage.count(prefix);
    let n = 0;
    for (const k of this.objects.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const rvString = opts.resourceVersion ?? '';
    const match = opts.resourceVersionMatch ?? '';
    const paging = (opts.limit ?? 0) > 0;
    const servable =
      prefix.startsWith(this.resourcePrefix) &&
      !opts.continue &&
      match !== 'Exact' &&
      (match === '' || match === 'NotOlderThan') &&
      (rvString === '0' || !paging);
    if (!servable) {
      if (!prefix.startsWith(this.resourcePrefix) || !this.initialized) return this.storage.list(prefix, opts);
      if (paging && rvString === '' && match === '') {
        const page = await this.consistentPage(prefix, opts);
        if (page) return page;
      }
      // From etcd (paged, continued or Exact lists), but an item the cache holds at the same revision is
      // the cache's object (no decoding, and its encoding is cached).
      const { keys: _keys, ...result } = await this.storage.listWithKeys(prefix, opts, (key, modRevision) => {
        const obj = this.objects.get(key);
        return obj?.metadata?.resourceVersion === modRevision ? obj : undefined;
      });
      return result;
    }
    let rev: number;
    if (rvString === '0') {
      await this.waitReady(prefix);
      rev = this.fresh();
    } else if (rvString === '') {
      const target = await this.storage.currentRevision();
      rev = await this.waitFresh(target, prefix);
    } else {
      rev = await this.waitFresh(parseResourceVersion(rvString), prefix);
    }
    // upstream ignores limit for resourceVersion=0 lists served from the watch cache
    const items = this.snapshot(prefix, true, opts.predicate);
    return { items, resourceVersion: String(rev) };
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<Watcher> {
    if (!key.startsWith(this.resourcePrefix)) return this.storage.watch(key, opts);
    const isPrefix = key.endsWith('/');
    const rvString = opts.resourceVersion ?? '';
    const rv = parseResourceVersion(rvString);
    const sendInitial = opts.sendInitialEvents ?? rvString === '0';
    const allowBookmarks = opts.allowBookmarks ?? false;

    let fromRev: number;
    if (sendInitial) {
      if (rvString === '') fromRev = await this.waitFresh(await this.storage.currentRevision(), key);
      else if (rv > 0) fromRev = await this.waitFresh(rv, key);
      else {
        await this.waitReady(key);
        fromRev = this.fresh();
      }
    } else if (rv === 0) {
      await this.waitReady(key);
      fromRev = this.fresh();
    } else {
      if (rv > this.fresh()) await this.waitFresh(rv, key);
      else await this.waitReady(key);
      if (rv < this.oldestRev) {
        const expired = new WatchQueue();
        expired.end(tooOldResourceVersionEvent(rv, this.oldestRev));
        return expired;
      }
      fromRev = rv;
    }

    // From here on everything is synchronous: no event can slip between the snapshot/replay and registration.
    const queue = new WatchQueue({
      onStop: (reason) => {
        this.watchers.delete(watcher);
        watcher.dispose();
        if (reason === 'overflow') this.logger.debug({ prefix: this.resourcePrefix }, 'Terminated a watcher that fell too far behind');
      },
    });
    const watcher = new CacheWatcher(queue, key, isPrefix, opts.predicate, allowBookmarks, fromRev, {
      capacity: this.watcherQueueCapacity,
      graceMs: this.slowWatcherGraceMs,
    });
    if (sendInitial) {
      for (const obj of this.snapshot(key, isPrefix, opts.predicate)) {
        queue.push({ type: 'ADDED', object: obj }, { force: true });
      }
      if (allowBookmarks && opts.sendInitialEvents === true) {
        const shell = this.newBookmarkObject();
        queue.push(
          {
            type: 'BOOKMARK',
            object: {
              ...shell,
              metadata: { resourceVersion: String(fromRev), annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } },
            },
          },
          { force: true },
        );
      }
    } else {
      for (let i = this.head; i < this.events.length; i++) watcher.deliver(this.events[i]!);
    }
    watcher.allowance = queue.length;
    if (!queue.ended) this.watchers.add(watcher, opts.predicate);
    return queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopLoop.abort();
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.rawWatch?.cancel();
    this.rawWatch = undefined;
    this.endWatchOnce?.();
    for (const w of [...this.watchers]) w.queue.end();
    this.watchers.clear();
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }
}

/** etcd orders keys bytewise; for the ASCII keys the registry builds this is plain string order. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A cached object at a later revision: a frozen copy of its top and metadata, sharing the rest. */
function atRevision(obj: KubeObject, revision: number): KubeObject {
  return Object.freeze({ ...obj, metadata: Object.freeze({ ...obj.metadata, resourceVersion: String(revision) }) });
}

/** Freezes an object graph in place (cached objects are shared, read-only values). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
