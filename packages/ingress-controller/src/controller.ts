// The ingress controller: informers over Ingresses, IngressClasses, Services, EndpointSlices and
// Secrets feed a routing table (routing.ts) and a TLS table; an HTTP and an HTTPS server (SNI picks the
// certificate from the Ingress' Secret) proxy each request with http-proxy-3 to a ready endpoint of the
// matched backend (round robin, the next endpoint on a refused connection for requests without a body);
// the Ingresses it handles get the controller pods' node IPs in status.loadBalancer.ingress. This file
// wires; matching, endpoint selection, class selection and status are pure modules beside it.
import http from 'node:http';
import { hostname } from 'node:os';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { findResource, type KubeObject } from '@kubelab/api';
import { EventBroadcaster, inClusterConfig, loadKubeconfig, realClock, RestClient, SharedInformerFactory, type EventRecorder, type Informer } from '@kubelab/client';
import { createCA, createLogger, type Logger } from '@kubelab/component-base';
import type { Pod, Secret, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { handlesIngress } from './classes.js';
import type { IngressControllerConfig } from './config.js';
import { resolveBackend, SERVICE_NAME_LABEL, upstreamURL, type Upstream } from './endpoints.js';
import { IngressMetrics } from './metrics.js';
import { buildRoutingTable, buildTLSTable, matchRoute, matchTLS, requestPath, type BackendRef, type RoutingTable, type TLSEntry } from './routing.js';
import { loadBalancerIngress, nodeAddresses, siblingSelector, statusUpToDate } from './status.js';

/** How long start() waits for the informers before serving anyway. */
const SYNC_WAIT_MS = 30_000;
/** Coalesces bursts of changes into one rebuild. */
const REBUILD_DELAY_MS = 50;
/** ingress-nginx's proxy-read-timeout and proxy-connect-timeout defaults. */
const PROXY_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** proxy_next_upstream_tries: endpoints tried for one request at most. */
const MAX_TRIES = 3;
const BY_SERVICE = 'service';
const FIELD_MANAGER = 'kubelab-ingress-controller';
/** The events' source.component (ingress-nginx's is nginx-ingress-controller). */
const EVENT_COMPONENT = 'kubelab-ingress-controller';

export interface IngressControllerOptions {
  client?: RestClient;
  logger?: Logger;
  /** Register process metrics (the main process only). */
  processMetrics?: boolean;
  /**
   * Where an endpoint is dialled (tests on loopback: EndpointSlices may not name 127.0.0.0/8, so an
   * integration test maps documentation addresses to its local servers). Default: the endpoint itself.
   */
  dialTarget?: (u: Upstream) => Upstream;
}

export interface IngressController {
  readonly config: Readonly<IngressControllerConfig>;
  readonly metrics: IngressMetrics;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound ports (after start; 0 picks a free one). */
  ports(): { http: number; https: number; healthz: number };
  /** The current routing table (tests, logs). */
  table(): RoutingTable;
  /** Runs the status sync now (tests). */
  syncStatus(): Promise<void>;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT']);

export function createIngressController(config: Readonly<IngressControllerConfig>, opts: IngressControllerOptions = {}): IngressController {
  const logger = opts.logger ?? createLogger('ingress-controller');
  const metrics = new IngressMetrics({ processMetrics: opts.processMetrics });
  const dial = opts.dialTarget ?? ((u: Upstream) => u);
  let client: RestClient | undefined;
  let factory: SharedInformerFactory | undefined;
  let ingresses!: Informer<KubeObject>;
  let classes!: Informer<KubeObject>;
  let services!: Informer<KubeObject>;
  let slices!: Informer<KubeObject>;
  let secrets!: Informer<KubeObject>;
  let pods: Informer<KubeObject> | undefined;
  let broadcaster: EventBroadcaster | undefined;
  let recorder: EventRecorder | undefined;
  /** Ingresses added or changed (generation) since the last rebuild: a Sync event once they are ours. */
  const pendingSync = new Set<string>();

  let table: RoutingTable = buildRoutingTable([]);
  let tlsTable = new Map<string, TLSEntry>();
  let handled: Ingress[] = [];
  let rebuildTimer: NodeJS.Timeout | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  let statusRunning: Promise<void> | undefined;
  let statusAgain = false;
  let stopped = false;
  let serving = false;
  const bound = { http: 0, https: 0, healthz: 0 };
  const servers: http.Server[] = [];
  /** Upgraded (WebSocket) client connections: the servers no longer track them, stop() ends them. */
  const upgraded = new Set<Socket>();
  const roundRobin = new Map<string, number>();
  const contexts = new Map<string, { version: string; context: tls.SecureContext | undefined }>();
  let defaultContext: tls.SecureContext | undefined;

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32 });
  const proxy = createProxyServer({ xfwd: true, agent, proxyTimeout: PROXY_TIMEOUT_MS, timeout: PROXY_TIMEOUT_MS });
  // Without a listener http-proxy rethrows; every call below passes its own callback.
  proxy.on('error', (err) => logger.debug({ err }, 'Proxy error'));

  const rebuild = () => {
    rebuildTimer = undefined;
    if (stopped) return;
    const ics = classes.lister.list() as IngressClass[];
    const classOpts = { ingressClass: config.ingressClass, controllerClass: config.controllerClass, watchIngressWithoutClass: config.watchIngressWithoutClass };
    handled = (ingresses.lister.list() as Ingress[]).filter((i) => !i.metadata?.deletionTimestamp && handlesIngress(i, ics, classOpts));
    table = buildRoutingTable(handled);
    tlsTable = buildTLSTable(handled);
    metrics.ingresses.set(handled.length);
    metrics.routes.set(table.routes.length);
    metrics.sslCertificates.set(tlsTable.size);
    metrics.reloads.inc();
    for (const ing of handled) {
      const key = `${ing.metadata?.namespace}/${ing.metadata?.name}`;
      if (pendingSync.has(key)) recorder?.event(ing as KubeObject, 'Normal', 'Sync', 'Scheduled for sync');
    }
    pendingSync.clear();
    logger.debug({ ingresses: handled.length, routes: table.routes.length, tlsHosts: tlsTable.size }, 'Routing table rebuilt');
    scheduleStatus();
  };
  const scheduleRebuild = () => {
    if (!rebuildTimer && !stopped) rebuildTimer = setTimeout(rebuild, REBUILD_DELAY_MS);
  };

  // ---- status ----

  const desiredAddresses = (): string[] | undefined => {
    if (config.publishStatusAddress.length) return [...config.publishStatusAddress];
    if (!pods) return undefined; // outside a pod and nothing to publish
    return nodeAddresses(pods.lister.list(config.podNamespace) as Pod[]);
  };

  const syncStatusOnce = async (): Promise<void> => {
    if (!config.updateStatus || !client || stopped) return;
    const addresses = desiredAddresses();
    if (!addresses) return;
    const desired = loadBalancerIngress(addresses);
    const ingressInfo = findResource('networking.k8s.io', 'v1', 'ingresses')!;
    for (const ing of handled) {
      if (statusUpToDate(ing, desired)) continue;
      const { namespace, name } = ing.metadata ?? {};
      try {
        await client
          .resource(ingressInfo, namespace)
          .patch(name ?? '', { status: { loadBalancer: { ingress: desired } } }, 'merge', { subresource: 'status', fieldManager: FIELD_MANAGER });
        metrics.statusUpdates.inc({ result: 'success' });
        logger.info({ ingress: `${namespace}/${name}`, addresses }, 'Updated Ingress status');
      } catch (err) {
        metrics.statusUpdates.inc({ result: 'error' });
        logger.warn({ err, ingress: `${namespace}/${name}` }, 'Failed to update Ingress status');
      }
    }
  };

  /** Runs the status sync, once more after the running one if asked again meanwhile. */
  const syncStatus = async (): Promise<void> => {
    if (statusRunning) {
      statusAgain = true;
      return statusRunning;
    }
    statusRunning = (async () => {
      do {
        statusAgain = false;
        await syncStatusOnce();
      } while (statusAgain && !stopped);
    })().finally(() => (statusRunning = undefined));
    return statusRunning;
  };
  const scheduleStatus = () => void syncStatus();

  // ---- TLS ----

  const secureContextFor = (entry: TLSEntry | undefined): tls.SecureContext | undefined => {
    if (!entry) return defaultContext;
    const secret = secrets.lister.get(entry.namespace, entry.secretName) as Secret | undefined;
    if (!secret) return defaultContext;
    const key = `${entry.namespace}/${entry.secretName}`;
    const version = secret.metadata?.resourceVersion ?? '';
    const cached = contexts.get(key);
    if (cached && cached.version === version) return cached.context ?? defaultContext;
    let context: tls.SecureContext | undefined;
    try {
      const cert = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64');
      const privateKey = Buffer.from(secret.data?.['tls.key'] ?? '', 'base64');
      context = tls.createSecureContext({ cert, key: privateKey });
    } catch (err) {
      logger.warn({ err, secret: key }, 'Invalid TLS Secret: serving the default certificate');
    }
    contexts.set(key, { version, context });
    return context ?? defaultContext;
  };

  // ---- proxying ----

  const endpointsFor = (b: BackendRef) => {
    const service = services.lister.get(b.namespace, b.service) as Service | undefined;
    const list = slices.lister.byIndex(BY_SERVICE, `${b.namespace}/${b.service}`) as EndpointSlice[];
    return resolveBackend(b, service, list);
  };

  /** The upstreams in round-robin order starting at this request's turn. */
  const rotation = (b: BackendRef, upstreams: Upstream[]): Upstream[] => {
    const key = `${b.namespace}/${b.service}/${b.port.name ?? b.port.number}`;
    const n = roundRobin.get(key) ?? 0;
    roundRobin.set(key, (n + 1) % 1_000_000);
    const start = n % upstreams.length;
    return [...upstreams.slice(start), ...upstreams.slice(0, start)];
  };

  const plain = (res: http.ServerResponse, code: number, body: string) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const onRequest = (scheme: 'http' | 'https') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const match = matchRoute(table, req.headers.host, requestPath(req.url));
    const labels = { namespace: match?.backend.namespace ?? '', ingress: match?.backend.ingress ?? '', service: match?.backend.service ?? '' };
    res.on('finish', () => {
      metrics.requests.inc({ ...labels, status: String(res.statusCode), method: req.method ?? '', scheme });
      metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
    });
    if (!match) return plain(res, 404, 'default backend - 404\n');
    const resolved = endpointsFor(match.backend);
    if (resolved.kind !== 'ok') {
      logger.debug({ backend: match.backend, reason: resolved.reason, host: req.headers.host, url: req.url }, 'No endpoints for the backend');
      return plain(res, 503, '503 Service Temporarily Unavailable\n');
    }
    const order = rotation(match.backend, resolved.upstreams).slice(0, MAX_TRIES);
    const retryable = (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') && !req.headers['content-length'] && !req.headers['transfer-encoding'];
    const attempt = (i: number) => {
      const upstream = order[i]!;
      proxy.web(req, res, { target: upstreamURL(dial(upstream)) }, (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        metrics.upstreamErrors.inc({ namespace: match.backend.namespace, service: match.backend.service });
        logger.debug({ err, upstream, backend: match.backend }, 'Upstream failed');
        if (!res.headersSent && retryable && RETRYABLE.has(code) && i + 1 < order.length) return attempt(i + 1);
        if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return plain(res, 504, '504 Gateway Time-out\n');
        plain(res, 502, '502 Bad Gateway\n');
      });
    };
    attempt(0);
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const match = matchRoute(table, req.headers.host, requestPath(req.url));
    const resolved = match ? endpointsFor(match.backend) : undefined;
    if (!match || resolved?.kind !== 'ok') {
      const status = match ? '503 Service Temporarily Unavailable' : '404 Not Found';
      return void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    const [upstream] = rotation(match.backend, resolved.upstreams);
    proxy.ws(req, socket, head, { target: upstreamURL(dial(upstream!)) }, (err) => {
      logger.debug({ err, upstream }, 'WebSocket upstream failed');
      socket.destroy();
    });
  };

  const listen = (server: http.Server, port: number): Promise<number> =>
    new Promise((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, config.bindAddress, () => {
        server.off('error', reject);
        server.on('error', (err) => logger.error({ err }, 'Server error'));
        servers.push(server);
        resolveListen((server.address() as AddressInfo).port);
      });
    });

  const withConnectTimeout = (server: http.Server) => {
    server.headersTimeout = CONNECT_TIMEOUT_MS * 12;
    server.requestTimeout = 0;
    server.keepAliveTimeout = 75_000; // ingress-nginx's keep-alive 75s
    return server;
  };

  const healthz = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = requestPath(req.url);
    if (path === '/healthz') return serving && !stopped ? plain(res, 200, 'ok') : plain(res, 503, 'not serving');
    if (path === '/metrics') {
      return void metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        },
        () => plain(res, 500, 'metrics failed\n'),
      );
    }
    plain(res, 404, '404 page not found\n');
  };

  return {
    config,
    metrics,
    ports: () => ({ ...bound }),
    table: () => table,
    syncStatus,
    async start() {
      client = opts.client ?? new RestClient({ ...(config.kubeconfig ? loadKubeconfig(config.kubeconfig) : inClusterConfig()), userAgent: 'kubelab-ingress-controller' });
      factory = new SharedInformerFactory(client, { logger });
      broadcaster = new EventBroadcaster({ client, clock: realClock, onError: (err) => logger.debug({ err }, 'Failed to write an event') });
      recorder = broadcaster.newRecorder({ component: EVENT_COMPONENT, host: config.podName ?? hostname() });
      ingresses = factory.forResource(findResource('networking.k8s.io', 'v1', 'ingresses')!);
      classes = factory.forResource(findResource('networking.k8s.io', 'v1', 'ingressclasses')!);
      services = factory.forResource(findResource('', 'v1', 'services')!);
      slices = factory.forResource(findResource('discovery.k8s.io', 'v1', 'endpointslices')!);
      secrets = factory.forResource(findResource('', 'v1', 'secrets')!);
      slices.addIndexer(BY_SERVICE, (o) => {
        const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
        return svc ? [`${o.metadata.namespace}/${svc}`] : [];
      });
      const onChange = { onAdd: scheduleRebuild, onUpdate: scheduleRebuild, onDelete: scheduleRebuild };
      const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
      ingresses.addEventHandler({
        onAdd: (o) => {
          pendingSync.add(keyOf(o));
          scheduleRebuild();
        },
        onUpdate: (a, b) => {
          if (a.metadata.generation !== b.metadata.generation) pendingSync.add(keyOf(b));
          scheduleRebuild();
        },
        onDelete: scheduleRebuild,
      });
      classes.addEventHandler(onChange);
      secrets.addEventHandler({ onDelete: (s) => contexts.delete(`${s.metadata.namespace}/${s.metadata.name}`) });

      if (config.podName && config.podNamespace && config.updateStatus && !config.publishStatusAddress.length) {
        // The pods of this controller (same labels as ours): their nodes are the addresses published.
        const podInfo = findResource('', 'v1', 'pods')!;
        const self = (await client.resource(podInfo, config.podNamespace).get(config.podName)) as Pod;
        const labelSelector = siblingSelector(self);
        pods = new SharedInformerFactory(client, { logger, namespace: config.podNamespace }).forResource(podInfo, { labelSelector });
        pods.addEventHandler({ onAdd: scheduleStatus, onUpdate: scheduleStatus, onDelete: scheduleStatus });
        pods.start();
        logger.info({ pod: `${config.podNamespace}/${config.podName}`, selector: labelSelector }, 'Publishing the nodes of the controller pods');
      }

      const ca = await createCA({ commonName: 'Kubernetes Ingress Controller Fake Certificate', validityDays: 365 });
      defaultContext = tls.createSecureContext({ cert: ca.certPem, key: ca.keyPem });

      bound.healthz = await listen(http.createServer(healthz), config.healthzPort);
      factory.start();
      const synced = await Promise.all([factory.waitForCacheSync(AbortSignal.timeout(SYNC_WAIT_MS)), pods?.waitForSync(AbortSignal.timeout(SYNC_WAIT_MS))]);
      if (!synced[0]) logger.warn({ waitedMs: SYNC_WAIT_MS }, 'Serving before the caches synced');
      rebuild();

      const httpServer = withConnectTimeout(http.createServer(onRequest('http')));
      httpServer.on('upgrade', onUpgrade);
      const httpsServer = withConnectTimeout(
        https.createServer(
          {
            cert: ca.certPem,
            key: ca.keyPem,
            SNICallback: (servername, cb) => cb(null, secureContextFor(matchTLS(tlsTable, servername))),
          },
          onRequest('https'),
        ),
      );
      httpsServer.on('upgrade', onUpgrade);
      httpsServer.on('tlsClientError', (err) => logger.debug({ err }, 'TLS handshake failed'));
      bound.http = await listen(httpServer, config.httpPort);
      bound.https = await listen(httpsServer, config.httpsPort);
      serving = true;
      statusTimer = setInterval(scheduleStatus, config.statusSyncPeriodMs);
      statusTimer.unref();
      logger.info(
        { ingressClass: config.ingressClass, controllerClass: config.controllerClass, ports: bound },
        'Ingress controller serving',
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      serving = false;
      if (rebuildTimer) clearTimeout(rebuildTimer);
      if (statusTimer) clearInterval(statusTimer);
      for (const s of upgraded) s.destroy();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((res) => {
              s.closeAllConnections();
              s.close(() => res());
            }),
        ),
      );
      proxy.close();
      agent.destroy();
      await statusRunning;
      await broadcaster?.flush();
      broadcaster?.shutdown();
      await Promise.all([factory?.shutdown(), pods?.stop()]);
      if (!opts.client) client?.close();
    },
  };
}
