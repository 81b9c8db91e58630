// Storage on etcd v3 (as upstream's k8s.io/apiserver/pkg/storage/etcd3 store and watcher). Values are
// JSON, passed through the resource's value transformer (encryption at rest) when one is configured; an
// object's resourceVersion is its etcd mod_revision, stamped on the way out and never stored.
// Every call has a short deadline; a call that fails because etcd is unreachable rejects with
// StorageError('Unreachable'), and the next call reconnects (no circuit breaker, no blind retries,
// so a create is never replayed).
import {
  Etcd3,
  ClientClosedError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  isRecoverableError,
  type IKeyValue,
  type IOptions,
  type IRangeRequest,
  type IRequestOp,
  type ICompare,
  type IWatchResponse,
} from 'etcd3';
import type { Duplex } from 'node:stream';
import { StatusError, type KubeObject, type WatchEvent } from '@kubelab/api';
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
import { WatchQueue } from './watch-queue.js';
import { watchLatency } from './watch-latency.js';
import type { TransformerForKey } from './encryption/config.js';
import {
  CONTINUE_EXPIRED,
  INITIAL_EVENTS_END_ANNOTATION,
  LIST_EXPIRED,
  checkPreconditions,
  listRevisionOf,
  decodeFromStorage,
  encodeContinue,
  encodeForStorage,
  internalErrorEvent,
  noopLogger,
  parseResourceVersion,
  prefixEnd,
  sleep,
  tooOldResourceVersionEvent,
  withResourceVersion,
  type StorageLogger,
} from './util.js';

export interface EtcdStorageOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Prepended to every key (default ''). */
  prefix?: string;
  /** Extra etcd3 client options (merged over the defaults below). */
  client?: Partial<IOptions>;
  logger?: StorageLogger;
  /** Deadline of every unary etcd call (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Events a direct watch buffers before its etcd stream is paused (default 1000). */
  watchHighWaterMark?: number;
  /** The value transformer of each key (--encryption-provider-config); none: plain JSON. */
  transformerFor?: TransformerForKey;
  /** TLS towards etcd (https:// endpoints): --etcd-cafile, --etcd-certfile, --etcd-keyfile. */
  tls?: EtcdClientTLS;
}

/** PEM contents of the etcd client flags; without ca the system roots verify etcd's certificate. */
export interface EtcdClientTLS {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One change seen by a raw etcd watch (used by the Cacher). Keys exclude the storage prefix. */
export interface RawWatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** mod_revision of the put, or the revision of the delete. */
  revision: number;
  /** The new state (resourceVersion = revision); null for a delete. */
  object: KubeObject | null;
  /** The previous state when known, with resourceVersion = revision (as upstream, so it can be resumed from). */
  prevObject: KubeObject | null;
  /** True when this put created the key (create_revision == mod_revision). */
  created: boolean;
}

export interface RawWatchHandlers {
  /** etcd accepted the watch. */
  onCreated?(): void;
  /** A batch of events, in revision order. */
  onEvents(events: RawWatchEvent[]): void;
  /** A progress notification: every change up to revision has been delivered. */
  onProgress?(revision: number): void;
  /** The start revision was compacted; the watch has ended. */
  onCompacted(compactRevision: number): void;
  /** The stream failed (etcd unreachable, canceled); the watch has ended. */
  onError(err: StorageError): void;
}

export interface RawWatch {
  /** Asks etcd for a progress notification (delivered to onProgress once the watch is synced). */
  requestProgress(): void;
  pause(): void;
  resume(): void;
  cancel(): void;
}

/** Instrumentation: how many etcd watch streams this storage opened / has open. */
export interface EtcdStorageStats {
  watchStreamsOpened: number;
  activeWatchStreams: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
const MAX_LIST_BATCH = 10_000;
const COMPACT_REV_KEY = 'compact_rev_key';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * The signal handed to the calls our policies run: never aborted, and shared (etcd3 does not read it; an
 * AbortController per call was about 1.5% of the apiserver's CPU on the write path).
 */
const NEVER_ABORTED = { signal: new AbortController().signal };

/** A fault-handling policy that just runs the call (the defaults retry and open circuit breakers). */
const passthrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise.resolve().then(() => fn(NEVER_ABORTED)),
} as unknown as Policy;

/**
 * With several members: a call that could not reach one goes to the next in the pool's (shuffled) order.
 * Only calls that never left are repeated, so writes are safe to repeat too (as clientv3 retries unsent
 * requests); any other failure is the caller's, as before.
 */
function failover(members: number): Policy {
  if (members < 2) return passthrough;
  return {
    execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(NEVER_ABORTED);
        } catch (err) {
          if (attempt >= members || !neverSent(err)) throw err;
        }
      }
    },
  } as unknown as Policy;
}

/**
 * gRPC could not connect to the member: the request was not sent. A member that stopped answering (its host gone,
 * packets dropped) shows as a call that timed out or was closed while still waiting for a connection to pick.
 */
function neverSent(err: unknown): boolean {
  return /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|Waiting for LB pick|Channel closed before call started|BrokenCircuitError|member skipped/.test(
    errorMessage(err),
  );
}

const SKIP_MEMBER_MS = 5_000;
const SKIP_MEMBER_MAX_MS = 30_000;

/**
 * Per member, with several: after a call that could not reach it, the member is skipped (the pool moves on to the
 * next without calling) for 5 s, doubling to 30 s while it stays unreachable; then one call tries it again. Without
 * this every call would wait out its deadline on a member that went away before failing over.
 */
function memberBreaker(members: number): () => Policy {
  if (members < 2) return () => passthrough;
  return () => {
    let skipUntil = 0;
    let failures = 0;
    return {
      execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => {
        if (Date.now() < skipUntil) {
          const err = new Error('etcd member skipped: unreachable at its last try');
          err.name = 'BrokenCircuitError';
          throw err;
        }
        try {
          const out = await fn(NEVER_ABORTED);
          failures = 0;
          return out;
        } catch (err) {
          if (neverSent(err)) skipUntil = Date.now() + Math.min(SKIP_MEMBER_MAX_MS, SKIP_MEMBER_MS * 2 ** failures++);
          throw err;
        }
      },
    } as unknown as Policy;
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError) return true;
  if (err instanceof ClientClosedError) return true;
  if (isRecoverableError(err)) return true;
  if (err.name === 'BrokenCircuitError' || err.name === 'IsolatedCircuitError') return true;
  const m = err.message;
  return (
    m.includes('etcdserver: request timed out') ||
    m.includes('etcdserver: no leader') ||
    m.includes('etcdserver: leader changed') ||
    m.includes('No connection established') ||
    m.includes('ECONNREFUSED')
  );
}

/** The resource a registry key is for ('/registry/pods/ns/name': 'pods'), the type label of etcd metrics. */
function objectType(key: string): string {
  return key.split('/', 3)[2] ?? '';
}

/** Maps a storage event to the watch event a watcher with this predicate sees (null: none), as upstream. */
export function toWatchEvent(ev: Pick<RawWatchEvent, 'type' | 'object' | 'prevObject' | 'created'>, predicate?: Predicate): WatchEvent | null {
  if (ev.type === 'delete') {
    if (!ev.prevObject) return null;
    if (predicate && !predicate(ev.prevObject)) return null;
    return { type: 'DELETED', object: ev.prevObject };
  }
  const obj = ev.object!;
  if (ev.created || !ev.prevObject) {
    if (predicate && !predicate(obj)) return null;
    return { type: 'ADDED', object: obj };
  }
  if (!predicate) return { type: 'MODIFIED', object: obj };
  const curPasses = predicate(obj);
  const oldPasses = predicate(ev.prevObject);
  if (curPasses && oldPasses) return { type: 'MODIFIED', object: obj };
  if (curPasses) return { type: 'ADDED', object: obj };
  if (oldPasses) return { type: 'DELETED', object: ev.prevObject };
  return null;
}

/**
 * The object just written, as reading it back would give it (its resourceVersion the write's revision,
 * last in metadata as decodeFromStorage puts it) without parsing the bytes it was just encoded to.
 * The result shares everything but its top level and metadata with `obj`, which the caller hands over.
 */
function asWritten(obj: KubeObject, revision: number | string): KubeObject {
  const { resourceVersion: _stale, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata: { ...metadata, resourceVersion: String(revision) } };
}

export class EtcdStorage implements Storage {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly stats: EtcdStorageStats = { watchStreamsOpened: 0, activeWatchStreams: 0 };
  private readonly logger: StorageLogger;
  private readonly watchHighWaterMark: number;
  private readonly rawWatches = new Set<RawWatch>();
  private readonly transformerFor?: TransformerForKey;
  private closed = false;

  constructor(opts: EtcdStorageOptions) {
    if (!opts.endpoints?.length) throw new Error('EtcdStorage: at least one endpoint is required');
    this.prefix = opts.prefix ?? '';
    this.logger = opts.logger ?? noopLogger;
    this.watchHighWaterMark = opts.watchHighWaterMark ?? 1000;
    this.transformerFor = opts.transformerFor;
    const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const user = opts.client ?? {};
    const credentials = opts.tls ? { rootCertificate: opts.tls.ca as Buffer, privateKey: opts.tls.key, certChain: opts.tls.cert } : undefined;
    this.client = new Etcd3({
      dialTimeout: timeout,
      ...(credentials ? { credentials } : {}),
      ...user,
      hosts: opts.endpoints,
      grpcOptions: {
        'grpc.max_receive_message_length': 256 * 1024 * 1024,
        'grpc.max_send_message_length': 16 * 1024 * 1024,
        'grpc.keepalive_time_ms': 15_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
        // HTTP/2 flow control: with the default 64 KiB window etcd may send only 64 KiB of watch events
        // before this (busy) process reads them and answers with a WINDOW_UPDATE, so a watch of large
        // objects (pods at 16 KiB: 4 events per window) falls behind by seconds under load. Go's gRPC
        // (etcd's client in upstream's apiserver) grows its window to 16 MiB from the measured bandwidth.
        'grpc-node.flow_control_window': 16 * 1024 * 1024,
        ...user.grpcOptions,
      },
      faultHandling: { host: memberBreaker(opts.endpoints.length), global: failover(opts.endpoints.length), ...user.faultHandling },
      defaultCallOptions: user.defaultCallOptions ?? ((ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout })),
    });
  }

  private etcdKey(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** The bytes stored for a value (encrypted when key's resource has providers). */
  private toStorage(key: string, value: string): Buffer {
    const plain = Buffer.from(value);
    const transformer = this.transformerFor?.(key);
    return transformer ? transformer.transformToStorage(plain, this.etcdKey(key)) : plain;
  }

  /**
   * Decodes a stored value; stale when it was not written by the current write provider (an update
   * rewrites it even if nothing changed). A value no provider can read is an internal error, as upstream
   * (a list names the key: `unable to transform key "...": ...`).
   */
  private decode(key: string, stored: Buffer, revision: number | string, listing = false): { obj: KubeObject; plain: Buffer; stale: boolean } {
    const transformer = this.transformerFor?.(key);
    let plain = stored;
    let stale = false;
    if (transformer) {
      try {
        ({ data: plain, stale } = transformer.transformFromStorage(stored, this.etcdKey(key)));
      } catch (err) {
        const why = errorMessage(err);
        throw new StorageError('InvalidObj', key, listing ? `unable to transform key ${JSON.stringify(this.prefix + key)}: ${why}` : why);
      }
    }
    return { obj: decodeFromStorage(key, plain, revision), plain, stale };
  }

  /** Maps an etcd/gRPC failure to a StorageError (Unreachable, Expired, TooLargeResourceVersion). */
  translate(err: unknown, key: string): Error {
    if (err instanceof StorageError || err instanceof StatusError) return err;
    const msg = errorMessage(err);
    if (msg.includes('required revision has been compacted')) return new StorageError('Expired', key, LIST_EXPIRED);
    if (msg.includes('required revision is a future revision')) {
      return new StorageError('TooLargeResourceVersion', key, `Too large resource version: ${msg}`);
    }
    if (this.closed) return new StorageError('Unreachable', key, 'etcd storage is closed');
    if (isUnreachable(err)) return new StorageError('Unreachable', key, `etcd unreachable: ${msg}`);
    return err instanceof Error ? err : new Error(msg);
  }

  private async call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError('Unreachable', key, 'etcd storage is closed');
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  private async getKv(key: string): Promise<IKeyValue | undefined> {
    const res = await this.call(key, () => this.client.kv.range({ key: this.etcdKey(key) }));
    return res.kvs[0];
  }

  private txn(key: string, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[]) {
    return this.call(key, () => this.client.kv.txn({ compare, success, failure }));
  }

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    const value = encodeForStorage(obj);
    const k = this.etcdKey(key);
    const started = watchLatency.now();
    const res = await this.txn(
      key,
      [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      [{ request_put: { key: k, value: this.toStorage(key, value) } }],
      [],
    );
    if (!res.succeeded) throw new StorageError('KeyExists', key, `key exists: ${key}`);
    watchLatency.committed('create', objectType(key), Number(res.header.revision), started);
    return asWritten(obj, res.header.revision);
  }

  async get(key: string, opts: GetOptions = {}): Promise<KubeObject> {
    const kv = await this.getKv(key);
    if (!kv) throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
    return opts.cachedAt?.(String(kv.mod_revision)) ?? this.decode(key, kv.value, kv.mod_revision).obj;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const { keys: _keys, ...result } = await this.listWithKeys(prefix, opts);
    return result;
  }

  /**
   * list() that also returns each item's key (keys[i] belongs to items[i]). `cached(key, modRevision)`
   * may hand back an object already decoded from the same key at the same revision (the watch cache's
   * frozen copy, whose encoding is cached too): it is used instead of decoding the value again.
   */
  async listWithKeys(
    prefix: string,
    opts: ListOptions = {},
    cached?: (key: string, modRevision: string) => KubeObject | undefined,
  ): Promise<ListResult & { keys: string[] }> {
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const paging = limit > 0;
    const resolved = listRevisionOf(opts, prefix, paging);
    let withRev = resolved.revision;
    const { fromKey, minRevision: minRev, continuing } = resolved;

    const end = prefixEnd(Buffer.from(this.prefix + prefix));
    let startKey = Buffer.from(this.prefix + fromKey);
    let batch = paging ? limit : 0;
    const items: KubeObject[] = [];
    const keys: string[] = [];
    let lastKey: string | undefined;
    let hasMore = false;
    let lastCount = 0;
    let takenFromLast = 0;
    for (;;) {
      const req: IRangeRequest = { key: startKey, range_end: end, limit: batch, revision: withRev };
      let res;
      try {
        res = await this.call(prefix, () => this.client.kv.range(req));
      } catch (err) {
        if (err instanceof StorageError && err.code === 'Expired') {
          throw new StorageError('Expired', prefix, continuing ? CONTINUE_EXPIRED : LIST_EXPIRED);
        }
        if (err instanceof StorageError && err.code === 'TooLargeResourceVersion') {
          const current = await this.currentRevision().catch(() => 0);
          throw new StorageError('TooLargeResourceVersion', prefix, `Too large resource version: ${withRev}, current: ${current}`);
        }
        throw err;
      }
      const headerRev = Number(res.header.revision);
      if (minRev > headerRev) {
        throw new StorageError('TooLargeResourceVersion', prefix, `Too large resource version: ${minRev}, current: ${headerRev}`);
      }
      if (withRev === 0) withRev = headerRev;
      hasMore = res.more;
      lastCount = Number(res.count);
      takenFromLast = 0;
      for (const kv of res.kvs) {
        if (paging && items.length >= limit) {
          hasMore = true;
          break;
        }
        const fullKey = kv.key.toString('utf8');
        lastKey = fullKey.slice(this.prefix.length);
        takenFromLast++;
        const obj = cached?.(lastKey, String(kv.mod_revision)) ?? this.decode(lastKey, kv.value, kv.mod_revision, true).obj;
        if (!opts.predicate || opts.predicate(obj)) {
          items.push(obj);
          keys.push(lastKey);
        }
      }
      if (!hasMore || !paging || items.length >= limit || lastKey === undefined) break;
      // The predicate dropped items: read on, in growing batches, until the page is full.
      batch = Math.min(batch * 2, MAX_LIST_BATCH);
      startKey = Buffer.from(this.prefix + lastKey + '\x00');
    }

    const result: ListResult & { keys: string[] } = { items, keys, resourceVersion: String(withRev) };
    if (hasMore && lastKey !== undefined) {
      result.continue = encodeContinue(lastKey + '\x00', prefix, withRev);
      if (!opts.predicate) {
        const remaining = lastCount - takenFromLast;
        if (remaining > 0) result.remainingItemCount = remaining;
      }
    }
    return result;
  }

  async guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject> | KubeObject,
    opts: GuaranteedUpdateOptions = {},
  ): Promise<KubeObject> {
    const k = this.etcdKey(key);
    // Upstream's cachedExistingObject: start from the watch cache's copy rather than a read. The write's
    // compare on its mod revision catches a stale copy, and the failed transaction returns the current value.
    let suggested = opts.cachedExisting;
    let kv = suggested ? undefined : await this.getKv(key);
    for (;;) {
      let current: KubeObject | null = null;
      let modRevision = 0;
      let storedText: string | undefined;
      let stale = false;
      if (suggested) {
        current = suggested;
        modRevision = Number(suggested.metadata.resourceVersion);
        storedText = encodeForStorage(suggested);
      } else if (kv) {
        const decoded = this.decode(key, kv.value, kv.mod_revision);
        current = decoded.obj;
        modRevision = Number(kv.mod_revision);
        storedText = decoded.plain.toString('utf8');
        stale = decoded.stale;
      } else if (!opts.ignoreNotFound) {
        throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
      }
      let updated: KubeObject;
      try {
        if (current) checkPreconditions(key, opts.preconditions, current);
        updated = await tryUpdate(current);
      } catch (err) {
        if (!suggested) throw err;
        // The cached copy may have been stale: read etcd; at the same revision the error stands.
        suggested = undefined;
        kv = await this.getKv(key);
        if (kv && Number(kv.mod_revision) === modRevision) throw err;
        continue;
      }
      const value = encodeForStorage(updated);
      // Nothing changed: no write, unless the stored bytes are stale in their encryption (upstream too). A
      // cached copy is confirmed against etcd first.
      if (current && !stale && value === storedText) {
        if (!suggested) return current;
        suggested = undefined;
        kv = await this.getKv(key);
        continue;
      }
      const compare: ICompare = current
        ? { key: k, target: 'Mod', result: 'Equal', mod_revision: modRevision }
        : { key: k, target: 'Create', result: 'Equal', create_revision: 0 };
      const started = watchLatency.now();
      const res = await this.txn(key, [compare], [{ request_put: { key: k, value: this.toStorage(key, value) } }], [
        { request_range: { key: k } },
      ]);
      if (res.succeeded) {
        watchLatency.committed('update', objectType(key), Number(res.header.revision), started);
        return asWritten(updated, res.header.revision);
      }
      suggested = undefined;
      kv = res.responses[0]?.response_range?.kvs[0];
      this.logger.debug({ key }, 'guaranteedUpdate conflict, retrying');
    }
  }

  async delete(
    key: string,
    opts: { preconditions?: Preconditions; validateDeletion?: (current: KubeObject) => Promise<void> | void } = {},
  ): Promise<KubeObject> {
    const k = this.etcdKey(key);
    let kv = await this.getKv(key);
    for (;;) {
      if (!kv) throw new StorageError('KeyNotFound', key, `key not found: ${key}`);
      const current = this.decode(key, kv.value, kv.mod_revision).obj;
      checkPreconditions(key, opts.preconditions, current);
      await opts.validateDeletion?.(current);
      const started = watchLatency.now();
      const res = await this.txn(
        key,
        [{ key: k, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }],
        [{ request_delete_range: { key: k } }],
        [{ request_range: { key: k } }],
      );
      if (res.succeeded) {
        watchLatency.committed('delete', objectType(key), Number(res.header.revision), started);
        return withResourceVersion(current, res.header.revision);
      }
      kv = res.responses[0]?.response_range?.kvs[0];
    }
  }

  async currentRevision(): Promise<number> {
    const res = await this.call('', () =>
      this.client.kv.range({ key: Buffer.from(this.prefix + COMPACT_REV_KEY), keys_only: true, limit: 1 }),
    );
    return Number(res.header.revision);
  }

  async count(prefix: string): Promise<number> {
    const key = Buffer.from(this.prefix + prefix);
    const res = await this.call(prefix, () => this.client.kv.range({ key, range_end: prefixEnd(key), count_only: true }));
    return Number(res.count);
  }

  /**
   * Reads prefix at revision and reports how many keys it holds and whether any of them was modified
   * after sinceRevision (the Cacher uses this to prove its state at sinceRevision equals revision's).
   */
  async changedSince(prefix: string, sinceRevision: number, revision: number): Promise<{ count: number; modified: boolean }> {
    const key = Buffer.from(this.prefix + prefix);
    const res = await this.call(prefix, () =>
      this.client.kv.range({
        key,
        range_end: prefixEnd(key),
        revision,
        keys_only: true,
        limit: 1,
        min_mod_revision: sinceRevision + 1,
      }),
    );
    return { count: Number(res.count), modified: res.kvs.length > 0 };
  }

  /** Compacts etcd's history up to revision (an already compacted revision is not an error). */
  async compact(revision: number): Promise<void> {
    try {
      await this.call('', () => this.client.kv.compact({ revision, physical: false }));
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Expired') return;
      throw err;
    }
  }

  /**
   * Compacts periodically as upstream: each tick records the current revision under compact_rev_key
   * (a txn on its version, so several apiservers compact once per interval between them) and compacts
   * to the revision recorded by the previous tick, keeping one interval of history.
   */
  startCompactor(intervalMs: number): { stop(): void } {
    const abort = new AbortController();
    const key = Buffer.from(this.prefix + COMPACT_REV_KEY);
    let version = 0;
    let lastRev = 0;
    const tick = async () => {
      const res = await this.call(COMPACT_REV_KEY, () =>
        this.client.kv.txn({
          compare: [{ key, target: 'Version', result: 'Equal', version }],
          success: [{ request_put: { key, value: Buffer.from(String(lastRev)) } }],
          failure: [{ request_range: { key } }],
        }),
      );
      const curRev = Number(res.header.revision);
      if (!res.succeeded) {
        version = Number(res.responses[0]?.response_range?.kvs[0]?.version ?? 0);
        lastRev = curRev;
        return;
      }
      version++;
      if (lastRev > 0) {
        await this.compact(lastRev);
        this.logger.info({ revision: lastRev }, 'Compacted etcd');
      }
      lastRev = curRev;
    };
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          await tick();
        } catch (err) {
          this.logger.warn({ err: errorMessage(err) }, 'Compaction failed');
        }
        await sleep(intervalMs, abort.signal);
      }
    })();
    return { stop: () => abort.abort() };
  }

  /**
   * Opens one etcd watch stream on key (or every key under it when prefix is true) from startRevision
   * (0: from now), with prev_kv unless prevKv is false (the watch cache keeps previous states itself:
   * its events come with prevObject null). Handlers run synchronously for each response.
   */
  async openWatch(
    key: string,
    prefix: boolean,
    startRevision: number,
    handlers: RawWatchHandlers,
    opts: { progressNotify?: boolean; prevKv?: boolean } = {},
  ): Promise<RawWatch> {
    if (this.closed) throw new StorageError('Unreachable', key, 'etcd storage is closed');
    const k = this.etcdKey(key);
    let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>>;
    try {
      stream = await this.client.watchClient.watch();
    } catch (err) {
      throw this.translate(err, key);
    }
    this.stats.watchStreamsOpened++;
    this.stats.activeWatchStreams++;
    let finished = false;
    const finish = () => {
      if (finished) return false;
      finished = true;
      this.stats.activeWatchStreams--;
      this.rawWatches.delete(raw);
      return true;
    };
    const raw: RawWatch = {
      requestProgress: () => {
        if (!finished) stream.write({ progress_request: {} } as never);
      },
      pause: () => (stream as unknown as Duplex).pause(),
      resume: () => (stream as unknown as Duplex).resume(),
      cancel: () => {
        if (!finish()) return;
        try {
          stream.end();
          (stream as unknown as { cancel?: () => void }).cancel?.();
        } catch {
          // already closed
        }
      },
    };
    this.rawWatches.add(raw);
    stream.on('data', (res: IWatchResponse) => {
      if (finished) return;
      if (res.canceled) {
        const compactRev = Number(res.compact_revision);
        raw.cancel();
        if (compactRev > 0) handlers.onCompacted(compactRev);
        else handlers.onError(new StorageError('Unreachable', key, `watch canceled by etcd: ${res.cancel_reason}`));
        return;
      }
      if (res.created) handlers.onCreated?.();
      if (res.events.length === 0) {
        // The creation response's header is "now", not how far this watch got: only notifications count.
        if (!res.created) handlers.onProgress?.(Number(res.header.revision));
        return;
      }
      const events: RawWatchEvent[] = [];
      for (const ev of res.events) {
        const fullKey = ev.kv.key.toString('utf8');
        const evKey = fullKey.slice(this.prefix.length);
        const revision = Number(ev.kv.mod_revision);
        try {
          const isDelete = String(ev.type).toLowerCase() === 'delete';
          const prevObject = ev.prev_kv?.value?.length ? this.decode(evKey, ev.prev_kv.value, revision).obj : null;
          events.push({
            type: isDelete ? 'delete' : 'put',
            key: evKey,
            revision,
            object: isDelete ? null : this.decode(evKey, ev.kv.value, revision).obj,
            prevObject,
            created: !isDelete && ev.kv.create_revision === ev.kv.mod_revision,
          });
        } catch (err) {
          this.logger.error({ key: evKey, revision, err: errorMessage(err) }, 'Skipping undecodable watch event');
        }
      }
      if (events.length) handlers.onEvents(events);
    });
    stream.on('error', (err: Error) => {
      if (!finish()) return;
      const translated = this.translate(err, key);
      handlers.onError(translated instanceof StorageError ? translated : new StorageError('Unreachable', key, translated.message));
    });
    stream.on('end', () => {
      if (!finish()) return;
      handlers.onError(new StorageError('Unreachable', key, 'etcd watch stream ended'));
    });
    stream.write({
      create_request: {
        key: k,
        range_end: prefix ? prefixEnd(k) : undefined,
        start_revision: startRevision,
        prev_kv: opts.prevKv ?? true,
        progress_notify: opts.progressNotify ?? false,
      },
    });
    return raw;
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<Watcher> {
    const isPrefix = key.endsWith('/');
    const rvString = opts.resourceVersion ?? '';
    const rv = parseResourceVersion(rvString);
    const predicate = opts.predicate;
    const sendInitial = opts.sendInitialEvents ?? rvString === '0';
    let rawWatch: RawWatch | undefined;
    let paused = false;
    const queue = new WatchQueue({
      highWaterMark: this.watchHighWaterMark,
      lowWaterMark: Math.floor(this.watchHighWaterMark / 10),
      onHighWater: () => {
        paused = true;
        rawWatch?.pause();
      },
      onLowWater: () => {
        paused = false;
        rawWatch?.resume();
      },
      onStop: () => rawWatch?.cancel(),
    });

    let startRevision = rv > 0 ? rv + 1 : 0;
    if (sendInitial) {
      let items: KubeObject[];
      let listRev: number;
      if (isPrefix) {
        const res = await this.list(key, { predicate, resourceVersion: rv > 0 ? rvString : '' });
        items = res.items;
        listRev = Number(res.resourceVersion);
      } else {
        listRev = await this.currentRevision();
        items = [];
        try {
          const obj = await this.get(key);
          if (!predicate || predicate(obj)) items.push(obj);
        } catch (err) {
          if (!(err instanceof StorageError && err.code === 'KeyNotFound')) throw err;
        }
      }
      for (const obj of items) queue.push({ type: 'ADDED', object: obj }, { force: true });
      if (opts.allowBookmarks && opts.sendInitialEvents === true) {
        queue.push(
          {
            type: 'BOOKMARK',
            object: { metadata: { resourceVersion: String(listRev), annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } } },
          },
          { force: true },
        );
      }
      startRevision = listRev + 1;
    }

    rawWatch = await this.openWatch(
      key,
      isPrefix,
      startRevision,
      {
        onEvents: (events) => {
          for (const ev of events) {
            const out = toWatchEvent(ev, predicate);
            if (out) queue.push(out, { force: true });
          }
        },
        onProgress: (revision) => {
          if (opts.allowBookmarks) queue.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(revision) } } }, { force: true });
        },
        onCompacted: (compactRevision) => queue.end(tooOldResourceVersionEvent(rv, compactRevision)),
        onError: (err) => queue.end(internalErrorEvent(err.message)),
      },
      { progressNotify: opts.allowBookmarks },
    );
    if (queue.ended) rawWatch.cancel();
    else if (paused) rawWatch.pause();
    return queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const w of [...this.rawWatches]) w.cancel();
    this.closed = true;
    this.client.close();
  }
}
