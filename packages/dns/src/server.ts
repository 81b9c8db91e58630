// CoreDNS's server as kubeadm configures it (core/dnsserver + the health, ready, prometheus plugins):
// a UDP socket and dns2's TCP listener feed each question to resolve() over informer-backed listers;
// names outside the cluster go to the forwarder. This file only wires; the answers are in resolver.ts,
// the fast wire encoding and decoding in wire.ts (dns2 handles whatever those decline).
import dgram from 'node:dgram';
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
import { decodeQuery, encodeMessage } from './wire.js';

const { Packet, TCPServer } = dns2;
type DnsPacket = dns2.Packet;
type Proto = 'udp' | 'tcp';

/** CoreDNS's kubernetes plugin waits this long for its caches before serving anyway (answering SERVFAIL for names it cannot rule out). */
const SYNC_WAIT_MS = 5_000;
/** The EDNS0 UDP payload size we advertise (CoreDNS's default for its own replies). */
const EDNS_UDP_SIZE = 1232;
/** UDP replies without EDNS0 are capped at 512 bytes (RFC 1035 4.2.1). */
const UDP_LIMIT = 512;
/**
 * Encoded UDP replies kept for reuse, keyed by the request's bytes after its message ID. They are
 * valid while the cluster view's generation holds (any add, update or delete drops them all), so
 * unlike CoreDNS's `cache` plugin they are never stale; forwarded answers are not kept here.
 */
const UDP_REPLY_CACHE_SIZE = 20_000;

type Reply = { message: DnsPacket | Buffer; rcode: number; plugin: string; /** The same request bytes get the same reply while the view is unchanged. */ cacheable?: boolean };

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
  let udp: dgram.Socket | undefined;
  const udpReplies = new Map<string, { wire: Buffer; type: number; rcode: number; plugin: string }>();
  let udpRepliesGeneration = -1;
  let tcp: InstanceType<typeof TCPServer> | undefined;
  const tcpSockets = new Set<net.Socket>();
  const httpServers: http.Server[] = [];
  const bound = { dns: 0, health: 0, ready: 0, metrics: 0 };
  let stopped = false;

  /** The reply to one request, or undefined to stay silent (a response sent to us). */
  const answer = async (request: DnsPacket, proto: Proto): Promise<Reply | undefined> => {
    if (request.header.qr) return undefined;
    if (request.header.opcode !== 0) return { message: errorReply(request, RCode.NOTIMP), rcode: RCode.NOTIMP, plugin: '', cacheable: true };
    if (request.questions.length !== 1) return { message: errorReply(request, RCode.FORMERR), rcode: RCode.FORMERR, plugin: '', cacheable: true };
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
      return { message: reply, rcode: 16, plugin: '', cacheable: true };
    }
    const q = request.questions[0]!;
    const result = resolve(q, view!, resolverOptions);
    if (result.action === 'forward') {
      // No upstream (an offline lab's empty resolv.conf): names outside the served zones do not exist, answered at
      // once as an upstream would answer a name it does not know (NXDOMAIN, so stub resolvers go on down their search
      // list: `nslookup kubernetes.default` first asks for the bare name), rather than left to time out.
      if (!forwarder) return { message: errorReply(request, RCode.NXDOMAIN), rcode: RCode.NXDOMAIN, plugin: '' };
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
    // Before the caches sync, answers are SERVFAIL where a name cannot be ruled out: not kept.
    return { message: reply, rcode: result.rcode, plugin: 'kubernetes', cacheable: !result.chase && view!.hasSynced() };
  };

  /** Answers one request and records its metrics; a failure is a SERVFAIL, never a crash. */
  const handle = async (request: DnsPacket, send: (m: DnsPacket | Buffer, reply: Reply) => unknown, proto: Proto, family: 1 | 2, started = performance.now()): Promise<void> => {
    let out: Reply | undefined;
    try {
      out = await answer(request, proto);
    } catch (err) {
      logger.error({ err, question: request.questions[0] }, 'Failed to answer a query');
      out = { message: errorReply(request, RCode.SERVFAIL), rcode: RCode.SERVFAIL, plugin: '' };
    }
    if (!out) return;
    metrics.observe({ type: request.questions[0]?.type ?? 0, proto, family, rcode: out.rcode, plugin: out.plugin, seconds: (performance.now() - started) / 1000 });
    // dns2's TCP send returns nothing.
    await Promise.resolve()
      .then(() => send(out.message, out))
      .catch((err) => logger.debug({ err }, 'Failed to send a reply'));
  };

  const sendUdp = (wire: Buffer, rinfo: dgram.RemoteInfo) =>
    udp!.send(wire, rinfo.port, rinfo.address, (err) => err && logger.debug({ err }, 'Failed to send a reply'));

  /**
   * One UDP message: a request seen before under the current view generation is answered from its
   * encoded reply (its message ID patched in); any other is parsed and answered, and its reply kept
   * when it depends on nothing but the request bytes and the view.
   */
  const onUdpMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const started = performance.now();
    const family = rinfo.family === 'IPv6' ? 2 : 1;
    if (msg.length < 12) return logger.debug({ bytes: msg.length }, 'Dropped a malformed UDP message');
    const generation = view!.generation();
    if (generation !== udpRepliesGeneration) {
      udpReplies.clear();
      udpRepliesGeneration = generation;
    }
    const key = msg.toString('latin1', 2);
    const hit = udpReplies.get(key);
    if (hit) {
      const wire = Buffer.allocUnsafe(hit.wire.length);
      hit.wire.copy(wire);
      wire[0] = msg[0]!;
      wire[1] = msg[1]!;
      metrics.observe({ type: hit.type, proto: 'udp', family, rcode: hit.rcode, plugin: hit.plugin, seconds: (performance.now() - started) / 1000 });
      sendUdp(wire, rinfo);
      return;
    }
    let request: DnsPacket;
    try {
      request = (decodeQuery(msg) as unknown as DnsPacket | undefined) ?? Packet.parse(msg);
    } catch (err) {
      return logger.debug({ err }, 'Dropped a malformed UDP message');
    }
    const send = (message: DnsPacket | Buffer, reply: Reply) => {
      const wire = udpWire(message, udpPayloadLimit(request));
      if (reply.cacheable && view!.generation() === generation) {
        if (udpReplies.size >= UDP_REPLY_CACHE_SIZE) udpReplies.delete(udpReplies.keys().next().value!);
        udpReplies.set(key, { wire, type: request.questions[0]?.type ?? 0, rcode: reply.rcode, plugin: reply.plugin });
      }
      sendUdp(wire, rinfo);
    };
    void handle(request, send, 'udp', family, started);
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
      if (!upstreams.length) logger.warn({ resolvConf: config.resolvConf }, 'No nameservers to forward to: names outside the cluster zones do not exist (NXDOMAIN)');
      const self = upstreams.filter((u) => isSelfUpstream(u, config.dnsBindAddress, config.dnsPort, localIPs));
      if (self.length) logger.warn({ upstreams: self }, 'Ignoring upstream servers that are this server (a forwarding loop)');
      upstreams = upstreams.filter((u) => !self.includes(u));
      forwarder = upstreams.length === 0 ? undefined : new Forwarder({
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
      udp = dgram.createSocket({ type: family });
      udp.on('message', onUdpMessage);
      udp.on('error', (err) => logger.error({ err }, 'UDP listener failed'));
      tcp = new TCPServer();
      tcp.on('request', (req, send, socket) => void handle(req, (m) => send(toWire(m)), 'tcp', (socket as net.Socket).remoteFamily === 'IPv6' ? 2 : 1));
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

/** The UDP payload size a request allows: its EDNS0 OPT record's (RFC 6891 6.2.3; below 512 counts as 512), else 512. */
function udpPayloadLimit(request: DnsPacket): number {
  const opt = request.additionals.find((r) => r.type === RRType.OPT);
  return opt ? Math.max(opt.class || 0, UDP_LIMIT) : UDP_LIMIT;
}

/**
 * A reply's UDP bytes within `maxBytes`, as dns2's UDP server sends them: a reply too large goes out
 * with TC set and only the header and question (RFC 1035 4.2.1, RFC 2181 9), for the client to ask
 * again over TCP; an upstream's bytes too large are cut with TC set.
 */
function udpWire(message: DnsPacket | Buffer, maxBytes: number): Buffer {
  if (Buffer.isBuffer(message)) {
    if (message.length <= maxBytes) return message;
    const out = Buffer.from(message.subarray(0, maxBytes));
    out[2]! |= 0x02;
    return out;
  }
  const wire = toWire(message);
  if (wire.length <= maxBytes) return wire;
  const truncated = new Packet();
  truncated.header = new Packet.Header({ ...message.header, tc: 1 });
  truncated.questions = message.questions.slice();
  const short = toWire(truncated);
  return short.length > maxBytes ? short.subarray(0, maxBytes) : short;
}

/** A message's bytes: our encoder's for what it knows, else dns2's. */
function toWire(message: DnsPacket | Buffer): Buffer {
  if (Buffer.isBuffer(message)) return message;
  return encodeMessage(message as unknown as Parameters<typeof encodeMessage>[0]) ?? message.toBuffer();
}

/** A resolver record as dns2 encodes it. */
function toResource(r: ResourceRecord): dns2.Packet.Resource {
  return { ...r, class: r.class ?? CLASS_IN } as dns2.Packet.Resource;
}
