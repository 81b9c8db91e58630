// Counterpart of pkg/registry/core/pod/rest/subresources.go (PortForwardREST) with PortForwardLocation of
// pod/strategy.go and k8s.io/apiserver/pkg/util/proxy's TunnelingHandler (feature PortForwardWebsockets):
// pods/NAME/portforward proxies the upgraded connection to the kubelet's /portForward/{ns}/{pod}. kubectl 1.30+
// first asks for a WebSocket with the subprotocol "SPDY/3.1+portforward.k8s.io": the apiserver then speaks the
// SPDY upgrade to the kubelet itself and carries the SPDY bytes inside WebSocket binary messages (the client runs
// its SPDY session over the tunnel, no HTTP inside it). A plain SPDY upgrade (or an older WebSocket protocol)
// goes through as it is.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest, findResource, internal, type ResourceInfo } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { WebSocketServer, type WebSocket } from 'ws';
import { kubeletURL, type Connecter, type KubeletClient, type KubeObjectGetter } from './kubelet-client.js';
import { passRefusal, readResponseHead } from './pod-exec-translator.js';
import { restStorage } from './rest.js';

export const PORT_FORWARD_PROTOCOL_V1 = 'portforward.k8s.io';
/** The WebSocket subprotocol prefix of a SPDY tunnel (client-go's constants.WebsocketsSPDYTunnelingPrefix). */
export const SPDY_TUNNELING_PREFIX = 'SPDY/3.1+';

/** The SPDY protocols a WebSocket upgrade asks to tunnel ("SPDY/3.1+portforward.k8s.io" -> "portforward.k8s.io"). */
export function tunneledProtocols(req: IncomingMessage): string[] {
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return [];
  return String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(SPDY_TUNNELING_PREFIX))
    .map((p) => p.slice(SPDY_TUNNELING_PREFIX.length))
    .filter((p) => p);
}

/** The kubelet's query of a port-forward (PodPortForwardOptions' ports, each a `port`). */
export function kubeletPortForwardQuery(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const v of q.getAll('ports')) {
    if (!/^-?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    const n = Number(v);
    if (n < 1 || n > 65535) throw badRequest(`PodPortForwardOptions "" is invalid: ports: Invalid value: ${n}: must be between 1 and 65535, inclusive`);
    out.append('port', v);
  }
  return out;
}

/** Bytes sent to the WebSocket client not yet written out, above which the kubelet's side is paused. */
const HIGH_WATER = 1 << 20;

/** The subprotocol each tunneling request is answered with. */
const accepted = new WeakMap<IncomingMessage, string>();
// "SPDY/3.1+portforward.k8s.io" is not an RFC 7230 token ("/"), which ws refuses: the header is taken off the
// request before ws sees it and the chosen subprotocol added to the 101 response here (gorilla accepts it).
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
wss.on('headers', (headers: string[], req: IncomingMessage) => {
  const protocol = accepted.get(req);
  if (protocol) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
});

/**
 * Serves a SPDY-over-WebSocket tunnel: `dial` sends the kubelet the SPDY upgrade request; once it switched
 * protocols the client's WebSocket is accepted and bytes are copied both ways, each chunk from the kubelet one
 * binary message. A refusal from the kubelet is passed to the client as it came (a failed handshake).
 */
export async function tunnelPortForward(req: IncomingMessage, client: Duplex, dial: (headers: Record<string, string>) => Promise<Duplex>): Promise<void> {
  const protocol = tunneledProtocols(req)[0] ?? PORT_FORWARD_PROTOCOL_V1;
  const backend = await dial({ Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol, 'Content-Length': '0' });
  const res = await readResponseHead(backend);
  if (res.statusCode !== 101) return passRefusal(client, backend, res);
  backend.pause();
  accepted.set(req, SPDY_TUNNELING_PREFIX + protocol);
  delete req.headers['sec-websocket-protocol'];
  const ws: WebSocket = await new Promise((resolve) => wss.handleUpgrade(req, client, Buffer.alloc(0), resolve));
  const toClient = (data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(data, { binary: true }, () => {
      if (ws.bufferedAmount < HIGH_WATER && backend.isPaused()) backend.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) backend.pause();
  };
  if (res.rest.length) toClient(res.rest);
  backend.on('data', toClient);
  ws.on('message', (msg: Buffer | ArrayBuffer | Buffer[]) => {
    const data = Buffer.isBuffer(msg) ? msg : Array.isArray(msg) ? Buffer.concat(msg) : Buffer.from(msg);
    if (!backend.write(data)) {
      ws.pause();
      backend.once('drain', () => ws.resume());
    }
  });
  const end = () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
    backend.destroy();
  };
  backend.on('close', end);
  backend.on('error', end);
  ws.on('close', () => backend.destroy());
  ws.on('error', () => backend.destroy());
  backend.resume();
}

export function podPortForwardREST(opts: { getPod: KubeObjectGetter; getNode: KubeObjectGetter; kubelet: KubeletClient }): Connecter {
  const info: ResourceInfo = findResource('', 'v1', 'pods')!;
  return {
    ...restStorage(info, { apiVersion: 'v1', kind: 'PodPortForwardOptions' }),
    connectMethods: ['GET', 'POST'],
    async connect(namespace, name, query, conn) {
      const params = kubeletPortForwardQuery(query);
      const pod = (await opts.getPod(namespace, name)) as Pod;
      const nodeName = pod.spec?.nodeName;
      if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
      const node = (await opts.getNode('', nodeName)) as Node;
      const url = kubeletURL(node, `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, params);
      const { req } = conn;
      if (!/upgrade/i.test(String(req.headers.connection ?? '')) || !req.headers.upgrade) throw badRequest('Upgrade request required');
      conn.hijack();
      const socket = req.socket;
      socket.setTimeout(0);
      const session = tunneledProtocols(req).length
        ? tunnelPortForward(req, socket, (headers) => opts.kubelet.dial('POST', url, headers))
        : opts.kubelet.proxyUpgrade(req, socket, url);
      await session.catch((err: Error) => {
        const body = JSON.stringify(internal(new Error(`error dialing backend: ${err.message}`)).status);
        socket.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
    },
  };
}
