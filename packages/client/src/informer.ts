// A shared informer, as client-go's reflector + DeltaFIFO + sharedIndexInformer collapsed into one
// single-threaded loop: list (paged) then watch from the list's resourceVersion, keep a Store, and
// tell handlers what changed. On a watch end it re-watches from the last resourceVersion seen; on
// 410 Gone/Expired it relists (objects that vanished meanwhile are delivered as deletes). An object
// that cannot be handled (it does not decode against the schema, an index function fails on it) is
// logged and skipped; it never fails a list or a watch.
import { apiVersionOf, decode, findKind, isGone, type KubeList, type KubeObject, type ResourceInfo, type WatchEvent } from '@kubelab/api';
import { realClock, delayOn, type Clock, type DelayFn } from './clock.js';
import { Lister } from './lister.js';
import type { Logger } from './logger.js';
import type { ListOptions, RestClient, WatchOptions } from './rest.js';
import { metaNamespaceKey, Store, type IndexFunc } from './store.js';

/** A running watch as the informer consumes it. */
export interface WatchStream<T> extends AsyncIterable<WatchEvent<T>> {
  stop(): void;
}

/** Where an informer gets its data (client-go's cache.ListerWatcher). */
export interface ListWatch<T extends KubeObject = KubeObject> {
  list(opts: ListOptions): Promise<KubeList<T>>;
  watch(opts: WatchOptions): Promise<WatchStream<T>>;
}

export interface EventHandler<T> {
  /** `isInInitialList` is true for objects delivered by the initial list (or to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called with old === new-content objects on resync. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  listWatch: ListWatch<T>;
  /** When > 0, every cached object is re-delivered as an update this often. */
  resyncPeriodMs?: number;
  /** List page size (client-go's 500). */
  pageSize?: number;
  clock?: Clock;
  delay?: DelayFn;
  logger?: Logger;
  /** First and largest backoff after an error (client-go's reflector: 800ms to 30s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Random source in [0,1) for the watch timeout (5 to 10 minutes). */
  random?: () => number;
  /** Used in logs. */
  name?: string;
  /**
   * Applied to every listed or watched object before it is cached (client-go's TransformFunc). Throws
   * for an object that must not be cached (malformed): the object is logged and skipped.
   */
  transform?: (obj: T) => T;
}

/** A transform that decodes objects against the schema of their resource, rejecting ill-typed ones. */
export function decodeTransform<T extends KubeObject>(info: ResourceInfo): (obj: T) => T {
  const apiVersion = apiVersionOf(info);
  return (obj) => decode(obj, apiVersion, info.kind).object;
}

const MIN_WATCH_TIMEOUT_S = 300;
/** A watch that ends this soon without events is treated as an error (client-go's "very short watch"). */
const SHORT_WATCH_MS = 1000;

export class Informer<T extends KubeObject = KubeObject> {
  readonly store = new Store<T>();
  readonly lister = new Lister<T>(this.store);
  private readonly lw: ListWatch<T>;
  private readonly handlers: EventHandler<T>[] = [];
  private readonly clock: Clock;
  private readonly delay: DelayFn;
  private readonly log?: Logger;
  private readonly pageSize: number;
  private readonly resyncPeriodMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly name: string;
  private readonly transform?: (obj: T) => T;
  private abort?: AbortController;
  private currentWatch?: WatchStream<T>;
  private synced = false;
  private syncWaiters: Array<(ok: boolean) => void> = [];
  private lastRV = '';
  private started = false;
  private stopped = false;
  private done?: Promise<void>;

  constructor(opts: InformerOptions<T>) {
    this.lw = opts.listWatch;
    this.clock = opts.clock ?? realClock;
    this.delay = opts.delay ?? delayOn(this.clock);
    this.log = opts.logger;
    this.pageSize = opts.pageSize ?? 500;
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 0;
    this.initialBackoffMs = opts.initialBackoffMs ?? 800;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.name = opts.name ?? '';
    this.transform = opts.transform;
  }

  /** Registers handlers. Objects already cached are delivered to them as adds. */
  addEventHandler(handler: EventHandler<T>): this {
    this.handlers.push(handler);
    if (this.synced) for (const obj of this.store.list()) this.call(handler, 'onAdd', obj, true);
    return this;
  }

  onAdd(fn: (obj: T, isInInitialList: boolean) => void): this {
    return this.addEventHandler({ onAdd: fn });
  }
  onUpdate(fn: (oldObj: T, newObj: T) => void): this {
    return this.addEventHandler({ onUpdate: fn });
  }
  onDelete(fn: (obj: T) => void): this {
    return this.addEventHandler({ onDelete: fn });
  }

  addIndexer(name: string, fn: IndexFunc<T>): this {
    this.store.addIndexer(name, fn);
    return this;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /** Resolves true once the initial list is in the cache, false if the informer stops (or `signal` aborts) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        resolve(false);
      };
      const waiter = (ok: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      this.syncWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Starts listing and watching in the background. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.done = Promise.all([this.run(signal), this.resyncLoop(signal)]).then(() => undefined);
  }

  /** Stops the informer; resolves when its loops have exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.currentWatch?.stop();
    for (const w of this.syncWaiters.splice(0)) w(false);
    await this.done;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 0;
    let needList = true;
    const backOff = async () => {
      backoff = backoff ? Math.min(backoff * 2, this.maxBackoffMs) : this.initialBackoffMs;
      await this.delay(backoff, signal);
    };
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
          backoff = 0;
        }
        const started = this.clock.now();
        const events = await this.watchOnce(signal);
        if (signal.aborted) break;
        if (events > 0) backoff = 0;
        else if (this.clock.now() - started < SHORT_WATCH_MS) {
          this.log?.warn?.({ informer: this.name }, 'Watch closed very quickly with no events');
          await backOff();
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err) && !needList) {
          // The resourceVersion we hold is too old: relist from scratch at once.
          this.log?.info?.({ informer: this.name, err: (err as Error).message }, 'Watch expired; relisting');
          needList = true;
          this.lastRV = '';
          continue;
        }
        this.log?.warn?.({ informer: this.name, err: (err as Error).message, relist: needList }, 'Failed to list or watch');
        await backOff();
      }
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.lw.list({ limit: this.pageSize, continue: cont });
      if (signal.aborted) return;
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.replace(items);
    this.lastRV = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w(true);
    }
  }

  /** Makes the store hold exactly `items`, delivering adds, updates (changed objects) and deletes. */
  private replace(items: T[]): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (const item of items) {
      // A malformed item keeps whatever the cache held for its key (no spurious delete).
      seen.add(metaNamespaceKey(item ?? {}));
      const stored = this.cache(item);
      if (!stored) continue;
      const [obj, old] = stored;
      if (!old) this.emit('onAdd', obj, initial);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('onUpdate', old, obj);
    }
    for (const key of this.store.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.store.deleteKey(key)!;
      this.emit('onDelete', old);
    }
  }

  /** Watches from the last resourceVersion until the stream ends; returns the number of events seen. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_S * (1 + this.random()));
    const w = await this.lw.watch({ resourceVersion: this.lastRV, allowWatchBookmarks: true, timeoutSeconds });
    this.currentWatch = w;
    if (signal.aborted) w.stop();
    let n = 0;
    try {
      for await (const ev of w) {
        if (signal.aborted) break;
        n++;
        this.handleEvent(ev);
      }
    } finally {
      w.stop();
      this.currentWatch = undefined;
    }
    return n;
  }

  /** Transforms and caches one object: [cached, previous], or undefined when it cannot be handled (logged). */
  private cache(item: T): [T, T | undefined] | undefined {
    try {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error(`not an object: ${JSON.stringify(item)}`);
      const obj = this.transform ? this.transform(item) : item;
      return [obj, this.store.add(obj)];
    } catch (err) {
      this.log?.error?.({ informer: this.name, object: metaNamespaceKey(item ?? {}), err: (err as Error).message }, 'Skipping an object that cannot be handled');
      return undefined;
    }
  }

  private handleEvent(ev: WatchEvent<T>): void {
    const obj = ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const stored = this.cache(obj);
        if (!stored) break;
        const [cached, old] = stored;
        if (old) this.emit('onUpdate', old, cached);
        else this.emit('onAdd', cached, false);
        break;
      }
      case 'DELETED': {
        // Deleted by key, so a malformed final state still removes what is cached.
        const old = this.store.deleteKey(metaNamespaceKey(obj ?? {}));
        let last: T | undefined = old;
        try {
          last = obj && this.transform ? this.transform(obj) : (obj ?? old);
        } catch (err) {
          this.log?.error?.({ informer: this.name, object: metaNamespaceKey(obj ?? {}), err: (err as Error).message }, 'Deleted object cannot be handled; delivering the cached one');
        }
        if (last) this.emit('onDelete', last);
        break;
      }
      case 'BOOKMARK':
        break;
      default:
        this.log?.warn?.({ informer: this.name, type: ev.type }, 'Unexpected watch event type');
        return;
    }
    const rv = obj?.metadata?.resourceVersion;
    if (rv) this.lastRV = rv;
  }

  private async resyncLoop(signal: AbortSignal): Promise<void> {
    if (!(this.resyncPeriodMs > 0)) return;
    while (!signal.aborted) {
      await this.delay(this.resyncPeriodMs, signal);
      if (signal.aborted || !this.synced) continue;
      for (const obj of this.store.list()) this.emit('onUpdate', obj, obj);
    }
  }

  private emit(kind: 'onAdd', obj: T, initial: boolean): void;
  private emit(kind: 'onUpdate', oldObj: T, newObj: T): void;
  private emit(kind: 'onDelete', obj: T): void;
  private emit(kind: keyof EventHandler<T>, a: T, b?: T | boolean): void {
    for (const h of this.handlers) this.call(h, kind, a, b);
  }

  private call(h: EventHandler<T>, kind: keyof EventHandler<T>, a: T, b?: T | boolean): void {
    try {
      if (kind === 'onAdd') h.onAdd?.(a, b as boolean);
      else if (kind === 'onUpdate') h.onUpdate?.(a, b as T);
      else h.onDelete?.(a);
    } catch (err) {
      this.log?.error?.({ informer: this.name, err, object: metaNamespaceKey(a) }, 'Event handler failed');
    }
  }
}

export interface ListWatchFilter {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A ListWatch over one resource (in one namespace, or all), optionally filtered by selectors. */
export function listWatchFor<T extends KubeObject = KubeObject>(
  client: RestClient,
  info: ResourceInfo,
  namespace?: string,
  filter: ListWatchFilter = {},
): ListWatch<T> {
  const rc = client.resource<T>(info, namespace);
  return {
    list: (opts) => rc.list({ ...opts, ...filter }),
    watch: (opts) => rc.watch({ ...opts, ...filter }),
  };
}

export interface SharedInformerFactoryOptions {
  /** Default resync period for informers made by this factory (0: none). */
  resyncPeriodMs?: number;
  /** Limit every informer to one namespace. */
  namespace?: string;
  logger?: Logger;
  clock?: Clock;
  delay?: DelayFn;
}

/** One informer per resource (and filter), shared by every controller of a process. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly started = new Set<string>();
  private shutDown = false;

  constructor(
    readonly client: RestClient,
    private readonly opts: SharedInformerFactoryOptions = {},
  ) {}

  /** The informer for a resource; created on first use. Call start() again to start late ones. */
  forResource<T extends KubeObject = KubeObject>(info: ResourceInfo, filter: ListWatchFilter = {}): Informer<T> {
    const ns = info.namespaced ? this.opts.namespace : undefined;
    const key = [info.group, info.version, info.resource, ns ?? '', filter.labelSelector ?? '', filter.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer<KubeObject>({
        listWatch: listWatchFor(this.client, info, ns, filter),
        resyncPeriodMs: this.opts.resyncPeriodMs,
        logger: this.opts.logger,
        clock: this.opts.clock,
        delay: this.opts.delay,
        name: info.group ? `${info.resource}.${info.group}` : info.resource,
        transform: decodeTransform(info),
      });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  forKind<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, filter: ListWatchFilter = {}): Informer<T> {
    const info = findKind(apiVersion, kind);
    if (!info) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return this.forResource<T>(info, filter);
  }

  lister<T extends KubeObject = KubeObject>(info: ResourceInfo): Lister<T> {
    return this.forResource<T>(info).lister;
  }

  /** Starts every informer not yet started. */
  start(): void {
    if (this.shutDown) return;
    for (const [key, inf] of this.informers) {
      if (this.started.has(key)) continue;
      this.started.add(key);
      inf.start();
    }
  }

  /** Resolves true once every started informer has synced, false if aborted or stopped first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.started].map((k) => this.informers.get(k)!.waitForSync(signal)));
    return results.every(Boolean);
  }

  async shutdown(): Promise<void> {
    this.shutDown = true;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
