// Counterpart of pkg/kubelet/server/server.go: the kubelet's HTTPS API on --port (10250), authenticated and
// authorized as upstream (auth.ts): /healthz, /pods (the pods bound to this node), /containerLogs/{ns}/{pod}/
// {container} (the CRI log files, logs.ts), /exec, /attach/{ns}/{pod}[/{uid}]/{container} and /portForward/{ns}/
// {pod}[/{uid}], which ask the runtime for a streaming URL (CRI Exec/Attach/PortForward, containerd's streaming
// server on NODE_IP:10010) and proxy the upgraded connection (SPDY/3.1 or WebSocket) to it (proxy.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createCA, issueCertificate, type Logger, type TokenAuthenticator } from '@kubelab/component-base';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { RuntimeService } from '../cri/runtime-service.js';
import { authenticate, forbiddenMessage, requestAttributes, type KubeletAuthorizer } from './auth.js';
import { readLogs, type LogOptions } from './logs.js';
import { proxyUpgrade } from './proxy.js';

export interface KubeletServerOptions {
  nodeName: string;
  address: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** PEM serving certificate and key (--tls-cert-file, --tls-private-key-file). */
  certPem: string;
  keyPem: string;
  /** --client-ca-file's PEM: client certificates that chain to it authenticate. */
  clientCA?: string;
  /** --authentication-token-webhook: bearer tokens by TokenReview. */
  tokens?: TokenAuthenticator;
  /** --anonymous-auth. */
  anonymous: boolean;
  authorizer: KubeletAuthorizer;
  /** The pods bound to this node, as the kubelet knows them. */
  pods: () => Pod[];
  /** The kubelet's latest status of a pod (its status manager's), fresher than the one in `pods`. */
  podStatus?: (uid: string) => PodStatus | undefined;
  runtime: RuntimeService;
  /** /stats/summary and /metrics/resource (the stats provider); 404 without. */
  stats?: { summary(): unknown; resourceMetrics(): string };
  logger?: Logger;
}

export interface KubeletServer {
  port(): number;
  close(): Promise<void>;
}

/** Thrown by the handlers: an HTTP status with upstream's plain-text message. */
export class HTTPError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The serving certificate: the given files, else <rootDir>/pki/kubelet.crt and kubelet.key, made self-signed
 * (a CA of its own signing the node's names) the first time, as upstream's kubelet does without --tls-cert-file.
 */
export async function servingCertificate(opts: {
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  rootDir: string;
  nodeName: string;
  nodeIP: string;
}): Promise<{ certPem: string; keyPem: string }> {
  if (opts.tlsCertFile && opts.tlsPrivateKeyFile) {
    return { certPem: readFileSync(opts.tlsCertFile, 'utf8'), keyPem: readFileSync(opts.tlsPrivateKeyFile, 'utf8') };
  }
  const dir = join(opts.rootDir, 'pki');
  const crt = join(dir, 'kubelet.crt');
  const key = join(dir, 'kubelet.key');
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  const now = Math.floor(Date.now() / 1000);
  const ca = await createCA({ commonName: `${opts.nodeName}-ca@${now}` });
  const ips = [...new Set([opts.nodeIP, '127.0.0.1'])];
  const leaf = await issueCertificate(ca, { commonName: `${opts.nodeName}@${now}`, dnsNames: [opts.nodeName, 'localhost'], ipAddresses: ips, usage: 'server' });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(crt, leaf.certPem + ca.certPem, { mode: 0o644 });
  writeFileSync(key, leaf.keyPem, { mode: 0o600 });
  return { certPem: leaf.certPem + ca.certPem, keyPem: leaf.keyPem };
}

/** Go's strconv.ParseBool for query flags ("1", "t", "true", ...); absent is false. */
function boolQuery(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
}

function intQuery(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new HTTPError(400, `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** The log options of a /containerLogs query (upstream's PodLogOptions from the query, then validated). */
export function logOptionsFromQuery(q: URLSearchParams, now = Date.now()): LogOptions & { previous: boolean } {
  const tailLines = intQuery(q, 'tailLines');
  const limitBytes = intQuery(q, 'limitBytes');
  const sinceSeconds = intQuery(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (tailLines !== undefined && tailLines < 0) throw new HTTPError(422, 'PodLogOptions.core "" is invalid: tailLines: Invalid value: must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) throw new HTTPError(422, 'PodLogOptions.core "" is invalid: limitBytes: Invalid value: must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw new HTTPError(422, 'PodLogOptions.core "" is invalid: sinceSeconds: Invalid value: must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime) throw new HTTPError(422, 'PodLogOptions.core "" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  else if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw new HTTPError(400, `parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  }
  return {
    follow: boolQuery(q, 'follow'),
    previous: boolQuery(q, 'previous'),
    timestamps: boolQuery(q, 'timestamps'),
    tailLines,
    limitBytes,
    sinceMs,
  };
}

const stripScheme = (id: string) => id.replace(/^[a-z]+:\/\//, '');

/**
 * The runtime container whose log a request reads (upstream's validateContainerLogStatus): the running or last
 * terminated instance, or with `previous` the one before it; refused with upstream's messages otherwise.
 */
export function containerIDForLogs(pod: Pod, containerName: string, previous: boolean): string {
  const podName = pod.metadata?.name ?? '';
  const st = pod.status ?? {};
  const cs = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])].find(
    (s) => s.name === containerName,
  );
  if (!cs) throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is not available`);
  const last = cs.lastState?.terminated;
  const state = cs.state ?? {};
  if (previous) {
    if (!last?.containerID) throw new HTTPError(400, `previous terminated container "${containerName}" in pod "${podName}" not found`);
    return stripScheme(last.containerID);
  }
  if (state.running) return stripScheme(cs.containerID ?? '');
  if (state.terminated) {
    if (state.terminated.containerID) return stripScheme(state.terminated.containerID);
    if (last?.containerID) return stripScheme(last.containerID);
    throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is terminated`);
  }
  if (last) {
    if (!last.containerID) throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is terminated`);
    return stripScheme(last.containerID);
  }
  const reason = state.waiting?.reason ?? '';
  if (reason === 'ErrImagePull') throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
  throw new HTTPError(400, `container "${containerName}" in pod "${podName}" is waiting to start: ${reason}`);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes an HTTP response on a raw (not yet upgraded) connection and closes it. */
function rejectUpgrade(socket: Duplex, code: number, text: string): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The segments of /{kind}/{ns}/{pod}[/{uid}]/{container}. */
function streamTarget(path: string): { kind: string; namespace: string; pod: string; uid?: string; container: string } | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  if (parts.length === 4) return { kind: parts[0]!, namespace: parts[1]!, pod: parts[2]!, container: parts[3]! };
  if (parts.length === 5) return { kind: parts[0]!, namespace: parts[1]!, pod: parts[2]!, uid: parts[3]!, container: parts[4]! };
  return undefined;
}

/** The segments of /portForward/{ns}/{pod}[/{uid}]. */
export function portForwardTarget(path: string): { namespace: string; pod: string; uid?: string } | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  if (parts[0] !== 'portForward' || parts.length < 3 || parts.length > 4 || parts.slice(1).some((p) => !p)) return undefined;
  return { namespace: parts[1]!, pod: parts[2]!, ...(parts[3] ? { uid: parts[3] } : {}) };
}

/**
 * The ports of a port-forward request (upstream's NewV4Options): a WebSocket client names them in the `port`
 * query; a SPDY client names each in its streams' headers, so none here.
 */
export function portForwardPorts(req: IncomingMessage, q: URLSearchParams): number[] {
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return [];
  const ports: number[] = [];
  for (const v of q.getAll('port')) {
    for (const p of v.split(',')) {
      const n = /^\d+$/.test(p) ? Number(p) : Number.NaN;
      if (!(n >= 1 && n <= 65535)) throw new HTTPError(400, `unable to parse ${JSON.stringify(p)} as a port: must be between 1 and 65535`);
      ports.push(n);
    }
  }
  if (!ports.length) throw new HTTPError(400, 'query parameter "port" is required');
  return ports;
}

export async function createKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const log = opts.logger;
  const findPod = (namespace: string, name: string, uid?: string) =>
    opts.pods().find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name && (!uid || p.metadata?.uid === uid));

  /** Authentication, then authorization; the error to answer with, or undefined to go on. */
  const admit = async (req: IncomingMessage, path: string): Promise<HTTPError | undefined> => {
    let user;
    try {
      user = await authenticate(req, { clientCertificates: !!opts.clientCA, tokens: opts.tokens, anonymous: opts.anonymous });
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'Unable to authenticate the request due to an error');
      return new HTTPError(401, 'Unauthorized');
    }
    if (!user) return new HTTPError(401, 'Unauthorized');
    const attrs = requestAttributes(user, opts.nodeName, req.method, path);
    try {
      const d = await opts.authorizer.authorize(attrs);
      if (!d.allowed) return new HTTPError(403, forbiddenMessage(attrs));
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'Authorization error');
      return new HTTPError(500, `Authorization error (user=${attrs.user.name}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresource})`);
    }
    return undefined;
  };

  const containerLogs = async (res: ServerResponse, path: string, q: URLSearchParams) => {
    const parts = path.split('/').slice(2).map(decodeURIComponent);
    if (parts.length !== 3 || parts.some((p) => !p)) throw new HTTPError(400, 'Missing podID.');
    const [namespace, podName, containerName] = parts as [string, string, string];
    const pod = findPod(namespace, podName);
    if (!pod) throw new HTTPError(404, `pod "${podName}" does not exist`);
    const inSpec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].some(
      (c) => c.name === containerName,
    );
    if (!inSpec) throw new HTTPError(404, `container "${containerName}" not found in pod "${podName}"`);
    const options = logOptionsFromQuery(q);
    const latest = opts.podStatus?.(pod.metadata?.uid ?? '');
    const id = containerIDForLogs(latest ? { ...pod, status: latest } : pod, containerName, options.previous);
    const status = (await opts.runtime.containerStatus(id)).status;
    if (!status?.logPath) throw new HTTPError(400, `failed to get container status ${JSON.stringify(id)}: not found`);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    let started = false;
    const out = (chunk: Buffer) => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' });
      }
      res.write(chunk);
    };
    const running = async () => {
      try {
        return (await opts.runtime.containerStatus(id)).status?.state === 'CONTAINER_RUNNING';
      } catch {
        return false;
      }
    };
    await readLogs(status.logPath, options, out, { running, signal: abort.signal });
    if (!started) res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' });
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const path = url.pathname;
    const denied = await admit(req, path);
    if (denied) return sendText(res, denied.code, denied.message);
    try {
      if (path === '/healthz') return sendText(res, 200, 'ok');
      if (path === '/pods' || path === '/pods/') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.pods() }));
        return;
      }
      if ((path === '/stats/summary' || path === '/stats/summary/') && opts.stats) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPError(405, `Method ${req.method} is not allowed`);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(opts.stats.summary()));
        return;
      }
      if (path === '/metrics/resource' && opts.stats) {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(opts.stats.resourceMetrics());
        return;
      }
      if (path.startsWith('/containerLogs/')) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPError(405, `Method ${req.method} is not allowed`);
        return await containerLogs(res, path, url.searchParams);
      }
      if (path.startsWith('/exec/') || path.startsWith('/attach/') || path.startsWith('/portForward/')) throw new HTTPError(400, 'Upgrade request required');
      sendText(res, 404, '404 page not found');
    } catch (err) {
      if (err instanceof HTTPError) return sendText(res, err.code, err.message);
      throw err;
    }
  };

  /** /exec and /attach: the runtime's streaming URL for the session, then the upgraded connection proxied to it. */
  const stream = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const denied = await admit(req, url.pathname);
    if (denied) return rejectUpgrade(socket, denied.code, denied.message);
    if (url.pathname.startsWith('/portForward/')) return await portForward(req, socket, head, url);
    const t = streamTarget(url.pathname);
    if (!t || (t.kind !== 'exec' && t.kind !== 'attach')) return rejectUpgrade(socket, 404, '404 page not found');
    const q = url.searchParams;
    const stdin = boolQuery(q, 'input') || boolQuery(q, 'stdin');
    const stdout = boolQuery(q, 'output') || boolQuery(q, 'stdout');
    const tty = boolQuery(q, 'tty');
    // With a TTY stderr goes to stdout (upstream bypasses stderr rather than refusing).
    const stderr = !tty && (boolQuery(q, 'error') || boolQuery(q, 'stderr'));
    if (!stdin && !stdout && !stderr) return rejectUpgrade(socket, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    const pod = findPod(t.namespace, t.pod, t.uid);
    if (!pod) return rejectUpgrade(socket, 404, `pod does not exist`);
    const containers = await opts.runtime.listContainers({
      state: { state: 'CONTAINER_RUNNING' },
      labelSelector: { 'io.kubernetes.pod.uid': pod.metadata?.uid ?? '', 'io.kubernetes.container.name': t.container },
    });
    const container = containers[0];
    if (!container) return rejectUpgrade(socket, 500, `container not found (${JSON.stringify(t.container)})`);
    let target: string;
    if (t.kind === 'exec') {
      const cmd = q.getAll('command');
      if (!cmd.length) return rejectUpgrade(socket, 400, 'you must specify a command');
      target = await opts.runtime.exec({ containerId: container.id, cmd, tty, stdin, stdout, stderr });
    } else {
      target = await opts.runtime.attach({ containerId: container.id, tty, stdin, stdout, stderr });
    }
    // The session's URL carries its token; the caller's credentials stay here.
    await proxyUpgrade(req, socket, head, new URL(target), { dropHeaders: ['authorization'] });
  };

  /** /portForward: the runtime's streaming URL for the pod's sandbox, then the upgraded connection proxied to it. */
  const portForward = async (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    const t = portForwardTarget(url.pathname);
    if (!t) return rejectUpgrade(socket, 404, '404 page not found');
    let ports: number[];
    try {
      ports = portForwardPorts(req, url.searchParams);
    } catch (err) {
      if (err instanceof HTTPError) return rejectUpgrade(socket, err.code, err.message);
      throw err;
    }
    const pod = findPod(t.namespace, t.pod, t.uid);
    if (!pod) return rejectUpgrade(socket, 404, 'pod does not exist');
    const sandboxes = await opts.runtime.listPodSandbox({
      state: { state: 'SANDBOX_READY' },
      labelSelector: { 'io.kubernetes.pod.uid': pod.metadata?.uid ?? '' },
    });
    const sandbox = sandboxes[0];
    if (!sandbox) return rejectUpgrade(socket, 500, `pod sandbox not found for pod "${t.pod}"`);
    const target = await opts.runtime.portForward(sandbox.id, ports);
    await proxyUpgrade(req, socket, head, new URL(target), { dropHeaders: ['authorization'] });
  };

  const server: Server = createServer(
    { cert: opts.certPem, key: opts.keyPem, ...(opts.clientCA ? { ca: opts.clientCA, requestCert: true } : {}), rejectUnauthorized: false },
    (req, res) => {
      handle(req, res).catch((err) => {
        log?.error({ err: (err as Error).message, path: req.url }, 'Request failed');
        sendText(res, 500, (err as Error).message);
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    stream(req, socket, head).catch((err) => {
      log?.warn({ err: (err as Error).message, path: req.url }, 'Streaming request failed');
      if (socket.writable) rejectUpgrade(socket, 500, (err as Error).message);
      else socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log?.info({ address: `${opts.address}:${(server.address() as AddressInfo).port}` }, 'Starting to listen (kubelet API)');
  return {
    port: () => (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
