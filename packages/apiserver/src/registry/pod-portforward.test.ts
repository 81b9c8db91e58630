import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readResponseHead } from './pod-exec-translator.js';
import { kubeletPortForwardQuery, tunneledProtocols, tunnelPortForward } from './pod-portforward.js';

const upgradeReq = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

/**
 * kubectl's side, as gorilla/websocket does it: ws's client refuses "SPDY/3.1+portforward.k8s.io" (not an RFC 7230
 * token), so the handshake and the (small) frames are written here.
 */
async function dialTunnel(port: number) {
  const socket = netConnect(port, '127.0.0.1');
  socket.write(
    'GET /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n',
  );
  const res = await readResponseHead(socket);
  let pending = res.rest;
  const frames: { opcode: number; payload: Buffer }[] = [];
  const parse = () => {
    while (pending.length >= 2 && pending.length >= 2 + (pending[1]! & 0x7f)) {
      const len = pending[1]! & 0x7f;
      frames.push({ opcode: pending[0]! & 0x0f, payload: pending.subarray(2, 2 + len) });
      pending = pending.subarray(2 + len);
    }
  };
  parse();
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    parse();
  });
  return {
    socket,
    head: res.head.toString(),
    statusCode: res.statusCode,
    frames,
    /** One masked binary message (under 126 bytes). */
    send(data: Buffer) {
      const mask = Buffer.from([1, 2, 3, 4]);
      socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | data.length]), mask, Buffer.from(data.map((b, i) => b ^ mask[i % 4]!))]));
    },
  };
}

describe('pods/portforward', () => {
  it('finds the SPDY protocols a WebSocket upgrade asks to tunnel', () => {
    expect(tunneledProtocols(upgradeReq({ upgrade: 'websocket', 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io' }))).toEqual(['portforward.k8s.io']);
    expect(tunneledProtocols(upgradeReq({ upgrade: 'WebSocket', 'sec-websocket-protocol': 'v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io' }))).toEqual([
      'portforward.k8s.io',
    ]);
    // An older WebSocket port-forward and plain SPDY go through to the kubelet as they are.
    expect(tunneledProtocols(upgradeReq({ upgrade: 'websocket', 'sec-websocket-protocol': 'v4.channel.k8s.io' }))).toEqual([]);
    expect(tunneledProtocols(upgradeReq({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' }))).toEqual([]);
  });

  it("turns PodPortForwardOptions' ports into the kubelet's port query, refusing what is not a port", () => {
    expect(kubeletPortForwardQuery(new URLSearchParams('ports=80&ports=8080')).toString()).toBe('port=80&port=8080');
    expect(kubeletPortForwardQuery(new URLSearchParams('')).toString()).toBe('');
    expect(() => kubeletPortForwardQuery(new URLSearchParams('ports=http'))).toThrow('strconv.ParseInt: parsing "http": invalid syntax');
    expect(() => kubeletPortForwardQuery(new URLSearchParams('ports=70000'))).toThrow('must be between 1 and 65535, inclusive');
  });

  describe('the SPDY-over-WebSocket tunnel', () => {
    let api: HttpServer | undefined;
    let kubelet: NetServer | undefined;
    let kubeletGot = '';
    const sockets: Socket[] = [];

    afterEach(async () => {
      for (const s of sockets) s.destroy();
      api?.closeAllConnections();
      await new Promise<void>((r) => (api ? api.close(() => r()) : r()));
      await new Promise<void>((r) => (kubelet ? kubelet.close(() => r()) : r()));
      api = kubelet = undefined;
    });

    /** A kubelet that answers the upgrade with `response`; after a 101 it echoes what comes, upper-cased. */
    async function start(response: string): Promise<number> {
      kubeletGot = '';
      kubelet = createNetServer((s) => {
        sockets.push(s);
        s.once('data', (d) => {
          kubeletGot = d.toString();
          s.write(response);
          if (response.startsWith('HTTP/1.1 101')) s.on('data', (x) => s.write(x.toString().toUpperCase()));
          else s.end();
        });
      });
      await new Promise<void>((r) => kubelet!.listen(0, '127.0.0.1', () => r()));
      const kubeletPort = (kubelet.address() as AddressInfo).port;
      api = createHttpServer();
      api.on('upgrade', (req: IncomingMessage, socket: Socket) => {
        void tunnelPortForward(req, socket, async (headers) => {
          const s = netConnect(kubeletPort, '127.0.0.1');
          sockets.push(s);
          s.write(`POST /portForward/default/web HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
          return s;
        });
      });
      await new Promise<void>((r) => api!.listen(0, '127.0.0.1', () => r()));
      return (api.address() as AddressInfo).port;
    }

    it("upgrades the kubelet to SPDY, accepts the WebSocket with the tunnel's subprotocol and carries bytes both ways", async () => {
      const port = await start('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
      const ws = await dialTunnel(port);
      sockets.push(ws.socket);
      expect(ws.statusCode).toBe(101);
      // RFC 6455's example key and its accept value.
      expect(ws.head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
      expect(ws.head).toContain('Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n');
      ws.send(Buffer.from('spdy frame bytes'));
      const text = () => Buffer.concat(ws.frames.filter((f) => f.opcode === 2).map((f) => f.payload)).toString();
      const deadline = Date.now() + 5000;
      while (text() !== 'SPDY FRAME BYTES' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(text()).toBe('SPDY FRAME BYTES');
      // Binary messages only (opcode 2), no text.
      expect(ws.frames.every((f) => f.opcode === 2)).toBe(true);
      expect(kubeletGot).toMatch(/^POST \/portForward\/default\/web HTTP\/1.1\r\n/);
      expect(kubeletGot).toContain('Upgrade: SPDY/3.1\r\n');
      expect(kubeletGot).toContain('X-Stream-Protocol-Version: portforward.k8s.io\r\n');
      // The kubelet going away closes the WebSocket (a close frame, status 1000).
      for (const s of sockets) if (s !== ws.socket) s.destroy();
      const until = Date.now() + 5000;
      while (!ws.frames.some((f) => f.opcode === 8) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(ws.frames.find((f) => f.opcode === 8)?.payload.readUInt16BE(0)).toBe(1000);
    });

    it("passes the kubelet's refusal to the client as a failed handshake (kubectl then falls back to SPDY)", async () => {
      const body = 'pod does not exist\n';
      const port = await start(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const ws = await dialTunnel(port);
      sockets.push(ws.socket);
      expect(ws.statusCode).toBe(404);
      expect(ws.head).not.toContain('Sec-WebSocket-Accept');
    });
  });
});
