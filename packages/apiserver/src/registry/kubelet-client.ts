// Counterpart of pkg/kubelet/client (KubeletClientConfig, NodeConnectionInfoGetter) and of the streaming side of
// k8s.io/apiserver's registry/rest (Connecter) with apimachinery's UpgradeAwareHandler: how the apiserver reaches a
// node's kubelet (the Node's address and daemonEndpoints.kubeletEndpoint.Port, HTTPS with the apiserver's client
// certificate --kubelet-client-certificate/--kubelet-client-key, the kubelet's certificate checked against
// --kubelet-certificate-authority or not at all), and the storages that answer by streaming from it.
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { badRequest, notFound, StatusError, type KubeObject, type StatusReason } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { Connecter, Connection } from './rest.js';

export type { Connecter, Connection };

/** The kubelet client flags' material (PEM). */
export interface KubeletClientConfig {
  certPem?: string;
  keyPem?: string;
  /** Without it the kubelet's serving certificate is not verified, as upstream. */
  caPem?: string;
}

/** Upstream's default kubelet port when a Node reports none. */
export const DEFAULT_KUBELET_PORT = 10250;

/** The order node addresses are tried in (upstream's --kubelet-preferred-address-types; Hostname last, since lab node names do not resolve). */
export const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS', 'Hostname'];


/** Where a node's kubelet listens (upstream's GetConnectionInfo). */
export function nodeConnectionInfo(node: Node): { host: string; port: number } {
  const addresses = node.status?.addresses ?? [];
  let host = '';
  for (const type of PREFERRED_ADDRESS_TYPES) {
    const a = addresses.find((x) => x.type === type && x.address);
    if (a) {
      host = a.address;
      break;
    }
  }
  if (!host) throw badRequest(`no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { host, port: port && port > 0 ? port : DEFAULT_KUBELET_PORT };
}

/** The https URL of a kubelet path on a node. */
export function kubeletURL(node: Node, path: string, query?: URLSearchParams): URL {
  const { host, port } = nodeConnectionInfo(node);
  const u = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  u.pathname = path;
  if (query) u.search = query.toString();
  return u;
}

/** Headers of the caller that never go on to the kubelet: its credentials and impersonation. */
const CALLER_HEADERS = /^(authorization|impersonate-.*|host|keep-alive|proxy-connection|proxy-authenticate|proxy-authorization|te|trailer|transfer-encoding)$/i;

export class KubeletClient {
  constructor(private readonly config: KubeletClientConfig = {}) {}

  private tls(): ConnectionOptions {
    const c = this.config;
    return {
      ...(c.certPem && c.keyPem ? { cert: c.certPem, key: c.keyPem } : {}),
      ...(c.caPem ? { ca: c.caPem, rejectUnauthorized: true } : { rejectUnauthorized: false }),
    };
  }

  /** GET on the kubelet; resolves with the response once its head arrived. */
  get(url: URL, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method: 'GET', ...this.tls(), servername: serverName(url), signal }, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  /** Opens a TLS connection to the kubelet and sends a request head (an upgrade request: no body follows). */
  async dial(method: string, url: URL, headers: Record<string, string>): Promise<TLSSocket> {
    const socket = await this.connect(url);
    const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    return socket;
  }

  private connect(url: URL): Promise<TLSSocket> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || 443;
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host, port, servername: serverName(url), ...this.tls() }, () => {
        s.setNoDelay(true);
        resolve(s);
      });
      const timer = setTimeout(() => s.destroy(new Error(`dial tcp ${host}:${port}: i/o timeout`)), 30_000);
      s.once('secureConnect', () => clearTimeout(timer));
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /**
   * Sends the caller's upgrade request (SPDY/3.1 or WebSocket) to the kubelet URL with the apiserver's credentials
   * and splices the two connections; the protocol inside is not looked at (upstream's UpgradeAwareHandler).
   */
  async proxyUpgrade(req: IncomingMessage, client: Duplex, url: URL): Promise<void> {
    const backend = await this.connect(url);
    const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (!CALLER_HEADERS.test(req.rawHeaders[i]!)) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    backend.write(`${lines.join('\r\n')}\r\n\r\n`);
    const end = () => {
      client.destroy();
      backend.destroy();
    };
    for (const s of [backend, client]) {
      s.on('error', end);
      s.on('close', end);
    }
    backend.pipe(client);
    client.pipe(backend);
  }
}

/** SNI only for names (not IPs), as Go's TLS client. */
function serverName(url: URL): string | undefined {
  const h = url.hostname;
  return /^[\d.]+$/.test(h) || h.startsWith('[') ? undefined : h;
}

/** The containers a request may name (upstream's validateContainer): init, regular and ephemeral. */
export function containerFor(pod: Pod, container: string | null): string {
  const name = pod.metadata?.name ?? '';
  const names = [
    ...(pod.spec?.initContainers ?? []).map((c) => c.name),
    ...(pod.spec?.containers ?? []).map((c) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c) => c.name),
  ];
  if (!container) {
    const regular = pod.spec?.containers ?? [];
    if (regular.length === 1) return regular[0]!.name;
    if (regular.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** A kubelet error response as a Status (upstream's GenericHttpResponseChecker: 400 BadRequest, 404 NotFound, else the code). */
export async function kubeletResponseError(res: IncomingMessage, podName: string): Promise<StatusError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > 4096) break;
  }
  res.destroy();
  const text = Buffer.concat(chunks).toString().slice(0, 4096).trim();
  const code = res.statusCode ?? 500;
  if (code === 400) return badRequest(text);
  if (code === 404) return notFound({ group: '', resource: 'pods' }, podName);
  // Upstream's NewGenericServerResponse for what else the kubelet answers.
  const known: Record<number, [StatusReason, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', 'the server does not allow access to the requested resource'],
    500: ['InternalError', `an error on the server (${JSON.stringify(text)}) has prevented the request from succeeding`],
  };
  const [reason, message] = known[code] ?? ['', `the server responded with the status code ${code} but did not return more information`];
  return new StatusError({
    code,
    reason,
    message: `${message} (get pods ${podName})`,
    details: { name: podName, kind: 'pods', causes: [{ reason: 'UnexpectedServerResponse', message: text }] },
  });
}

/** Reads an object from the registry (the pods and nodes Stores' get). */
export type KubeObjectGetter = (namespace: string, name: string) => Promise<KubeObject>;
