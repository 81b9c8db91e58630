import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createInflate } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { readResponseHead, SPDY3_DICTIONARY, translateV5, wantsWebSocketV5 } from './pod-exec-translator.js';

/** A kubelet standing in for the real one: answers the SPDY upgrade, then plays `cat` with an exit status. */
function fakeKubelet(seen: { request: string; streams: Record<string, number> }): NetServer {
  return createNetServer((sock: Socket) => {
    const inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const ids: Record<string, number> = seen.streams;
    const send = (id: number, data: Buffer, fin = false) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(id, 0);
      head.writeUInt32BE(((fin ? 1 : 0) << 24) | data.length, 4);
      sock.write(Buffer.concat([head, data]));
    };
    const headers = (block: Buffer): Promise<Record<string, string>> =>
      new Promise((resolve) => {
        const out: Buffer[] = [];
        const onData = (c: Buffer) => out.push(c);
        inflate.on('data', onData);
        inflate.write(block);
        inflate.flush(zlibConstants.Z_SYNC_FLUSH, () =>
          setImmediate(() => {
            inflate.off('data', onData);
            const raw = Buffer.concat(out);
            const h: Record<string, string> = {};
            let pos = 4;
            for (let i = 0; i < raw.readUInt32BE(0); i++) {
              const kl = raw.readUInt32BE(pos);
              const k = raw.subarray(pos + 4, pos + 4 + kl).toString();
              pos += 4 + kl;
              const vl = raw.readUInt32BE(pos);
              h[k] = raw.subarray(pos + 4, pos + 4 + vl).toString();
              pos += 4 + vl;
            }
            resolve(h);
          }),
        );
      });
    let chain = Promise.resolve();
    const frame = async (f: Buffer) => {
      if (f[0]! & 0x80) {
        const type = f.readUInt16BE(2);
        if (type === 1) {
          const id = f.readUInt32BE(8) & 0x7fffffff;
          const h = await headers(f.subarray(18));
          ids[h.streamtype!] = id;
          if (h.streamtype === 'stdout') send(id, Buffer.from('ready\n'));
        }
        return;
      }
      const id = f.readUInt32BE(0);
      const fin = (f[4]! & 1) === 1;
      if (id === ids.stdin) {
        if (f.length > 8) send(ids.stdout!, f.subarray(8));
        if (fin) {
          send(ids.error!, Buffer.from('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'), true);
          send(ids.stdout!, Buffer.alloc(0), true);
          send(ids.stderr!, Buffer.alloc(0), true);
        }
      }
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        seen.request = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        upgraded = true;
        sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
      }
      while (buf.length >= 8 && buf.length >= 8 + (buf.readUInt32BE(4) & 0xffffff)) {
        const f = buf.subarray(0, 8 + (buf.readUInt32BE(4) & 0xffffff));
        buf = buf.subarray(f.length);
        chain = chain.then(() => frame(f));
      }
    });
  });
}

let kubelet: NetServer;
let api: HttpServer;
const seen = { request: '', streams: {} as Record<string, number> };

beforeAll(async () => {
  kubelet = fakeKubelet(seen);
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
  const port = (kubelet.address() as AddressInfo).port;
  api = createHttpServer();
  api.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const dial = async (headers: Record<string, string>) => {
      const s = connect(port, '127.0.0.1');
      s.write(`POST /exec/default/web/app?input=1&output=1&error=1&command=cat HTTP/1.1\r\nHost: kubelet\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      return s;
    };
    void translateV5(req, socket, { stdin: true, stdout: true, stderr: true, tty: false }, dial);
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
});

afterAll(() => {
  api?.close();
  kubelet?.close();
});

describe('the v5 WebSocket to SPDY stream translator', () => {
  it('recognises a v5 WebSocket request', () => {
    const req = (h: Record<string, string>) => ({ headers: h }) as unknown as IncomingMessage;
    expect(wantsWebSocketV5(req({ upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io' }))).toBe(true);
    expect(wantsWebSocketV5(req({ upgrade: 'websocket', 'sec-websocket-protocol': 'v4.channel.k8s.io, channel.k8s.io' }))).toBe(false);
    expect(wantsWebSocketV5(req({ upgrade: 'SPDY/3.1' }))).toBe(false);
  });

  it('carries stdin, stdout, the end of stdin and the exit status between the channels and SPDY streams', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${(api.address() as AddressInfo).port}/`, ['v5.channel.k8s.io']);
    const got: Buffer[] = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (m: Buffer) => {
      got.push(m);
      // Once the command is ready, send a line and end stdin (v5's CLOSE signal for channel 0).
      if (m.toString('latin1', 1) === 'ready\n') {
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello\n')]));
        ws.send(Buffer.from([255, 0]));
      }
    });
    await new Promise<void>((r) => ws.on('open', () => r()));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    expect(await closed).toBe(1000);
    expect(got.map((m) => [m[0], m.subarray(1).toString()])).toEqual([
      [1, 'ready\n'],
      [1, 'hello\n'],
      [3, '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'],
    ]);
    expect(seen.request).toContain('Upgrade: SPDY/3.1');
    expect(seen.request).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    // Streams in kubectl's order, with the client's odd ids.
    expect(seen.streams).toEqual({ error: 1, stdin: 3, stdout: 5, stderr: 7 });
  });

  it("passes a kubelet's refusal to the client as it came", async () => {
    const refusing = createNetServer((s) => s.once('data', () => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nForbidden')));
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
    const server = createHttpServer();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      void translateV5(req, socket, { stdin: false, stdout: true, stderr: true, tty: false }, async (headers) => {
        const s = connect((refusing.address() as AddressInfo).port, '127.0.0.1');
        s.write(`POST /exec HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
        return s;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const raw = connect((server.address() as AddressInfo).port, '127.0.0.1');
      raw.write('GET /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n');
      const res = await readResponseHead(raw);
      expect(res.statusCode).toBe(403);
      raw.destroy();
    } finally {
      server.close();
      refusing.close();
    }
  });
});
