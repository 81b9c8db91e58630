// CoreDNS's server as kubeadm configures it (core/dnsserver + the health, ready, prometheus plugins):
// dns2 UDP and TCP listeners feed each question to resolve() over informer-backed listers; names
// outside the cluster go to the forwarder. This file only wires; the answers are in resolver.ts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import dns2 from 'dns2';
import { inClusterConfig, loadKubeconfig, realClock, RestClient, SharedInformerFactory, type Clock } from '@kubelab/client';
import { createLogger, type Logger } from '@kubelab/component-base';
import type { DNSConfig } from './config.js';
import { errorReply, Forwarder, isSelfUpstream, parseResolvConf } from './forward.js';
import { DNSMetrics } from './metrics.js';
import { CLASS_IN, RCode, resolve, RRType, type ResourceRecord, type ResolverOptions } from './resolver.js';
import { informerClusterView, type InformerClusterView } from './view.js';

const { Packet, UDPServer, TCPServer } = dns2;
type DnsPacket = dns2.Packet;
type Proto = 'udp' | 'tcp';

/** CoreDNS's kubernetes plugin waits this long for its caches before serving anyway (answering SERVFAIL for names it cannot rule out). */
const SYNC_WAIT_MS = 5_000;
/** The EDNS0 UDP payload size we advertise (CoreDNS's default for its own replies). */
const EDNS_UDP_SIZE = 1232;

export interface DNSServerOptions {
  /** Defaults to a client from --kubeconfig, else the pod's service account. */
  client?: RestClient;
  logger?: Logger;
  clock?: Clock;
  /** This server's addresses for NS answers; defaults to the host's non-internal interface addresses. */
  localIPs?: string[];
}

export interface DNSServer {
  readonly config: Readonly<DNSConfig>;
  /** Binds the listeners once the caches have synced (or after 5 s), like CoreDNS. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound ports (after start). */
  ports(): { dns: number; health: number; ready: number; metrics: number };
  /** True once the informers hold their initial lists (the /ready answer). */
  ready(): boolean;
  readonly metrics: DNSMetrics;
}

function hostIPs(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && !i.internal)
    .map((i) => i!.address);
}

export function createDNSServer(config: Readonly<DNSConfig>, opts: DNSServerOptions = {}): DNSServer {
  const logger = opts.logger ?? createLogger('coredns');
  const clock = opts.clock ?? realClock;
  const localIPs = opts.localIPs ?? hostIPs();
  const serverLabel = `dns://${config.dnsBindAddress === '0.0.0.0' ? '' : config.dnsBindAddress}:${config.dnsPort}`;
  let forwarder: Forwarder | undefined;
  const metrics = new DNSMetrics(serverLabel, (kind) => forwarder?.cacheSize(kind) ?? 0);
  const resolverOptions: ResolverOptions = { zone: config.clusterDomain, ttl: config.ttl, podMode: config.podMode, localIPs };

  let client: RestClient | undefined;
  let informers: SharedInformerFactory | undefined;
  let view: InformerClusterView | undefined;
  let udp: InstanceType<typeof UDPServer> | undefined;
  let tcp: InstanceType<typeof TCPServer> | undefined;
  const tcpSockets = new Set<net.Socket>();
  const httpServers: http.Server[] = [];
  const bound = { dns: 0, health: 0, ready: 0, metrics: 0 };
  let stopped = false;

  /** The reply to one request, or undefined to stay silent (a response sent to us). */
  const answer = async (request: DnsPacket, proto: Proto): Promise<{ message: DnsPacket | Buffer; rcode: number; plugin: string } | undefined> => {
    if (request.header.qr) return undefined;
    if (request.header.opcode !== 0) return { message: errorReply(request, RCode.NOTIMP), rcode: RCode.NOTIMP, plugin: '' };
    if (request.questions.length !== 1) return { message: errorReply(request, RCode.FORMERR), rcode: RCode.FORMERR, plugin: '' };
    const opt = request.additionals.find((r) => r.type === RRType.OPT) as (dns2.Packet.Resource & { version?: number; doFlag?: boolean }) | undefined;
    const reply = new Packet();
    reply.header = new Packet.Header({ id: request.header.id, qr: 1, opcode: 0, rd: request.header.rd });
    reply.questions = request.questions;
    // EDNS0 (RFC 6891): echo an OPT record with our payload size; only version 0 is known.
    if (opt) {
      const echo = Packet.Resource.EDNS([]) as dns2.Packet.Resource;
      echo.class = EDNS_UDP_SIZE;
      reply.additionals.push(echo);
    }
    if (opt && (opt.version ?? 0) > 0) {
      reply.header.rcode = 16; // BADVERS
      return { message: reply, rcode: 16, plugin: '' };
    }
    const q = request.questions[0]!;
    const result = resolve(q, view!, resolverOptions);
    if (result.action === 'forward') {
      if (!forwarder) return { message: errorReply(request, RCode.SERVFAIL), rcode: RCode.SERVFAIL, plugin: 'forward' };
      return forwarder.forward(request, proto);
    }
    reply.header.aa = result.authoritative ? 1 : 0;
    reply.header.rcode = result.rcode;
    reply.answers = result.answers.map(toResource);
    reply.authorities = result.authority.map(toResource);
    reply.additionals = [...result.additional.map(toResource), ...reply.additionals];
    if (result.chase && forwarder) {
      // An ExternalName pointing outside the cluster: append the upstream's answer for the CNAME target.
      const upstream = await forwarder.lookup(result.chase.name, result.chase.type, proto);
      if (upstream) reply.answers.push(...upstream.answers);
    }
    return { message: reply, rcode: result.rcode, plugin: 'kubernetes' };
  };

  /** Answers one request and records its metrics; a failure is a SERVFAIL, never a crash. */
  const handle = async (request: DnsPacket, send: (m: DnsPacket | Buffer) => Promise<Buffer>, proto: Proto, family: 1 | 2): Promise<void> => {
    const started = performance.now();
    let out: Awaited<ReturnType<typeof answer>>;
    try {
      out = await answer(request, proto);
    } catch (err) {
      logger.error({ err, question: request.questions[0] }, 'Failed to answer a query');
      out = { message: errorReply(request, RCode.SERVFAIL), rcode: RCode.SERVFAIL, plugin: '' };
    }
    if (!out) return;
    metrics.observe({ type: request.questions[0]?.type ?? 0, proto, family, rcode: out.rcode, plugin: out.plugin, seconds: (performance.now() - started) / 1000 });
    // dns2's TCP send returns nothing, its UDP send a promise.
    await Promise.resolve()
      .then(() => send(out.message))
      .catch((err) => logger.debug({ err }, 'Failed to send a reply'));
  };

  const listenHTTP = (port: number, handler: http.RequestListener): Promise<number> =>
    new Promise((resolveListen, reject) => {
      const server = http.createServer(handler);
      server.once('error', reject);
      server.listen(port, config.dnsBindAddress, () => {
        httpServers.push(server);
        resolveListen((server.address() as AddressInfo).port);
      });
    });

  const text = (res: http.ServerResponse, code: number, body: string) => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };

  const isReady = () => !!view?.hasSynced() && bound.dns > 0 && !stopped;

  return {
    config,
    metrics,
    ports: () => ({ ...bound }),
    ready: isReady,
    async start() {
      let upstreams = parseResolvConf(readFileSync(config.resolvConf, 'utf8'));
      if (!upstreams.length) throw new Error(`no nameservers found in ${config.resolvConf}`);
      const self = upstreams.filter((u) => isSelfUpstream(u, config.dnsBindAddress, config.dnsPort, localIPs));
      if (self.length) logger.warn({ upstreams: self }, 'Ignoring upstream servers that are this server (a forwarding loop)');
      upstreams = upstreams.filter((u) => !self.includes(u));
      forwarder = new Forwarder({
        upstreams,
        timeoutMs: config.forwardTimeoutMs,
        deadlineMs: config.forwardDeadlineMs,
        maxConcurrent: config.forwardMaxConcurrent,
        cacheTTL: config.cacheTTL,
        clock,
        onCache: (e) => metrics.cache(e),
      });

      client =
        opts.client ??
        new RestClient({ ...(config.kubeconfig ? loadKubeconfig(config.kubeconfig) : inClusterConfig()), userAgent: 'coredns' });
      informers = new SharedInformerFactory(client, { logger, clock });
      view = informerClusterView(informers, { watchPods: config.podMode === 'verified', clock });

      // health: the process is alive as soon as it runs (CoreDNS's /health answers "OK").
      bound.health = await listenHTTP(config.healthPort, (req, res) => (req.url === '/health' ? text(res, 200, 'OK') : text(res, 404, '404 page not found\n')));
      informers.start();
      const timeout = AbortSignal.timeout(SYNC_WAIT_MS);
      if (!(await informers.waitForCacheSync(timeout))) logger.warn({ waitedMs: SYNC_WAIT_MS }, 'Starting server with unsynced Kubernetes API');

      const family = net.isIPv6(config.dnsBindAddress) ? 'udp6' : 'udp4';
      udp = new UDPServer({ type: family });
      udp.on('request', (req, send, rinfo) => void handle(req, send, 'udp', (rinfo as { family?: string }).family === 'IPv6' ? 2 : 1));
      udp.on('requestError', (err) => logger.debug({ err }, 'Dropped a malformed UDP message'));
      udp.on('error', (err) => logger.error({ err }, 'UDP listener failed'));
      tcp = new TCPServer();
      tcp.on('request', (req, send, socket) => void handle(req, send, 'tcp', (socket as net.Socket).remoteFamily === 'IPv6' ? 2 : 1));
      tcp.on('requestError', (err) => logger.debug({ err }, 'Dropped a malformed TCP message'));
      tcp.on('connection', (s: net.Socket) => {
        tcpSockets.add(s);
        s.on('close', () => tcpSockets.delete(s));
      });
      await new Promise<void>((res, rej) => {
        tcp!.once('error', rej);
        tcp!.listen({ port: config.dnsPort, host: config.dnsBindAddress }, () => res());
      });
      await new Promise<void>((res, rej) => {
        udp!.once('error', rej);
        udp!.bind(config.dnsPort, config.dnsBindAddress, () => res());
      });
      bound.dns = config.dnsPort;

      // ready: 200 once the kubernetes plugin's caches have synced; else 503 naming the plugin not ready.
      bound.ready = await listenHTTP(config.readyPort, (req, res) => {
        if (req.url !== '/ready') return text(res, 404, '404 page not found\n');
        return isReady() ? text(res, 200, 'OK') : text(res, 503, 'kubernetes');
      });
      bound.metrics = await listenHTTP(config.metricsPort, (req, res) => {
        if (req.url !== '/metrics') return text(res, 404, '404 page not found\n');
        void metrics.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
            res.end(body);
          },
          () => text(res, 500, 'metrics failed\n'),
        );
      });
      logger.info(
        { server: serverLabel, zone: config.clusterDomain, upstreams: upstreams.map((u) => `${u.address}:${u.port}`), ports: bound },
        'CoreDNS-compatible cluster DNS serving',
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((res) => (udp ? udp.close(() => res()) : res()));
      for (const s of tcpSockets) s.destroy();
      await new Promise<void>((res) => (tcp ? tcp.close(() => res()) : res()));
      await Promise.all(
        httpServers.map(
          (s) =>
            new Promise<void>((res) => {
              s.closeAllConnections();
              s.close(() => res());
            }),
        ),
      );
      await informers?.shutdown();
      if (!opts.client) client?.close();
    },
  };
}

/** A resolver record as dns2 encodes it. */
function toResource(r: ResourceRecord): dns2.Packet.Resource {
  return { ...r, class: r.class ?? CLASS_IN } as dns2.Packet.Resource;
}
