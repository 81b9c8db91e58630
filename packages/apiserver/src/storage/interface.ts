// The storage interface the registry uses (as upstream's k8s.io/apiserver/pkg/storage.Interface).
// Implemented by EtcdStorage (etcd3 client) and wrapped by Cacher (the watch cache). Objects are
// plain JSON values; metadata.resourceVersion is etcd's mod_revision and is set by storage on the way
// out (never trusted on the way in).
import type { KubeObject, WatchEvent } from '@kubelab/api';

export type StorageErrorCode =
  | 'KeyNotFound' // get/update/delete of a missing key
  | 'KeyExists' // create of an existing key
  | 'ResourceVersionConflicts' // a delete/update precondition (uid or resourceVersion) failed
  | 'Expired' // the requested revision was compacted (410 Gone / Expired)
  | 'TooLargeResourceVersion' // the requested revision is newer than the store has (504 with retry)
  | 'InvalidObj' // a stored value that is not JSON
  | 'Unreachable'; // etcd did not answer

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message?: string,
    /** For Expired: the oldest revision still available, when known. */
    readonly revision?: number,
  ) {
    super(message ?? `${code}: ${key}`);
    this.name = 'StorageError';
  }
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface GetOptions {
  /**
   * The caller only reads the result (a GET answered as it is): the watch cache may answer with its own
   * frozen, shared object when etcd holds the key at the revision the cache has.
   */
  readOnly?: boolean;
  /** From the watch cache to etcd: the cached object of the key at a mod revision, when it holds that one. */
  cachedAt?: (modRevision: string) => KubeObject | undefined;
}

export interface GuaranteedUpdateOptions {
  preconditions?: Preconditions;
  /** A missing key is passed to tryUpdate as null (create-on-update). */
  ignoreNotFound?: boolean;
  /**
   * A copy of the watch cache's object, tried first instead of a read (upstream's cachedExistingObject).
   * It may be stale: the write is conditional on its revision, and a tryUpdate error or an unchanged
   * result is confirmed against a fresh read before it counts.
   */
  cachedExisting?: KubeObject;
}

/** A filter applied inside storage (label + field selectors compiled by the registry). */
export interface Predicate {
  (obj: KubeObject): boolean;
  /**
   * The value the predicate's field selector requires field to equal, if it has such a term (upstream's
   * fields.Selector.RequiresExactMatch): the watch cache indexes watchers by it (indexed triggers).
   */
  requiresExactMatch?: (field: string) => string | undefined;
}

export interface ListOptions {
  /**
   * '' (or undefined): the most recent state (a consistent read).
   * '0': any state is fine (served from the cache without waiting).
   * 'N': with resourceVersionMatch 'NotOlderThan' (default) at least N; with 'Exact' exactly N.
   */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact' | '';
  /** Page size; 0 or undefined means no limit. */
  limit?: number;
  /** An opaque continue token from a previous page. */
  continue?: string;
  predicate?: Predicate;
}

export interface ListResult {
  items: KubeObject[];
  /** The revision the list reflects (etcd header revision), as a string. */
  resourceVersion: string;
  /** Set when more items remain. */
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  /**
   * '' or undefined: start now, with no initial state (upstream: "0" sends synthetic ADDED events for
   * the current state first, then changes; "N" sends every change after revision N).
   */
  resourceVersion?: string;
  predicate?: Predicate;
  /** Send BOOKMARK events (object carries only kind/apiVersion/metadata.resourceVersion). */
  allowBookmarks?: boolean;
  /** When true and resourceVersion is '' or '0': send the current state as ADDED first. */
  sendInitialEvents?: boolean;
}

/**
 * A running watch: an async iterable of events that ends when stop() is called, when the consumer is
 * too slow (its buffer overflows: the client must re-watch from its last resourceVersion), or on error
 * (an ERROR event carrying a Status is yielded before the end, e.g. 410 Expired).
 */
export interface Watcher extends AsyncIterable<WatchEvent> {
  stop(): void;
}

export type UpdateFunc = (current: KubeObject) => Promise<KubeObject> | KubeObject;

/**
 * Objects returned by list() and carried by watch events may be shared with other callers (the watch
 * cache hands out its own frozen objects): treat them as read-only and copy before changing.
 */
export interface Storage {
  /** Creates key; the returned object carries its resourceVersion. KeyExists if present. */
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  /** KeyNotFound if absent. */
  get(key: string, opts?: GetOptions): Promise<KubeObject>;
  /** Lists everything under prefix (which ends with '/'). */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /**
   * Reads key, calls tryUpdate(current) and writes its result if mod_revision is unchanged; retries
   * with a fresh read when it changed. tryUpdate may throw to abort (the error propagates).
   * If tryUpdate returns the same JSON as current, nothing is written and current is returned.
   * With ignoreNotFound, a missing key is passed to tryUpdate as null (create-on-update).
   */
  guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject> | KubeObject,
    opts?: GuaranteedUpdateOptions,
  ): Promise<KubeObject>;
  /**
   * Deletes key if the preconditions hold (and validateDeletion, given the current object, does not
   * throw); returns the last stored state with resourceVersion set to the deletion's revision.
   */
  delete(key: string, opts?: { preconditions?: Preconditions; validateDeletion?: (current: KubeObject) => Promise<void> | void }): Promise<KubeObject>;
  /** Watches one key, or every key under a prefix (when key ends with '/'). */
  watch(key: string, opts?: WatchOptions): Promise<Watcher>;
  /** The store's current revision (a cheap read of the etcd header). */
  currentRevision(): Promise<number>;
  /** Number of keys under prefix (for metrics / remaining counts). */
  count(prefix: string): Promise<number>;
  close(): Promise<void>;
}
