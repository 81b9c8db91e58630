// CoreDNS's forward plugin (`forward . /etc/resolv.conf`, policy random, max_concurrent) with the cache
// plugin in front of it (`cache 30`, which kubeadm's Corefile disables for the cluster zone: only
// forwarded answers are cached). Upstream answers are relayed as received, only the message ID changed.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dns2 from 'dns2';
import { realClock, type Clock } from '@kubelab/client';
import { RCode, RRType } from './resolver.js';

const { Packet } = dns2;
type DnsPacket = dns2.Packet;
type Resource = dns2.Packet.Resource;
type Question = dns2.Packet.Question;

/** dns2's header type lacks the AD/CD bits it reads and writes. */
function header(fields: Record<string, number>): dns2.Packet.Header {
  return new Packet.Header(fields as Partial<dns2.Packet.Header>);
}

function question(name: string, type: number, cls: number): Question {
  return new Packet.Question(name, type, cls);
}

export interface Upstream {
  address: string;
  port: number;
}

/**
 * The nameservers of a resolv.conf (at most 15, as CoreDNS's forward). As an extension for tests and
 * local labs a nameserver may carry a port: `127.0.0.1:5353` or `[::1]:5353`.
 */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)$/.exec(line);
    if (!m) continue;
    const v = m[1]!;
    const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
    const hostPort = /^([^:]+):(\d+)$/.exec(v);
    const [address, port] = bracketed ? [bracketed[1]!, Number(bracketed[2])] : hostPort ? [hostPort[1]!, Number(hostPort[2])] : [v.split('%')[0]!, 53];
    if (!net.isIP(address) || !(port > 0 && port < 65536)) continue;
    out.push({ address, port });
  }
  return out.slice(0, 15);
}

/**
 * Is `up` this very server (listening on bindAddress:port, with localIPs)? A resolv.conf naming the DNS
 * server itself would make every forward a loop (what CoreDNS's loop plugin detects): such upstreams are dropped.
 */
export function isSelfUpstream(up: Upstream, bindAddress: string, port: number, localIPs: readonly string[]): boolean {
  if (up.port !== port) return false;
  if (up.address === bindAddress) return true;
  const any = bindAddress === '0.0.0.0' || bindAddress === '::';
  const loopback = up.address.startsWith('127.') || up.address === '::1';
  return any && (loopback || localIPs.includes(up.address));
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Per-upstream attempt timeout and overall deadline, in ms. */
  timeoutMs: number;
  deadlineMs: number;
  maxConcurrent: number;
  /** Longest time (seconds) an answer is cached; 0 disables the cache. */
  cacheTTL: number;
  /** Entries kept at most (CoreDNS's default capacity is 9984 per kind). */
  cacheCapacity?: number;
  clock?: Clock;
  random?: (n: number) => number;
  /** Cache hits by kind ("success" or "denial") and misses, for the metrics. */
  onCache?: (event: 'success' | 'denial' | 'miss') => void;
}

/** A forwarded answer: the wire message for the client and how it was produced. */
export interface Forwarded {
  message: Buffer;
  rcode: number;
  /** "cache" when served from the cache, "forward" from an upstream, "" when nothing answered. */
  plugin: 'cache' | 'forward' | '';
}

interface CacheEntry {
  packet: DnsPacket;
  expiresAt: number;
  kind: 'success' | 'denial';
}

export class Forwarder {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly clock: Clock;
  private readonly random: (n: number) => number;
  private inflight = 0;

  constructor(private readonly opts: ForwarderOptions) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? ((n) => randomInt(n));
  }

  get upstreams(): readonly Upstream[] {
    return this.opts.upstreams;
  }

  cacheSize(kind: 'success' | 'denial'): number {
    let n = 0;
    for (const e of this.cache.values()) if (e.kind === kind) n++;
    return n;
  }

  /** Answers `request` (one question) from the cache or an upstream; SERVFAIL when no upstream answers in time. */
  async forward(request: DnsPacket, proto: 'udp' | 'tcp'): Promise<Forwarded> {
    const q = request.questions[0]!;
    const opt = request.additionals.find((r) => r.type === RRType.OPT) as (Resource & { doFlag?: boolean }) | undefined;
    const doBit = !!opt?.doFlag;
    const key = `${q.name.toLowerCase().replace(/\.$/, '')}|${q.type}|${q.class}|${doBit ? 1 : 0}`;
    const hit = this.fromCache(key, request);
    if (hit) return hit;
    if (this.opts.cacheTTL > 0) this.opts.onCache?.('miss');
    if (this.inflight >= this.opts.maxConcurrent) return { message: errorReply(request, RCode.REFUSED), rcode: RCode.REFUSED, plugin: 'forward' };
    this.inflight++;
    try {
      const query = new Packet();
      query.header = header({ id: this.random(0x10000), rd: request.header.rd, cd: (request.header as { cd?: number }).cd ?? 0, opcode: 0 });
      query.questions = [question(q.name, q.type, q.class)];
      if (opt) query.additionals = [opt];
      const reply = await this.exchange(query, proto);
      if (!reply) return { message: errorReply(request, RCode.SERVFAIL), rcode: RCode.SERVFAIL, plugin: '' };
      // A cached answer goes out as the cache will serve it, its TTLs capped (CoreDNS: no jarring 1799 -> 8).
      if (this.store(key, reply.packet)) return { ...this.fromCache(key, request, false)!, plugin: 'forward' };
      // Otherwise the upstream's bytes as they came, with the client's message ID.
      const message = Buffer.from(reply.buffer);
      message.writeUInt16BE(request.header.id, 0);
      return { message, rcode: reply.packet.header.rcode, plugin: 'forward' };
    } finally {
      this.inflight--;
    }
  }

  /** The upstream answer for a name (an ExternalName's CNAME target), or undefined. */
  async lookup(name: string, type: number, proto: 'udp' | 'tcp'): Promise<DnsPacket | undefined> {
    const request = new Packet();
    request.header = header({ id: this.random(0x10000), rd: 1 });
    request.questions = [question(name, type, 1)];
    const f = await this.forward(request, proto);
    if (f.rcode !== RCode.NOERROR) return undefined;
    try {
      return Packet.parse(f.message);
    } catch {
      return undefined;
    }
  }

  /** Tries the upstreams in random order until one answers or the deadline passes. */
  private async exchange(query: DnsPacket, proto: 'udp' | 'tcp'): Promise<{ buffer: Buffer; packet: DnsPacket } | undefined> {
    const order = [...this.opts.upstreams];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.random(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const deadline = this.clock.now() + this.opts.deadlineMs;
    const wire = query.toBuffer();
    for (const up of order) {
      const left = deadline - this.clock.now();
      if (left <= 0) break;
      const timeout = Math.min(this.opts.timeoutMs, left);
      try {
        let buffer = proto === 'tcp' ? await tcpExchange(up, wire, timeout) : await udpExchange(up, wire, timeout);
        let packet = checkReply(buffer, query);
        // A truncated answer to a TCP client is asked again over TCP (CoreDNS uses the client's protocol).
        if (packet.header.tc && proto === 'tcp') {
          buffer = await tcpExchange(up, wire, timeout);
          packet = checkReply(buffer, query);
        }
        if (packet.header.rcode === RCode.SERVFAIL || packet.header.rcode === RCode.REFUSED) continue;
        return { buffer, packet };
      } catch {
        // timed out, refused or malformed: the next upstream
      }
    }
    return undefined;
  }

  private fromCache(key: string, request: DnsPacket, hit = true): Forwarded | undefined {
    if (this.opts.cacheTTL <= 0) return undefined;
    const e = this.cache.get(key);
    if (!e) return undefined;
    const now = this.clock.now();
    if (now >= e.expiresAt) {
      this.cache.delete(key);
      return undefined;
    }
    if (hit) this.opts.onCache?.(e.kind);
    // Every record carries the entry's remaining TTL, as CoreDNS's cache serves them.
    const left = Math.max(0, Math.ceil((e.expiresAt - now) / 1000));
    const age = (rrs: Resource[]): Resource[] => rrs.map((r) => (r.type === RRType.OPT ? r : { ...r, ttl: Math.min(r.ttl, left) }));
    const p = new Packet();
    p.header = new Packet.Header({ ...e.packet.header, id: request.header.id, rd: request.header.rd, tc: 0 });
    p.questions = request.questions;
    p.answers = age(e.packet.answers);
    p.authorities = age(e.packet.authorities);
    p.additionals = age(e.packet.additionals);
    return { message: p.toBuffer(), rcode: e.packet.header.rcode, plugin: 'cache' };
  }

  /** Caches NOERROR answers for their smallest TTL and denials (NXDOMAIN, NODATA) for their SOA's, both capped by cacheTTL. */
  private store(key: string, packet: DnsPacket): boolean {
    if (this.opts.cacheTTL <= 0 || packet.header.tc) return false;
    const rcode = packet.header.rcode;
    let ttl: number;
    let kind: 'success' | 'denial';
    if (rcode === RCode.NOERROR && packet.answers.length) {
      kind = 'success';
      ttl = Math.min(...packet.answers.map((r: { ttl: number }) => r.ttl));
    } else if (rcode === RCode.NXDOMAIN || (rcode === RCode.NOERROR && !packet.answers.length)) {
      kind = 'denial';
      const soa = packet.authorities.find((r: { type: number }) => r.type === RRType.SOA);
      if (!soa) return false;
      ttl = Math.min(soa.ttl, soa.minimum ?? soa.ttl);
    } else return false;
    ttl = Math.min(ttl, this.opts.cacheTTL);
    if (!(ttl > 0)) return false;
    const capacity = this.opts.cacheCapacity ?? 9984;
    if (!this.cache.has(key) && this.cache.size >= capacity) this.cache.delete(this.cache.keys().next().value!);
    const now = this.clock.now();
    this.cache.set(key, { packet, expiresAt: now + ttl * 1000, kind });
    return true;
  }
}

/** A reply to `request` carrying only `rcode` and the question. */
export function errorReply(request: DnsPacket, rcode: number): Buffer {
  const p = new Packet();
  p.header = new Packet.Header({ id: request.header.id, qr: 1, opcode: request.header.opcode, rd: request.header.rd, ra: 1, rcode });
  p.questions = request.questions;
  return p.toBuffer();
}

/** Parses an upstream reply and checks it answers `query` (ID and question), as a resolver must (RFC 5452). */
function checkReply(buffer: Buffer, query: DnsPacket): DnsPacket {
  const packet = Packet.parse(buffer);
  const q = query.questions[0];
  const a = packet.questions[0];
  if (packet.header.id !== query.header.id || !packet.header.qr) throw new Error('reply does not match the query');
  if (a && (a.type !== q.type || String(a.name).toLowerCase() !== String(q.name).toLowerCase())) throw new Error('reply is for another question');
  return packet;
}

function udpExchange(up: Upstream, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(up.address) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    let finished = false;
    const done = (err: Error | undefined, msg?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    socket.on('error', (err) => done(err));
    socket.on('message', (msg) => done(undefined, msg));
    // A connected socket only receives datagrams from the upstream it asked.
    socket.connect(up.port, up.address, () => socket.send(wire, (err) => err && done(err)));
  });
}

function tcpExchange(up: Upstream, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: up.address, port: up.port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    const done = (err: Error | undefined, msg?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error('connection closed before a reply')));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(wire.length);
    socket.write(Buffer.concat([len, wire]));
  });
}
