// Counterpart of k8s.io/apiserver/pkg/util/proxy's StreamTranslatorHandler and of moby/spdystream's client side:
// kubectl 1.30+ asks for exec and attach over WebSocket with the v5.channel.k8s.io subprotocol only, which
// container runtimes (containerd 1.6: v4 at most) do not speak. The apiserver accepts the WebSocket itself and
// talks SPDY/3.1 (remote command protocol v4.channel.k8s.io) to the kubelet, one SPDY stream per channel:
// WebSocket messages are <channel byte><data> (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize), and v5's
// CLOSE message (255, then the channel) ends stdin, as a SPDY DATA frame with FIN.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, type Deflate } from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';

export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';
const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';

/** Channels of the WebSocket remote command protocol. */
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** The SPDY/3 header compression dictionary (the protocol's draft 3, section 2.6.10.1). */
export const SPDY3_DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
    'origin',
  ];
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(
    Buffer.from(
      '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
        '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
        '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
        'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
        'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
        'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
      'latin1',
    ),
  );
  return Buffer.concat(parts);
})();

/** Whether a request asks for the v5 WebSocket protocol (kubectl 1.30+), which the apiserver then translates. */
export function wantsWebSocketV5(req: IncomingMessage): boolean {
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return false;
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.includes(STREAM_PROTOCOL_V5);
}

const TYPE_SYN_STREAM = 1;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const TYPE_WINDOW_UPDATE = 9;
const FLAG_FIN = 0x01;

/**
 * The client side of a SPDY/3.1 session, as much as the remote command protocol needs: streams opened by us with
 * SYN_STREAM, DATA both ways, FIN, PING answered, receive windows replenished. Header blocks we receive are not
 * needed and are not decoded.
 */
export class SpdySession {
  private readonly deflate: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  private nextStreamID = 1;
  /** Frames go out in order; header compression is asynchronous. */
  private out: Promise<void> = Promise.resolve();
  private pending: Buffer = Buffer.alloc(0);
  private closed = false;
  /** Bytes received per stream (0: the session) not yet given back with WINDOW_UPDATE. */
  private readonly unacked = new Map<number, number>();
  onData: (streamID: number, data: Buffer, fin: boolean) => void = () => undefined;
  onClose: () => void = () => undefined;

  constructor(
    private readonly socket: Duplex,
    initial: Buffer = Buffer.alloc(0),
  ) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    if (initial.length) this.receive(initial);
  }

  /** Opens a stream with these headers (names lowercased, as SPDY/3 wants); resolves to its id. */
  createStream(headers: Record<string, string>): Promise<number> {
    const id = this.nextStreamID;
    this.nextStreamID += 2;
    const entries = Object.entries(headers);
    const block: Buffer[] = [u32(entries.length)];
    for (const [k, v] of entries) block.push(u32(Buffer.byteLength(k)), Buffer.from(k.toLowerCase()), u32(Buffer.byteLength(v)), Buffer.from(v));
    const raw = Buffer.concat(block);
    const done = this.enqueue(async () => {
      const compressed = await this.compress(raw);
      const body = Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), compressed]);
      return control(TYPE_SYN_STREAM, 0, body);
    });
    return done.then(() => id);
  }

  /** Sends data on a stream, with FIN when `fin`. */
  write(streamID: number, data: Buffer, fin = false): void {
    void this.enqueue(async () => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(streamID & 0x7fffffff, 0);
      head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
      return Buffer.concat([head, data]);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deflate.close();
    this.socket.destroy();
    this.onClose();
  }

  private enqueue(frame: () => Promise<Buffer>): Promise<void> {
    this.out = this.out.then(async () => {
      if (this.closed) return;
      const buf = await frame();
      if (!this.closed) this.socket.write(buf);
    });
    return this.out.catch(() => this.close());
  }

  /** One header block through the session's compression context, flushed (SPDY/3 keeps one zlib stream per direction). */
  private compress(raw: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      this.deflate.on('data', onData);
      this.deflate.write(raw);
      this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        setImmediate(() => {
          this.deflate.off('data', onData);
          if (!chunks.length) reject(new Error('header compression failed'));
          else resolve(Buffer.concat(chunks));
        });
      });
    });
  }

  private receive(d: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    while (this.pending.length >= 8) {
      const len = this.pending.readUInt32BE(4) & 0xffffff;
      if (this.pending.length < 8 + len) return;
      const frame = this.pending.subarray(0, 8 + len);
      this.pending = this.pending.subarray(8 + len);
      this.frame(frame);
    }
  }

  private frame(f: Buffer): void {
    const flags = f[4]!;
    const body = f.subarray(8);
    if ((f[0]! & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      this.replenish(id, body.length);
      this.onData(id, body, (flags & FLAG_FIN) !== 0);
      return;
    }
    const type = f.readUInt16BE(2);
    if (type === TYPE_PING) {
      void this.enqueue(async () => control(TYPE_PING, 0, Buffer.from(body)));
    } else if (type === TYPE_RST_STREAM) {
      this.onData(body.readUInt32BE(0) & 0x7fffffff, Buffer.alloc(0), true);
    } else if (type === TYPE_GOAWAY) {
      this.close();
    } else if ((type === 2 || type === 8) && flags & FLAG_FIN) {
      // SYN_REPLY or HEADERS ending the stream.
      this.onData(body.readUInt32BE(0) & 0x7fffffff, Buffer.alloc(0), true);
    }
  }

  /** Gives received bytes back to the sender's window (SPDY/3.1), per stream and for the session, in 32 KiB steps. */
  private replenish(id: number, n: number): void {
    for (const key of [id, 0]) {
      const total = (this.unacked.get(key) ?? 0) + n;
      if (total >= 32 * 1024) {
        this.unacked.set(key, 0);
        void this.enqueue(async () => control(TYPE_WINDOW_UPDATE, 0, Buffer.concat([u32(key), u32(total)])));
      } else {
        this.unacked.set(key, total);
      }
    }
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function control(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE((flags << 24) | body.length, 4);
  return Buffer.concat([head, body]);
}

/** The head of an HTTP response read off a socket, and what came after it. */
export interface UpgradeResponse {
  statusCode: number;
  head: Buffer;
  rest: Buffer;
}

/** Reads a response head (up to 64 KiB) from a connection that just sent an upgrade request. */
export function readResponseHead(socket: Duplex): Promise<UpgradeResponse> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) fail(new Error('response head too large'));
        return;
      }
      cleanup();
      const head = buf.subarray(0, end + 4);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'));
      if (!m) return reject(new Error('malformed HTTP response'));
      resolve({ statusCode: Number(m[1]), head, rest: buf.subarray(end + 4) });
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => fail(new Error('connection closed before the response'));
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
  });
}

/** Passes the kubelet's refusal of an upgrade (not found, forbidden, ...) to the client as it came: a failed handshake. */
export function passRefusal(client: Duplex, backend: Duplex, res: UpgradeResponse): void {
  client.write(res.head);
  if (res.rest.length) client.write(res.rest);
  backend.pipe(client);
  backend.on('error', () => client.destroy());
  client.on('error', () => backend.destroy());
}

const wss = new WebSocketServer({ noServer: true, handleProtocols: () => STREAM_PROTOCOL_V5, perMessageDeflate: false });

/**
 * Serves an exec or attach session for a v5 WebSocket client over a SPDY connection to the kubelet. `dial` sends
 * the kubelet the SPDY upgrade request and returns its connection; a refusal is passed to the client as it came.
 */
export async function translateV5(
  req: IncomingMessage,
  client: Duplex,
  streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  dial: (headers: Record<string, string>) => Promise<Duplex>,
): Promise<void> {
  const backend = await dial({ Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': STREAM_PROTOCOL_V4, 'Content-Length': '0' });
  const res = await readResponseHead(backend);
  if (res.statusCode !== 101) return passRefusal(client, backend, res);
  const spdy = new SpdySession(backend, res.rest);
  const ws: WebSocket = await new Promise((resolve) => wss.handleUpgrade(req, client, Buffer.alloc(0), resolve));
  // The client may send stdin at once: messages wait until the streams are open.
  let early: Buffer[] | undefined = [];
  let onMessage: (data: Buffer) => void = () => undefined;
  ws.on('message', (msg: Buffer) => {
    const data = Buffer.isBuffer(msg) ? msg : Buffer.from(msg as ArrayBuffer);
    if (early) early.push(data);
    else onMessage(data);
  });
  const channels = new Map<number, number>();
  const open = async (type: string, channel: number) => {
    const id = await spdy.createStream({ streamtype: type });
    channels.set(id, channel);
    return id;
  };
  // The order kubectl's SPDY client uses: error first, then the data streams.
  await open('error', ERROR);
  const stdinID = streams.stdin ? await open('stdin', STDIN) : undefined;
  if (streams.stdout) await open('stdout', STDOUT);
  if (streams.stderr && !streams.tty) await open('stderr', STDERR);
  const resizeID = streams.tty ? await open('resize', RESIZE) : undefined;
  /** Streams the kubelet still sends on; the session ends once none is left. */
  const readable = new Set([...channels].filter(([, ch]) => ch !== STDIN && ch !== RESIZE).map(([id]) => id));
  let stdinClosed = false;
  spdy.onData = (id, data, fin) => {
    const ch = channels.get(id);
    if (ch === undefined) return;
    if (data.length && ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), data]));
    if (fin && readable.delete(id) && readable.size === 0) {
      ws.close(1000);
      spdy.close();
    }
  };
  spdy.onClose = () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  onMessage = (data) => {
    if (!data.length) return;
    const ch = data[0];
    const payload = data.subarray(1);
    if (ch === STDIN && stdinID !== undefined && !stdinClosed) spdy.write(stdinID, payload);
    else if (ch === RESIZE && resizeID !== undefined) spdy.write(resizeID, payload);
    else if (ch === CLOSE && payload[0] === STDIN && stdinID !== undefined && !stdinClosed) {
      stdinClosed = true;
      spdy.write(stdinID, Buffer.alloc(0), true);
    }
  };
  const waiting = early;
  early = undefined;
  for (const m of waiting) onMessage(m);
  ws.on('close', () => spdy.close());
  ws.on('error', () => spdy.close());
}
