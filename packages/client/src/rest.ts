// A thin REST client for the Kubelab (and any Kubernetes) apiserver: JSON in and out, Status
// errors parsed back into StatusError, a client-side token bucket, and typed per-resource helpers.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import {
  findKind,
  fromStatus,
  resourcePath,
  StatusError,
  type KubeList,
  type KubeObject,
  type ResourceInfo,
  type StatusReason,
} from '@kubelab/api';
import type { DeleteOptions as MetaDeleteOptions, Status } from 'kubernetes-types/meta/v1';
import type { RestConfig } from './kubeconfig.js';
import { TokenBucket } from './rate-limiter.js';
import { Watch } from './watch.js';

export type QueryValue = string | number | boolean | undefined | null;
export type Query = Record<string, QueryValue | QueryValue[]>;

export interface RequestOptions {
  method?: string;
  /** Path below the server URL, e.g. /api/v1/namespaces/default/pods. */
  path: string;
  query?: Query;
  /** A JSON-serialisable value, or a string/Buffer sent as-is. */
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Defaults to application/json. */
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const DEFAULT_QPS = 50;
export const DEFAULT_BURST = 100;
const TOKEN_FILE_REFRESH_MS = 60_000;

export const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = keyof typeof PATCH_CONTENT_TYPES;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WriteOptions {
  dryRun?: 'All';
  fieldManager?: string;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  /** Patch a subresource such as `status` or `scale`. */
  subresource?: string;
}

export type DeleteOptions = Omit<MetaDeleteOptions, 'apiVersion' | 'kind'>;

/** Reason and message for an error response without a Status body (apimachinery NewGenericServerResponse). */
function genericServerError(code: number, method: string, body: string): StatusError {
  let reason: StatusReason = '';
  let message = `the server responded with the status code ${code} but did not return more information`;
  switch (code) {
    case 409:
      reason = method === 'POST' ? 'AlreadyExists' : 'Conflict';
      message = 'the server reported a conflict';
      break;
    case 404:
      reason = 'NotFound';
      message = 'the server could not find the requested resource';
      break;
    case 400:
      reason = 'BadRequest';
      message = 'the server rejected our request for an unknown reason';
      break;
    case 401:
      reason = 'Unauthorized';
      message = 'the server has asked for the client to provide credentials';
      break;
    case 403:
      reason = 'Forbidden';
      message = body;
      break;
    case 405:
      reason = 'MethodNotAllowed';
      message = 'the server does not allow this method on the requested resource';
      break;
    case 406:
      reason = 'NotAcceptable';
      message = body;
      break;
    case 410:
      reason = 'Gone';
      message = body || 'the requested resource is no longer available';
      break;
    case 415:
      reason = 'UnsupportedMediaType';
      message = body;
      break;
    case 422:
      reason = 'Invalid';
      message = 'the server rejected our request due to an error in our request';
      break;
    case 429:
      reason = 'TooManyRequests';
      message = 'the server has received too many requests and has asked us to try again later';
      break;
    case 503:
      reason = 'ServiceUnavailable';
      message = 'the server is currently unable to handle the request';
      break;
    case 504:
      reason = 'Timeout';
      message = 'the server was unable to return a response in the time allotted, but may still be processing the request';
      break;
    default:
      if (code >= 500) {
        reason = 'InternalError';
        message = `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`;
      }
  }
  return new StatusError({
    code,
    reason,
    message,
    details: body ? { causes: [{ reason: 'UnexpectedServerResponse', message: body }] } : undefined,
  });
}

/** Turns a non-2xx response body into a StatusError. */
export function errorFromResponse(code: number, method: string, body: string): StatusError {
  try {
    const parsed = JSON.parse(body) as Partial<Status>;
    if (parsed && parsed.kind === 'Status') return fromStatus(parsed as Status, code);
  } catch {
    // not JSON
  }
  return genericServerError(code, method, body.trim());
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function appendQuery(params: URLSearchParams, query: Query | undefined): void {
  for (const [k, v] of Object.entries(query ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null && x !== '') params.append(k, String(x));
  }
}

/** client-go's transport: a TCP connect gets 30 s, a TLS handshake 10 s (a SYN into a black hole must not hang a request forever). */
const DIAL_TIMEOUT_MS = 30_000;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Fails the request if its new connection is not established (and, for TLS, secured) in time; a reused socket passes. */
function connectWithin(req: http.ClientRequest, socket: Socket, url: URL): void {
  if (!socket.connecting) return;
  const tls = socket instanceof TLSSocket;
  let timer = setTimeout(() => req.destroy(new Error(`dial tcp ${url.host}: i/o timeout`)), DIAL_TIMEOUT_MS);
  socket.once('connect', () => {
    clearTimeout(timer);
    if (tls) timer = setTimeout(() => req.destroy(new Error(`net/http: TLS handshake timeout (${url.host})`)), TLS_HANDSHAKE_TIMEOUT_MS);
  });
  if (tls) socket.once('secureConnect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
}

export class RestClient {
  private current: Readonly<RestConfig>;
  private readonly base: URL;
  private agent: http.Agent;
  private readonly limiter: TokenBucket;
  private token?: string;
  private tokenReadAt = 0;

  constructor(config: RestConfig) {
    this.current = { ...config };
    this.base = new URL(config.server);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new Error(`unsupported server URL ${config.server}`);
    this.agent = this.newAgent();
    this.limiter = new TokenBucket(config.qps ?? DEFAULT_QPS, config.burst ?? DEFAULT_BURST);
    this.token = config.token;
  }

  /** The configuration in force (with the client certificate last set). */
  get config(): Readonly<RestConfig> {
    return this.current;
  }

  private newAgent(): http.Agent {
    const c = this.current;
    if (this.base.protocol !== 'https:') return new http.Agent({ keepAlive: true });
    // One TLS context for every connection of this agent (otherwise each new connection parses the CA, key and
    // certificate again).
    return new https.Agent({
      keepAlive: true,
      secureContext: createSecureContext({ ca: c.ca, cert: c.cert, key: c.key }),
      rejectUnauthorized: !c.insecureSkipTLSVerify,
      servername: c.tlsServerName,
    });
  }

  /**
   * Sets the bearer token sent from now on (client-go's token source: a controller's ServiceAccount token renewed
   * in the background); it is kept in memory only.
   */
  setBearerToken(token: string): void {
    this.token = token;
  }

  /**
   * Authenticates with a new client certificate from now on (the kubelet's certificate rotation). As upstream's
   * rotating transport, every open connection is closed, watches included: their clients reconnect with the new
   * certificate rather than keep a session authenticated by the old one.
   */
  setClientCertificate(certPem: string, keyPem: string): void {
    this.current = { ...this.current, cert: certPem, key: keyPem };
    const old = this.agent;
    this.agent = this.newAgent();
    old.destroy();
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private bearerToken(): string | undefined {
    const file = this.config.tokenFile;
    if (file && Date.now() - this.tokenReadAt >= TOKEN_FILE_REFRESH_MS) {
      this.tokenReadAt = Date.now();
      try {
        this.token = readFileSync(file, 'utf8').trim() || this.token;
      } catch {
        // keep the last good token
      }
    }
    return this.token;
  }

  private url(path: string, query?: Query): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(this.base.origin + prefix + (path.startsWith('/') ? path : `/${path}`));
    appendQuery(url.searchParams, query);
    return url;
  }

  /** Sends a request and resolves with the response once its status is 2xx; the body is not read. */
  async stream(opts: RequestOptions): Promise<IncomingMessage> {
    await this.limiter.wait(opts.signal);
    const method = (opts.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {
      Accept: opts.accept ?? 'application/json',
      'User-Agent': this.config.userAgent ?? 'kubelab-client',
      ...opts.headers,
    };
    const token = this.bearerToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload =
        typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const url = this.url(opts.path, opts.query);
    const mod = url.protocol === 'https:' ? https : http;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, signal: opts.signal }, resolve);
      req.on('error', reject);
      req.on('socket', (socket) => connectWithin(req, socket, url));
      req.end(payload);
    });
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) throw errorFromResponse(code, method, await readBody(res));
    return res;
  }

  /** Sends a request and returns the decoded JSON body (text for non-JSON responses, undefined if empty). */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    const timeoutMs = this.current.timeoutMs;
    const deadline = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal = deadline && opts.signal ? AbortSignal.any([opts.signal, deadline]) : (deadline ?? opts.signal);
    const res = await this.stream(signal === opts.signal ? opts : { ...opts, signal });
    const text = await readBody(res);
    if (!text) return undefined as T;
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json') || (!type && /^[[{]/.test(text.trimStart()))) return JSON.parse(text) as T;
    return text as T;
  }

  /** Opens a watch on a collection path; resolves once the server accepted it. */
  async watch<T = KubeObject>(path: string, opts: WatchOptions = {}): Promise<Watch<T>> {
    const ac = new AbortController();
    const outer = opts.signal;
    const onOuterAbort = () => ac.abort();
    if (outer?.aborted) ac.abort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let res: IncomingMessage;
    try {
      res = await this.stream({
        path,
        signal: ac.signal,
        query: {
          watch: 'true',
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
          timeoutSeconds: opts.timeoutSeconds,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
        },
      });
    } catch (err) {
      outer?.removeEventListener('abort', onOuterAbort);
      throw err;
    }
    const w = new Watch<T>(res, () => {
      outer?.removeEventListener('abort', onOuterAbort);
      res.destroy();
      ac.abort();
    });
    if (ac.signal.aborted) w.stop();
    else ac.signal.addEventListener('abort', () => w.stop(), { once: true });
    return w;
  }

  /** Typed helpers for one resource, optionally bound to a namespace. */
  resource<T extends KubeObject = KubeObject>(info: ResourceInfo, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, info, namespace);
  }

  /** Typed helpers for a kind, e.g. resourceFor('apps/v1', 'Deployment', 'default'). */
  resourceFor<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace?: string): ResourceClient<T> {
    const info = findKind(apiVersion, kind);
    if (!info) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return this.resource<T>(info, namespace);
  }
}

export class ResourceClient<T extends KubeObject = KubeObject> {
  constructor(
    readonly client: RestClient,
    readonly info: ResourceInfo,
    /** Undefined: all namespaces for list/watch, the object's own namespace for writes. */
    readonly namespace?: string,
  ) {}

  private ns(obj?: KubeObject): string | undefined {
    if (!this.info.namespaced) return undefined;
    return this.namespace || obj?.metadata?.namespace || undefined;
  }

  private objectPath(name: string, subresource?: string, obj?: KubeObject): string {
    if (!name) throw new Error('resource name may not be empty');
    const ns = this.ns(obj);
    if (this.info.namespaced && !ns) throw new Error(`a namespace is required for ${this.info.resource} "${name}"`);
    return resourcePath(this.info, ns, name, subresource);
  }

  private collectionPath(obj?: KubeObject): string {
    return resourcePath(this.info, this.ns(obj));
  }

  get(name: string, opts: { resourceVersion?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.client.request<T>({ path: this.objectPath(name), query: { resourceVersion: opts.resourceVersion }, signal: opts.signal });
  }

  list(opts: ListOptions & { signal?: AbortSignal } = {}): Promise<KubeList<T>> {
    const { signal, ...query } = opts;
    return this.client.request<KubeList<T>>({ path: this.collectionPath(), query: { ...query }, signal });
  }

  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: 'POST', path: this.collectionPath(obj), query: { ...opts }, body: obj });
  }

  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: 'PUT', path: this.objectPath(obj.metadata?.name ?? '', undefined, obj), query: { ...opts }, body: obj });
  }

  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: 'PUT', path: this.objectPath(obj.metadata?.name ?? '', 'status', obj), query: { ...opts }, body: obj });
  }

  /** Patches an object. `patch` is an object (merge/strategic/apply) or an operation array (json). */
  patch(name: string, patch: unknown, type: PatchType, opts: PatchOptions = {}): Promise<T> {
    const { subresource, force, ...rest } = opts;
    return this.client.request<T>({
      method: 'PATCH',
      path: this.objectPath(name, subresource),
      query: { ...rest, force: force === undefined ? undefined : String(force) },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  /** Deletes an object; resolves with the deleted object (or the object with a deletionTimestamp, or a Status). */
  delete(name: string, opts?: DeleteOptions): Promise<T | Status> {
    return this.client.request<T | Status>({
      method: 'DELETE',
      path: this.objectPath(name),
      body: opts ? { kind: 'DeleteOptions', apiVersion: 'v1', ...opts } : undefined,
    });
  }

  deleteCollection(opts: ListOptions & DeleteOptions = {}): Promise<KubeList<T> | Status> {
    const { labelSelector, fieldSelector, limit, continue: cont, resourceVersion, resourceVersionMatch, timeoutSeconds, ...del } = opts;
    return this.client.request<KubeList<T> | Status>({
      method: 'DELETE',
      path: this.collectionPath(),
      query: { labelSelector, fieldSelector, limit, continue: cont, resourceVersion, resourceVersionMatch, timeoutSeconds },
      body: { kind: 'DeleteOptions', apiVersion: 'v1', ...del },
    });
  }

  watch(opts: WatchOptions = {}): Promise<Watch<T>> {
    return this.client.watch<T>(this.collectionPath(), opts);
  }
}
