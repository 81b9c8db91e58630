// The DNS message encoder of the answering path (RFC 1035 4.1, with name compression as 4.1.4), for
// the record types the resolver produces. dns2 encodes through a bit-at-a-time writer, which was most
// of the time spent per uncached query; dns2 stays the parser and encodes what this file declines
// (encodeMessage returns undefined for any record type or field it does not know).
import { isIPv4 } from 'node:net';
import { RRType } from './resolver.js';

/** The parts of a dns2 Packet read here. */
export interface WireMessage {
  header: { id?: number; qr?: number; opcode?: number; aa?: number; tc?: number; rd?: number; ra?: number; ad?: number; cd?: number; rcode?: number };
  questions: ReadonlyArray<{ name: string; type: number; class: number }>;
  answers: ReadonlyArray<WireRecord>;
  authorities: ReadonlyArray<WireRecord>;
  additionals: ReadonlyArray<WireRecord>;
}

type WireRecord = { name?: string; type: number; class?: number; ttl?: number } & Record<string, unknown>;

/** Upper bound of a message (TCP's 16-bit length); past it the caller falls back. */
const MAX_MESSAGE = 65535;
/** Compression pointers address the first 16 KiB (14 bits). */
const MAX_POINTER = 0x3fff;

class Writer {
  buf = Buffer.allocUnsafe(512);
  len = 0;
  /** Lower-case name suffix -> offset, for compression. */
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > MAX_MESSAGE) throw new RangeError('message too large');
    const next = Buffer.allocUnsafe(Math.min(MAX_MESSAGE, Math.max(this.buf.length * 2, this.len + n)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  /** A domain name; `compress` points at an earlier copy of any suffix (RFC 1035 4.1.4; not for SRV targets, RFC 2782). */
  name(domain: string, compress: boolean): void {
    const labels = domain ? domain.split('.').filter((l) => l.length > 0) : [];
    let total = 1;
    for (const l of labels) {
      if (l.length > 63) throw new RangeError(`label too long in ${domain}`);
      total += l.length + 1;
    }
    if (total > 255) throw new RangeError(`name too long: ${domain}`);
    for (let i = 0; i < labels.length; i++) {
      const suffix = (i === 0 ? labels : labels.slice(i)).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.len <= MAX_POINTER && !this.names.has(suffix)) this.names.set(suffix, this.len);
      const label = labels[i]!;
      this.room(label.length + 1);
      this.buf[this.len++] = label.length;
      this.len += this.buf.write(label, this.len, 'latin1');
    }
    this.u8(0);
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function ipv4(w: Writer, address: string): void {
  const o = address.split('.');
  for (let i = 0; i < 4; i++) w.u8(Number(o[i]));
}

/** Hex-group IPv6 text (as the resolver and dns2 produce it) to its 16 bytes; false for other forms. */
function ipv6(w: Writer, address: string): boolean {
  if (address.includes('.')) return false;
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  if (zeros < 0 || h.length + t.length + zeros !== 8) return false;
  for (const g of h) w.u16(parseInt(g, 16));
  for (let i = 0; i < zeros; i++) w.u16(0);
  for (const g of t) w.u16(parseInt(g, 16));
  return true;
}

/** One resource record, or false if its type or shape is not one this encoder knows. */
function record(w: Writer, r: WireRecord): boolean {
  const s = (k: string) => r[k] as string;
  const n = (k: string) => r[k] as number;
  if (r.type === RRType.OPT) {
    // An OPT without options (what the server echoes); its TTL carries the EDNS version and flags.
    if (Array.isArray(r.rdata) && r.rdata.length) return false;
    w.name('', false);
    w.u16(RRType.OPT);
    w.u16(r.class ?? 512);
    w.u32(r.ttl ?? 0);
    w.u16(0);
    return true;
  }
  w.name(r.name ?? '', true);
  w.u16(r.type);
  w.u16(r.class ?? 1);
  w.u32(Math.min((r.ttl ?? 0) >>> 0, 0x7fffffff));
  const lengthAt = w.len;
  w.u16(0);
  switch (r.type) {
    case RRType.A:
      if (!isIPv4(s('address'))) return false;
      ipv4(w, s('address'));
      break;
    case RRType.AAAA:
      if (typeof r.address !== 'string' || !ipv6(w, s('address'))) return false;
      break;
    case RRType.CNAME:
    case RRType.PTR:
      if (typeof r.domain !== 'string') return false;
      w.name(s('domain'), true);
      break;
    case RRType.NS:
      if (typeof r.ns !== 'string') return false;
      w.name(s('ns'), true);
      break;
    case RRType.SRV:
      if (typeof r.target !== 'string') return false;
      w.u16(n('priority'));
      w.u16(n('weight'));
      w.u16(n('port'));
      w.name(s('target'), false);
      break;
    case RRType.SOA:
      if (typeof r.primary !== 'string' || typeof r.admin !== 'string') return false;
      w.name(s('primary'), true);
      w.name(s('admin'), true);
      w.u32(n('serial'));
      w.u32(n('refresh'));
      w.u32(n('retry'));
      w.u32(n('expiration'));
      w.u32(Math.min(n('minimum') >>> 0, 0x7fffffff));
      break;
    case RRType.TXT: {
      const strings = Array.isArray(r.data) ? (r.data as unknown[]) : [r.data];
      for (const text of strings) {
        if (typeof text !== 'string') return false;
        const bytes = Buffer.from(text, 'utf8');
        if (bytes.length > 255) return false;
        w.u8(bytes.length);
        for (const b of bytes) w.u8(b);
      }
      break;
    }
    default:
      return false;
  }
  w.buf.writeUInt16BE(w.len - lengthAt - 2, lengthAt);
  return true;
}

/**
 * The wire form of a message, or undefined when it holds something this encoder does not handle
 * (then dns2's toBuffer encodes it): an unknown record type, an OPT with options, an extended RCODE.
 */
export function encodeMessage(m: WireMessage): Buffer | undefined {
  const h = m.header;
  if ((h.rcode ?? 0) > 0xf) return undefined;
  const w = new Writer();
  try {
    w.u16(h.id ?? 0);
    w.u8(((h.qr ?? 0) << 7) | (((h.opcode ?? 0) & 0xf) << 3) | ((h.aa ?? 0) << 2) | ((h.tc ?? 0) << 1) | (h.rd ?? 0));
    w.u8(((h.ra ?? 0) << 7) | ((h.ad ?? 0) << 5) | ((h.cd ?? 0) << 4) | ((h.rcode ?? 0) & 0xf));
    w.u16(m.questions.length);
    w.u16(m.answers.length);
    w.u16(m.authorities.length);
    w.u16(m.additionals.length);
    for (const q of m.questions) {
      w.name(q.name, true);
      w.u16(q.type);
      w.u16(q.class);
    }
    for (const section of [m.answers, m.authorities, m.additionals]) for (const r of section) if (!record(w, r)) return undefined;
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
  return w.bytes();
}

/** A parsed query in dns2's Packet shape (the fields the server and the forwarder read). */
export interface ParsedQuery {
  header: { id: number; qr: number; opcode: number; aa: number; tc: number; rd: number; ra: number; z: number; ad: number; cd: number; rcode: number; qdcount: number; ancount: number; nscount: number; arcount: number };
  questions: Array<{ name: string; type: number; class: number }>;
  answers: never[];
  authorities: never[];
  additionals: Array<{ name: string; type: number; class: number; ttl: number; extendedRcode: number; version: number; doFlag: boolean; rdata: never[] }>;
}

/**
 * The common query fast: one question with an uncompressed name, no answer or authority records, and
 * at most an OPT record without options. Anything else is undefined, for dns2's parser.
 */
export function decodeQuery(msg: Buffer): ParsedQuery | undefined {
  if (msg.length < 17) return undefined;
  const flags = msg.readUInt16BE(2);
  const qdcount = msg.readUInt16BE(4);
  const arcount = msg.readUInt16BE(10);
  if (qdcount !== 1 || msg.readUInt16BE(6) !== 0 || msg.readUInt16BE(8) !== 0 || arcount > 1) return undefined;
  let at = 12;
  const labels: string[] = [];
  for (;;) {
    const len = msg[at++];
    if (len === undefined || len > 63) return undefined;
    if (len === 0) break;
    if (at + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', at, at + len));
    at += len;
  }
  if (at + 4 > msg.length) return undefined;
  const question = { name: labels.join('.'), type: msg.readUInt16BE(at), class: msg.readUInt16BE(at + 2) };
  at += 4;
  const additionals: ParsedQuery['additionals'] = [];
  if (arcount === 1) {
    // An OPT record: root name, type 41, payload size, extended rcode/version/flags, no options.
    if (at + 11 !== msg.length || msg[at] !== 0 || msg.readUInt16BE(at + 1) !== RRType.OPT || msg.readUInt16BE(at + 9) !== 0) return undefined;
    const ttl = msg.readUInt32BE(at + 5);
    additionals.push({ name: '', type: RRType.OPT, class: msg.readUInt16BE(at + 3), ttl, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, doFlag: (ttl & 0x8000) !== 0, rdata: [] });
  } else if (at !== msg.length) return undefined;
  return {
    header: {
      id: msg.readUInt16BE(0),
      qr: flags >>> 15,
      opcode: (flags >>> 11) & 0xf,
      aa: (flags >>> 10) & 1,
      tc: (flags >>> 9) & 1,
      rd: (flags >>> 8) & 1,
      ra: (flags >>> 7) & 1,
      z: (flags >>> 6) & 1,
      ad: (flags >>> 5) & 1,
      cd: (flags >>> 4) & 1,
      rcode: flags & 0xf,
      qdcount,
      ancount: 0,
      nscount: 0,
      arcount,
    },
    questions: [question],
    answers: [],
    authorities: [],
    additionals,
  };
}
