// Upstream: k8s.io/apiserver/pkg/server/filters (longrunning.go, maxinflight.go, timeout.go) and
// endpoints/filters/request_deadline.go: which requests are long-running, the in-flight limits, request timeouts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StatusError, badRequest } from '@kubelab/api';
import { parseDuration } from '@kubelab/component-base';
import type { RequestInfo } from './endpoints/request-info.js';
import { scopeOf, type Metrics } from './metrics.js';

// kube-apiserver's BasicLongRunningRequestCheck: watch and proxy verbs, the streaming subresources.
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);
const NON_MUTATING_VERBS = new Set(['get', 'list', 'watch']);

/** Long-running requests are exempt from the in-flight limits and the request timeout. */
export function isLongRunning(ri: RequestInfo): boolean {
  if (LONG_RUNNING_VERBS.has(ri.verb)) return true;
  if (ri.isResourceRequest) return LONG_RUNNING_SUBRESOURCES.has(ri.subresource);
  return ri.path.startsWith('/debug/pprof/');
}

/** The 504 of a request that outlived its deadline (upstream's NewTimeoutError from the timeout filter). */
export function requestTimedOut(): StatusError {
  return new StatusError({ code: 504, reason: 'Timeout', message: 'Timeout: request did not complete within the allotted timeout', details: {} });
}

type RequestKind = 'readOnly' | 'mutating';

export interface RequestLimitsOptions {
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  requestTimeoutMs: number;
  metrics: Metrics;
}

/** Deadlines and in-flight limits for non-long-running requests, applied from the onRequest hook. */
export class RequestLimits {
  private readonly limit: Record<RequestKind, number>;
  private readonly inflight: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };
  // The most requests in flight since the last publication (upstream's watermark, published every second).
  private readonly watermark: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };
  private readonly publisher: NodeJS.Timeout;

  constructor(private readonly opts: RequestLimitsOptions) {
    this.limit = { readOnly: opts.maxRequestsInflight, mutating: opts.maxMutatingRequestsInflight };
    this.publisher = setInterval(() => this.publish(), 1000);
    this.publisher.unref();
  }

  /** Requests of a kind in flight now (tests, /metrics). */
  current(kind: RequestKind): number {
    return this.inflight[kind];
  }

  stop(): void {
    clearInterval(this.publisher);
  }

  /**
   * Arms the deadline of a non-long-running request: --request-timeout, or the shorter `?timeout=` the
   * client asked for. A request still unanswered then gets a 504 Status; one whose response has started is cut.
   */
  startDeadline(req: FastifyRequest, reply: FastifyReply): void {
    const ri = req.kube!;
    if (isLongRunning(ri)) return;
    let ms = this.opts.requestTimeoutMs;
    const asked = ri.query.get('timeout');
    if (asked) {
      let userMs: number;
      try {
        userMs = parseDuration(asked);
      } catch (err) {
        throw badRequest(`invalid timeout specified in the request URL - ${(err as Error).message}`);
      }
      if (userMs > 0 && (ms === 0 || userMs < ms)) ms = userMs;
    }
    if (!ms) return;
    const timer = setTimeout(() => this.timeOut(req, reply), ms);
    reply.raw.once('close', () => clearTimeout(timer));
  }

  private timeOut(req: FastifyRequest, reply: FastifyReply): void {
    if (reply.sent) return;
    this.terminated(req.kube!, 504);
    if (reply.raw.headersSent) {
      // Half a response is on the wire: the only way to tell the client is to cut the connection.
      reply.raw.destroy();
      return;
    }
    req.log.info({ method: req.method, url: req.url }, 'Request timed out');
    // A client still sending its body is not read any further.
    if (!req.raw.complete) reply.header('connection', 'close');
    reply.code(504).header('content-type', 'application/json').send(JSON.stringify(requestTimedOut().status));
    // The handler runs on (upstream's post-timeout activity); whatever it sends later is dropped quietly.
    Object.defineProperty(reply, 'send', { value: () => reply });
  }

  /**
   * Takes an in-flight slot for the request, or answers 429 as upstream's max-in-flight filter does (plain text
   * and Retry-After: 1). Members of system:masters are never refused. Returns false when the request was answered.
   */
  admit(req: FastifyRequest, reply: FastifyReply): boolean {
    const ri = req.kube!;
    if (isLongRunning(ri)) return true;
    const kind: RequestKind = NON_MUTATING_VERBS.has(ri.verb) ? 'readOnly' : 'mutating';
    const limit = this.limit[kind];
    if (!limit) return true;
    if (this.inflight[kind] >= limit) {
      if (req.user?.groups.includes('system:masters')) return true;
      this.terminated(ri, 429);
      reply
        .code(429)
        .header('retry-after', '1')
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send('Too many requests, please try again later.\n');
      return false;
    }
    this.inflight[kind]++;
    this.watermark[kind] = Math.max(this.watermark[kind], this.inflight[kind]);
    reply.raw.once('close', () => this.inflight[kind]--);
    return true;
  }

  private terminated(ri: RequestInfo, code: number): void {
    this.opts.metrics.requestTerminations.inc({
      verb: ri.verb.toUpperCase(),
      group: ri.apiGroup,
      version: ri.apiVersion,
      resource: ri.resource,
      subresource: ri.subresource,
      scope: scopeOf(ri.name, ri.namespace),
      component: 'apiserver',
      code: String(code),
    });
  }

  private publish(): void {
    for (const kind of ['readOnly', 'mutating'] as const) {
      this.opts.metrics.currentInflightRequests.set({ request_kind: kind }, this.watermark[kind]);
      this.watermark[kind] = this.inflight[kind];
    }
  }
}
