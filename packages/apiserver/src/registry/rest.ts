// Upstream k8s.io/apiserver/pkg/registry/rest: what a storage can do. Every resource and subresource is one
// storage in the registry's table; the request handler (endpoints/resources.ts) serves a verb when the
// storage registered for the path has the matching capability, and knows no resource by name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type GroupResource, type KubeList, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { Watcher as WatchInterface } from '../storage/interface.js';
import type { Requester } from './rbac.js';
import type { DeleteOptions } from './strategy.js';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WatchQuery extends ListQuery {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

/** The apiVersion and kind a request body decodes into and a response carries (upstream's `New()`). */
export interface ObjectKind {
  apiVersion: string;
  kind: string;
}

/** What every storage tells the handler (upstream's rest.Storage, Scoper and GroupVersionKindProvider). */
export interface RESTStorage {
  /** The resource served (the parent resource for a subresource): scope, printers, metrics. */
  readonly info: ResourceInfo;
  /** The group and resource named in errors. */
  readonly gr: GroupResource;
  readonly kind: ObjectKind;
  /**
   * Whether writes through this storage are admitted and field-managed by the handler (field validation,
   * defaulting, metadata.managedFields, mutating and validating admission). True for the object stores and
   * their status-like views; the scale, binding, token and review storages get the decoded body as is.
   */
  readonly admitsWrites: boolean;
  /** A warning sent with every response (upstream: the kind's deprecation, e.g. ComponentStatus). */
  readonly warning?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Who asked (upstream's user in the request context); none for writes the server makes itself. */
  requester?: Requester;
  /** Admission's validating phase (upstream's ValidateObjectFunc), called with the object about to be written. */
  validate?: (obj: KubeObject, old: KubeObject | null) => Promise<void>;
}

export interface UpdateOptions extends WriteOptions {
  /** Create a missing object even when the strategy does not allow create on update (server-side apply). */
  forceAllowCreate?: boolean;
}

/** Produces the new object from the current one, or from null when there is none (upstream's UpdatedObjectInfo). */
export type UpdatedObjectInfo = (current: KubeObject | null) => KubeObject | Promise<KubeObject>;

export interface Getter extends RESTStorage {
  /** readOnly: the caller answers with the object as it is (it may come frozen from the watch cache). */
  get(namespace: string, name: string, opts?: { readOnly?: boolean }): Promise<KubeObject>;
}

export interface Lister extends RESTStorage {
  list(namespace: string, q: ListQuery): Promise<KubeList>;
}

export interface Watcher extends RESTStorage {
  watch(namespace: string, q: WatchQuery): Promise<WatchInterface>;
}

/** Creates from a body that names the object (POST to a collection). */
export interface Creater extends RESTStorage {
  create(namespace: string, obj: KubeObject, opts: WriteOptions): Promise<KubeObject>;
}

/** Creates under a named parent (POST to pods/NAME/binding, serviceaccounts/NAME/token). */
export interface NamedCreater extends RESTStorage {
  createNamed(namespace: string, name: string, obj: KubeObject, opts: WriteOptions): Promise<KubeObject>;
}

/** Replaces an object with what objInfo makes of the current one, with optimistic concurrency. PATCH is an update too. */
export interface Updater extends RESTStorage {
  update(namespace: string, name: string, objInfo: UpdatedObjectInfo, opts: UpdateOptions): Promise<{ object: KubeObject; created: boolean }>;
}

/** Upstream's rest.Patcher: PATCH reads the current object and writes the patched one through update. */
export type Patcher = Getter & Updater;

export interface GracefulDeleter extends RESTStorage {
  /** DELETE answers with the deleted object instead of a Success Status (upstream's Store.ReturnDeletedObject). */
  readonly returnDeletedObject: boolean;
  delete(namespace: string, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }>;
}

export interface CollectionDeleter extends RESTStorage {
  deleteCollection(namespace: string, q: ListQuery, opts: DeleteOptions): Promise<KubeList>;
}

/** Upstream's rest.StandardStorage: what the generic Store implements. */
export type StandardStorage = Getter & Lister & Watcher & Creater & Updater & GracefulDeleter & CollectionDeleter;

const has = (s: RESTStorage, method: string): boolean => typeof (s as unknown as Record<string, unknown>)[method] === 'function';

export const isGetter = (s: RESTStorage): s is Getter => has(s, 'get');
export const isLister = (s: RESTStorage): s is Lister => has(s, 'list');
export const isWatcher = (s: RESTStorage): s is Watcher => has(s, 'watch');
export const isCreater = (s: RESTStorage): s is Creater => has(s, 'create');
export const isNamedCreater = (s: RESTStorage): s is NamedCreater => has(s, 'createNamed');
export const isUpdater = (s: RESTStorage): s is Updater => has(s, 'update');
export const isGracefulDeleter = (s: RESTStorage): s is GracefulDeleter => has(s, 'delete');
export const isCollectionDeleter = (s: RESTStorage): s is CollectionDeleter => has(s, 'deleteCollection');

/** The RESTStorage part of a storage for a resource: its own kind unless told (a subresource's, a review's). */
export function restStorage(info: ResourceInfo, kind?: ObjectKind, opts: { admitsWrites?: boolean; warning?: string } = {}): RESTStorage {
  return {
    info,
    gr: { group: info.group, resource: info.resource },
    kind: kind ?? { apiVersion: apiVersionOf(info), kind: info.kind },
    admitsWrites: opts.admitsWrites ?? false,
    warning: opts.warning,
  };
}

/** The connection a request takes over: the raw request and response, and how to tell the framework it is taken. */
export interface Connection {
  req: IncomingMessage;
  res: ServerResponse;
  /** From now on the storage writes the response itself (fastify's reply.hijack()). */
  hijack(): void;
}

/**
 * A subresource that answers by taking over the connection (upstream's rest.Connecter, and the log REST's
 * LocationStreamer): pods/log, pods/exec, pods/attach. Errors thrown before hijack() become Status responses.
 */
export interface Connecter extends RESTStorage {
  /** The HTTP methods served (upstream's ConnectMethods). */
  readonly connectMethods: readonly string[];
  connect(namespace: string, name: string, query: URLSearchParams, conn: Connection): Promise<void>;
}

export const isConnecter = (s: RESTStorage): s is Connecter => typeof (s as unknown as Record<string, unknown>).connect === 'function';
