// Upstream: k8s.io/apiserver/pkg/server/secure_serving.go (the connection timeouts of the secure port) and
// the graceful shutdown of genericapiserver.go (readyz fails, stop accepting, end watches, drain, close).
import type { Server as HttpsServer } from 'node:https';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@kubelab/component-base';
import { isLongRunning } from './filters.js';
import type { ApiServerRuntime } from './server.js';

type App = ApiServerRuntime['app'];

export interface ServingTimeouts {
  /** TLS handshake, then the first request's headers (upstream's ReadHeaderTimeout, 32 s). */
  readHeaderTimeoutMs: number;
  /** An idle keep-alive connection (upstream's IdleTimeout, 90 s). */
  idleConnectionTimeoutMs: number;
  /** --request-timeout: node's own bound on receiving a request sits just above it. */
  requestTimeoutMs: number;
}

/** node https server options: handshake and header timeouts, checked often enough to hold them. */
export function httpsServerOptions(t: ServingTimeouts) {
  return {
    handshakeTimeout: t.readHeaderTimeoutMs,
    headersTimeout: t.readHeaderTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(t.readHeaderTimeoutMs / 4))),
  };
}

/** fastify options: keep-alive idle timeout and a backstop for request bodies (the 504 comes first). */
export function fastifyServerOptions(t: ServingTimeouts) {
  return {
    keepAliveTimeout: t.idleConnectionTimeoutMs,
    requestTimeout: t.requestTimeoutMs ? Math.max(t.requestTimeoutMs + 1000, t.readHeaderTimeoutMs) : 0,
    // Requests that arrive while the server closes are still served (with Connection: close), as upstream.
    return503OnClosing: false,
  };
}

interface LongRunning {
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * Tracks connections and long-running requests of one server so that it can stop: a connection that sends no
 * request within the header timeout is closed, and at shutdown open watches are ended cleanly (the chunked
 * stream finishes, the client reconnects elsewhere) while other requests in flight finish.
 */
export class ServingLifecycle {
  /** Set at SIGTERM: /readyz fails from then on. */
  shuttingDown = false;
  /** Set when the listener closes: responses carry Connection: close. */
  closing = false;
  private readonly longRunning = new Set<LongRunning>();
  private readonly firstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  private server?: HttpsServer;

  constructor(
    private readonly opts: { timeouts: ServingTimeouts; shutdownDelayMs: number; watchTerminationGracePeriodMs: number; logger: Logger },
  ) {}

  /** Registers the hooks and server listeners on a fastify app built with httpsServerOptions(). */
  install(app: App): void {
    const server = app.server as HttpsServer;
    this.server = server;
    // Go's http.Server gives a new connection ReadHeaderTimeout for its first request; node only times a
    // request once its first byte arrived, so an idle connection would be kept forever.
    server.on('secureConnection', (socket: Socket) => {
      const timer = setTimeout(() => socket.destroy(), this.opts.timeouts.readHeaderTimeoutMs);
      this.firstRequest.set(socket, timer);
      socket.once('close', () => clearTimeout(timer));
    });
    const started = (req: IncomingMessage) => {
      const timer = this.firstRequest.get(req.socket);
      if (timer === undefined) return;
      clearTimeout(timer);
      this.firstRequest.delete(req.socket);
    };
    server.on('request', started);
    server.on('upgrade', started);
    // Upgrade requests (pods/exec, pods/attach: SPDY/3.1 or WebSocket) go through the same filters and handlers
    // as every other request; the handler that serves one takes the connection over (reply.hijack()).
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (head.length) socket.unshift(head);
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      res.once('finish', () => socket.end());
      server.emit('request', req, res);
    });
    app.addHook('onSend', async (_req, reply) => {
      if (this.closing) reply.header('connection', 'close');
    });
    // app.close() stops the listener, then waits for every connection: end the long-running ones.
    app.addHook('preClose', async () => {
      this.closing = true;
      this.endLongRunning();
    });
  }

  /** Called from onRequest once the request info is known. */
  track(req: FastifyRequest, reply: FastifyReply): void {
    if (!isLongRunning(req.kube!)) return;
    const entry: LongRunning = { req: req.raw, res: reply.raw };
    this.longRunning.add(entry);
    reply.raw.once('close', () => this.longRunning.delete(entry));
    if (this.closing) this.end(entry);
  }

  /** Number of long-running requests open (tests). */
  openLongRunning(): number {
    return this.longRunning.size;
  }

  /**
   * Stops the server: /readyz fails for --shutdown-delay-duration while everything is still served, then the
   * listener closes, open watches end (spread over the watch termination grace period) and requests in flight
   * finish; connections still open after the request timeout are cut.
   */
  async shutdown(app: App): Promise<void> {
    this.shuttingDown = true;
    if (this.opts.shutdownDelayMs > 0) {
      this.opts.logger.info({ delayMs: this.opts.shutdownDelayMs }, 'Shutdown delayed, /readyz failing');
      await new Promise((r) => setTimeout(r, this.opts.shutdownDelayMs));
    }
    const { requestTimeoutMs } = this.opts.timeouts;
    const boundMs = (requestTimeoutMs || 60_000) + this.opts.watchTerminationGracePeriodMs + 1000;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'bound'>((resolve) => (timer = setTimeout(() => resolve('bound'), boundMs)));
    const closed = await Promise.race([app.close().then(() => 'closed' as const), bound]);
    clearTimeout(timer);
    if (closed === 'bound') {
      this.opts.logger.warn({ afterMs: boundMs }, 'Connections still open at the end of the shutdown grace period, closing them');
      this.server?.closeAllConnections();
    }
  }

  private endLongRunning(): void {
    const entries = [...this.longRunning];
    const spread = this.opts.watchTerminationGracePeriodMs;
    if (entries.length) this.opts.logger.info({ count: entries.length, overMs: spread }, 'Ending long-running requests');
    entries.forEach((entry, i) => {
      if (!spread) return this.end(entry);
      setTimeout(() => this.end(entry), Math.floor((spread * i) / entries.length)).unref();
    });
  }

  private end({ req, res }: LongRunning, attempt = 0): void {
    const socket = req.socket;
    if (res.writableEnded || socket.destroyed) return;
    if (!res.headersSent) {
      // Not streaming yet (a watch still being set up): try again shortly, then give up on a clean end.
      if (attempt < 20) setTimeout(() => this.end({ req, res }, attempt + 1), 50).unref();
      else socket.destroy();
      return;
    }
    // The handler may still write an event before it sees the end: that write fails quietly.
    res.on('error', () => undefined);
    res.once('close', () => socket.destroySoon());
    res.end();
  }
}
