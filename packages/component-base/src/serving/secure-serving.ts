// The HTTPS port of a component (kube-scheduler :10259, kube-controller-manager :10257): TLS with the
// given or a self-signed serving certificate, then upstream's filter order: authenticate (client
// certificate against the client CA, bearer token by TokenReview, else system:anonymous), authorize
// (always-allowed paths, then a SubjectAccessReview for the non-resource path), then the handler.
import https from 'node:https';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../logger.js';
import { createCA, issueCertificate } from '../pki/pki.js';
import { ANONYMOUS_USER, verbForMethod, type ServingAuthorizer, type ServingUser, type TokenAuthenticator } from './delegating.js';

/** Upstream's --authorization-always-allow-paths default for kube-scheduler and kube-controller-manager. */
export const DEFAULT_ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];

export interface SecureServingOptions {
  bindAddress: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM serving certificate (chain) and key (--tls-cert-file, --tls-private-key-file); self-signed for localhost when absent. */
  certPem?: string;
  keyPem?: string;
  /** PEM bundle that client certificates must chain to (--client-ca-file); without it client certificates are ignored. */
  clientCA?: string;
  /** Bearer tokens (usually a TokenReviewAuthenticator); without it bearer tokens get 401. */
  authenticator?: TokenAuthenticator;
  /** Decides what authenticated callers may do (usually a SubjectAccessReviewAuthorizer). Without it only always-allowed paths are served. */
  authorizer?: ServingAuthorizer;
  /** Paths anyone may reach, even anonymously (--authorization-always-allow-paths); a trailing `*` matches a prefix. */
  alwaysAllowPaths?: string[];
  /** Handlers by exact path; anything else is 404. */
  handlers: Record<string, RequestListener>;
  logger?: Logger;
  /** Host names / IPs for the self-signed certificate. */
  selfSignedHosts?: { dnsNames: string[]; ipAddresses: string[] };
}

export interface SecureServer {
  readonly server: https.Server;
  /** The bound port. */
  port(): number;
  close(): Promise<void>;
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: code === 403 ? {} : undefined, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function pathMatches(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : p === path));
}

/** CN is the user, each O a group (upstream's CommonNameUserConversion). */
export function userFromCertificate(socket: TLSSocket): ServingUser | undefined {
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return undefined;
  const cn = cert.subject.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = cert.subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups: [...groups, 'system:authenticated'] };
}

/** Starts listening; resolves once bound. */
export async function createSecureServer(opts: SecureServingOptions): Promise<SecureServer> {
  let cert = opts.certPem;
  let key = opts.keyPem;
  if (!cert || !key) {
    const hosts = opts.selfSignedHosts ?? { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
    const ca = await createCA({ commonName: `localhost-ca@${Math.floor(Date.now() / 1000)}` });
    const leaf = await issueCertificate(ca, { commonName: `localhost@${Math.floor(Date.now() / 1000)}`, ...hosts, usage: 'server' });
    cert = leaf.certPem + ca.certPem;
    key = leaf.keyPem;
  }
  const allow = opts.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS;
  const log = opts.logger;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    // Authentication: a verified client certificate first, then a bearer token, else anonymous.
    let user = opts.clientCA ? userFromCertificate(req.socket as TLSSocket) : undefined;
    if (!user) {
      const auth = req.headers.authorization;
      const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
      if (m) {
        try {
          user = opts.authenticator ? await opts.authenticator.authenticateToken(m[1]!) : undefined;
        } catch (err) {
          log?.warn({ err: (err as Error).message }, 'Unable to authenticate the request');
          user = undefined;
        }
        if (!user) return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      } else {
        user = ANONYMOUS_USER;
      }
    }
    // Authorization.
    const verb = verbForMethod(req.method);
    if (!pathMatches(path, allow)) {
      let decision = { allowed: false, reason: '' };
      if (opts.authorizer) {
        try {
          decision = await opts.authorizer.authorize({ user, verb, path });
        } catch (err) {
          log?.warn({ err: (err as Error).message }, 'Authorization error');
          return sendStatus(res, 500, 'InternalError', `Internal Server Error: ${JSON.stringify(path)}: ${(err as Error).message}`);
        }
      }
      if (!decision.allowed) {
        const msg = `User ${JSON.stringify(user.name)} cannot ${verb} path ${JSON.stringify(path)}`;
        return sendStatus(res, 403, 'Forbidden', `forbidden: ${decision.reason ? `${msg}: ${decision.reason}` : msg}`);
      }
    }
    const h = opts.handlers[path];
    if (!h) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    await h(req, res);
  };

  const server = https.createServer(
    { cert, key, ...(opts.clientCA ? { ca: opts.clientCA } : {}), requestCert: !!opts.clientCA, rejectUnauthorized: false },
    (req, res) => {
      handle(req, res).catch((err) => {
        log?.error({ err }, 'Request failed');
        if (!res.headersSent) sendStatus(res, 500, 'InternalError', 'Internal Server Error');
        else res.destroy();
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log?.info({ address: `${opts.bindAddress}:${(server.address() as AddressInfo).port}` }, 'Serving securely');
  return {
    server,
    port: () => (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A plain-text "ok" for /healthz, /livez and /readyz. */
export const okHandler: RequestListener = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('ok');
};
