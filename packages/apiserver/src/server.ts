// The apiserver factory: builds the fastify app and its runtime (storage, registry, admission,
// authentication, authorization) without listening, so tests can start it in-process or as a process.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { StatusError, badRequest, forbidden, requestEntityTooLarge, toStatusError, unauthorized, type KubeObject } from '@kubelab/api';
import type { Logger } from '@kubelab/component-base';
import { etcdClientTLS, kubeletClientConfig, type ApiServerConfig } from './config.js';
import { invalidNameError, requestInfoFor, type RequestInfo } from './endpoints/request-info.js';
import { unsupportedMediaTypeFor } from './endpoints/negotiation.js';
import { handleResource, notFoundPage, type ResourceContext } from './endpoints/resources.js';
import { AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './endpoints/discovery.js';
import { createMetrics, scopeOf, type Metrics } from './metrics.js';
import { ANONYMOUS, type UserInfo } from './auth/authn.js';
import { buildAuthentication, buildAuthorization } from './auth/index.js';
import { applyImpersonation } from './auth/impersonation.js';
import { buildAdmission } from './admission/index.js';
import { getCachedOrLive } from './admission/util.js';
import type { ServerDeps } from './server-deps.js';
import { createRegistry, registerAuthStorages, type Registry } from './registry/index.js';
import { watchLatency } from './storage/watch-latency.js';
import type { Storage } from './storage/interface.js';
import { VERSION } from './version.js';
import { serveOpenAPI } from './endpoints/openapi.js';
import { RequestLimits } from './filters.js';
import { ServingLifecycle, fastifyServerOptions, httpsServerOptions, type ServingTimeouts } from './serving.js';

export interface ApiServerRuntime {
  app: ReturnType<typeof buildApp>;
  registry: Registry;
  metrics: Metrics;
  /** Health checks by name, run by /readyz (and /livez for the ones marked live). */
  checks: Map<string, () => Promise<void>>;
  /** In-flight limits and request deadlines. */
  limits: RequestLimits;
  /** Connection timeouts and graceful shutdown. */
  lifecycle: ServingLifecycle;
}


declare module 'fastify' {
  interface FastifyRequest {
    kube?: RequestInfo;
    user?: UserInfo;
  }
}

export interface ApiServerDeps {
  config: ApiServerConfig;
  tls: { cert: Buffer; key: Buffer; ca?: Buffer };
  /** Storage for one resource prefix (cached), and raw storage for allocations. */
  storageFor: (prefix: string) => Storage;
  rawStorage: Storage;
  logger: Logger;
  clock?: () => Date;
}

export function createApiServer(deps: ApiServerDeps): ApiServerRuntime {
  const { config, tls, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const metrics = createMetrics();
  // The etcd request and watch delivery histograms (kept beside the storage layer, shared by the process's servers).
  watchLatency.register(metrics.registry);
  const registry = createRegistry({
    storageFor: deps.storageFor,
    rawStorage: deps.rawStorage,
    serviceClusterIPRange: config.serviceClusterIPRange,
    serviceNodePortRange: config.serviceNodePortRange,
    etcdServers: config.etcdServers,
    etcdClientTLS: etcdClientTLS(config),
    kubeletClient: kubeletClientConfig(config),
    clock,
  });
  const namespaces = registry.store('', 'v1', 'namespaces');
  // Admission looks namespaces up in the watch cache (as upstream uses an informer), and reads etcd only
  // on a miss, since a namespace created a moment ago may not have reached the cache yet.
  const getNamespace = (name: string): Promise<KubeObject | undefined> => getCachedOrLive(namespaces, '', name);
  const serverDeps: ServerDeps = { config, registry, logger, clock, getNamespace };
  const admission = buildAdmission(serverDeps);
  const authentication = buildAuthentication(serverDeps);
  const { authorizer, storages: accessReviews } = buildAuthorization(serverDeps);
  registerAuthStorages(registry, { ...authentication.storages, ...accessReviews });
  const checks = new Map<string, () => Promise<void>>();
  checks.set('etcd', async () => {
    await deps.rawStorage.currentRevision();
  });

  const ctx: ResourceContext = {
    storages: registry.storages,
    admission,
    clock,
    metrics,
    minRequestTimeoutSeconds: config.minRequestTimeoutSeconds,
  };

  const { readHeaderTimeoutMs, idleConnectionTimeoutMs, requestTimeoutMs } = config;
  const timeouts: ServingTimeouts = { readHeaderTimeoutMs, idleConnectionTimeoutMs, requestTimeoutMs };
  const app = buildApp(tls, logger, config.maxRequestBodyBytes, timeouts);
  const limits = new RequestLimits({ ...config, metrics });
  const lifecycle = new ServingLifecycle({
    timeouts,
    shutdownDelayMs: config.shutdownDelayMs,
    watchTerminationGracePeriodMs: config.shutdownWatchTerminationGracePeriodMs,
    logger,
  });
  lifecycle.install(app);
  app.addHook('onClose', async () => limits.stop());
  checks.set('shutdown', async () => {
    if (lifecycle.shuttingDown) throw new Error('the apiserver is shutting down');
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    let status: StatusError;
    const e = err as { code?: string; statusCode?: number; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') status = requestEntityTooLarge(`Request entity too large: limit is ${config.maxRequestBodyBytes}`);
    else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') status = unsupportedMediaTypeFor(req.kube?.verb);
    else if (e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') status = new StatusError({ code: 400, reason: 'BadRequest', message: e.message });
    else status = toStatusError(err);
    if (status.code >= 500) req.log.error({ err }, 'Request failed');
    if (reply.sent || reply.raw.headersSent) return;
    reply.code(status.code).header('content-type', 'application/json').send(JSON.stringify(status.status));
  });

  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).header('content-type', 'application/json').send(JSON.stringify(notFoundPage().status));
  });

  // Authentication and authorization for every request, as upstream's filter chain.
  app.addHook('onRequest', async (req, reply) => {
    // HTTP/1.1 requires a Host header (RFC 9112), as Go's server enforces.
    if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) throw badRequest('missing required Host header');
    // Not `new URL()`: it resolves `..` and `%2e%2e` and drops everything after a '#', the query included.
    req.kube = requestInfoFor(req.method, req.url);
    // An empty Content-Type is no Content-Type: the body is JSON, as upstream (fastify would refuse it).
    if (req.headers['content-type']?.trim() === '') delete req.headers['content-type'];
    limits.startDeadline(req, reply);
    lifecycle.track(req, reply);
    let user: UserInfo | undefined;
    for (const a of authentication.authenticators) {
      user = await a.authenticate({ socket: req.raw.socket, headers: req.headers });
      if (user) break;
    }
    if (!user && (req.headers.authorization || !authentication.anonymous)) throw unauthorized();
    req.user = user ?? ANONYMOUS;
    // Impersonate-User/-Group/-Uid/-Extra-* (kubectl --as): allowed by the `impersonate` verb.
    // headersDistinct keeps repeated Impersonate-Group headers apart (absent on injected requests).
    req.user = await applyImpersonation(req.raw.headersDistinct ?? req.headers, req.user, authorizer);
    if (!limits.admit(req, reply)) return reply;
    const ri = req.kube;
    const decision = await authorizer.authorize({ user: req.user, ...ri });
    if (!decision.allowed) {
      const who = `User "${req.user.name}"`;
      const because = decision.reason ? `: ${decision.reason}` : '';
      if (ri.isResourceRequest) {
        const res = ri.subresource ? `${ri.resource}/${ri.subresource}` : ri.resource;
        const scope = ri.namespace ? ` in the namespace "${ri.namespace}"` : ' at the cluster scope';
        throw forbidden({ group: ri.apiGroup, resource: ri.resource }, ri.name, `${who} cannot ${ri.verb} resource "${res}" in API group "${ri.apiGroup}"${scope}${because}`);
      }
      throw new StatusError({ code: 403, reason: 'Forbidden', message: `forbidden: ${who} cannot ${ri.verb} path "${ri.path}"${because}`, details: {} });
    }
    const invalidName = invalidNameError(ri);
    if (invalidName) throw invalidName;
  });

  app.addHook('onResponse', async (req, reply) => {
    const ri = req.kube;
    if (!ri?.isResourceRequest) return;
    const labels = {
      verb: ri.verb.toUpperCase(),
      dry_run: ri.query.has('dryRun') ? 'All' : '',
      group: ri.apiGroup,
      version: ri.apiVersion,
      resource: ri.resource,
      subresource: ri.subresource,
      scope: scopeOf(ri.name, ri.namespace),
      component: 'apiserver',
    };
    metrics.requestTotal.inc({ ...labels, code: String(reply.statusCode) });
    if (ri.verb !== 'watch') metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
  });

  const json = (reply: FastifyReply, body: unknown, contentType = 'application/json') => reply.code(200).header('content-type', contentType).send(JSON.stringify(body));
  const serverAddress = `${config.advertiseAddress || '127.0.0.1'}:${config.securePort}`;

  const dispatch = async (req: FastifyRequest, reply: FastifyReply) => {
    const ri = req.kube!;
    // The requester travels with the request's writes so that RBAC strategies can refuse privilege escalation.
    if (ri.isResourceRequest) return handleResource(ctx, ri, req, reply, { user: req.user!, authorizer });
    if (req.method !== 'GET' && req.method !== 'HEAD') throw notFoundPage();
    const path = ri.path.replace(/\/+$/, '') || '/';
    if (path === '/api') {
      const agg = wantsAggregated(req.headers.accept);
      if (agg) return json(reply, aggregatedDiscovery(true), AGGREGATED_CONTENT_TYPE.replace('v=v2', `v=${agg}`));
      return json(reply, apiVersions(serverAddress));
    }
    if (path === '/apis') {
      const agg = wantsAggregated(req.headers.accept);
      if (agg) return json(reply, aggregatedDiscovery(false), AGGREGATED_CONTENT_TYPE.replace('v=v2', `v=${agg}`));
      return json(reply, apiGroupList());
    }
    if (ri.apiPrefix === 'api' && ri.apiVersion) {
      const doc = apiResourceList('', ri.apiVersion);
      if (doc) return json(reply, doc);
    }
    if (ri.apiPrefix === 'apis' && ri.apiGroup) {
      const doc = ri.apiVersion ? apiResourceList(ri.apiGroup, ri.apiVersion) : apiGroupDoc(ri.apiGroup);
      if (doc) return json(reply, doc);
    }
    throw notFoundPage();
  };

  app.get('/version', async (_req, reply) => json(reply, VERSION));
  app.get('/openapi/*', async (req, reply) => {
    const r = serveOpenAPI(req.url, req.headers.accept);
    if (!r) throw notFoundPage();
    reply.code(r.status).headers(r.headers);
    if (r.contentType) reply.header('content-type', r.contentType);
    return reply.send(r.body);
  });
  for (const [path, names] of [
    ['/healthz', ['ping', 'etcd']],
    ['/livez', ['ping']],
    ['/readyz', ['ping', 'etcd', 'shutdown']],
  ] as const) {
    app.get(path, async (req, reply) => {
      const verbose = req.kube!.query.has('verbose');
      const lines: string[] = [];
      let ok = true;
      for (const name of names) {
        const check = name === 'ping' ? async () => undefined : checks.get(name);
        try {
          await check?.();
          lines.push(`[+]${name} ok`);
        } catch {
          ok = false;
          lines.push(`[-]${name} failed: reason withheld`);
        }
      }
      const what = path.slice(1);
      const body = ok ? (verbose ? `${lines.join('\n')}\n${what} check passed\n` : 'ok') : `${lines.join('\n')}\n${what} check failed\n`;
      reply.code(ok ? 200 : 500).header('content-type', 'text/plain; charset=utf-8').send(body);
    });
  }
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/api', handler: dispatch });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/api/*', handler: dispatch });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/apis', handler: dispatch });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/apis/*', handler: dispatch });

  return { app, registry, metrics, checks, limits, lifecycle };
}

function buildApp(tls: { cert: Buffer; key: Buffer; ca?: Buffer }, logger: Logger, bodyLimit: number, timeouts: ServingTimeouts) {
  return Fastify({
    // Client certificates are requested and verified against the cluster CA, but optional: the
    // authenticators decide what an unauthenticated request may do.
    https: {
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      // Node answers an HTTP/1.1 request without Host itself, with an empty 400; the onRequest hook answers a Status.
      requireHostHeader: false,
      ...httpsServerOptions(timeouts),
    },
    ...fastifyServerOptions(timeouts),
    loggerInstance: logger,
    disableRequestLogging: true,
    bodyLimit,
    // Kubernetes names may contain dots and colons; routing is ours, fastify only dispatches.
    routerOptions: { maxParamLength: 2048 },
    // A path the router cannot decode (a malformed escape such as %zz) is a 400 Status, as Go's URL parsing.
    frameworkErrors: (err, _req, reply) => {
      const status = err.code === 'FST_ERR_BAD_URL' ? badRequest(err.message) : toStatusError(err);
      (reply as FastifyReply).code(status.code).header('content-type', 'application/json').send(JSON.stringify(status.status));
    },
    // A request the HTTP parser rejects still gets a Status body.
    clientErrorHandler: (err, socket) => {
      // A failed or timed-out TLS handshake has no HTTP to answer in; headers (or a body) that did not arrive in
      // time close the connection without an answer, as Go does.
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return void socket.destroy();
      const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `bad request: ${err.message}`, reason: 'BadRequest', code: 400 });
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(status)}\r\nConnection: close\r\n\r\n${status}`);
    },
  });
}
