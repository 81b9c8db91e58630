// Counterpart of k8s.io/apimachinery/pkg/util/proxy's UpgradeAwareHandler for an upgraded connection: the
// client's upgrade request (SPDY/3.1 or WebSocket) is sent on to the backend with the backend's path, and from
// then on bytes are copied both ways until either side closes. The protocol inside is not looked at.
import type { IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';

/** Hop-by-hop headers not copied (Connection and Upgrade are, since they carry the upgrade). */
const HOP_BY_HOP = new Set(['keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'host']);

/** The request head sent to the backend: the client's method and headers, the backend's path and host. */
export function upgradeRequestHead(req: IncomingMessage, target: URL, opts: { dropHeaders?: readonly string[] } = {}): string {
  const drop = new Set([...HOP_BY_HOP, ...(opts.dropHeaders ?? []).map((h) => h.toLowerCase())]);
  const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (drop.has(name.toLowerCase())) continue;
    lines.push(`${name}: ${raw[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends the upgrade request to `target` (http: or https: with `tls`) and splices the two connections. `head` is
 * what the client sent after its request head. Resolves once the backend connection is open.
 */
export async function proxyUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: URL,
  opts: { tls?: ConnectionOptions; dropHeaders?: readonly string[]; timeoutMs?: number } = {},
): Promise<void> {
  const port = Number(target.port) || (target.protocol === 'https:' || target.protocol === 'wss:' ? 443 : 80);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const backend: Socket = await new Promise((resolve, reject) => {
    const s = secure
      ? tlsConnect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, ...opts.tls }, () => resolve(s))
      : netConnect({ host, port }, () => resolve(s));
    const timer = setTimeout(() => s.destroy(new Error(`dial tcp ${host}:${port}: i/o timeout`)), opts.timeoutMs ?? 30_000);
    s.once('connect', () => clearTimeout(timer));
    s.once('secureConnect', () => clearTimeout(timer));
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  backend.setNoDelay(true);
  backend.write(upgradeRequestHead(req, target, opts));
  if (head.length) backend.write(head);
  const end = () => {
    client.destroy();
    backend.destroy();
  };
  backend.on('error', end);
  client.on('error', end);
  backend.on('close', end);
  client.on('close', end);
  backend.pipe(client);
  client.pipe(backend);
}
