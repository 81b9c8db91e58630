// Authentication and authorization slots of the request pipeline. Today: x509 client certificates
// (CN = user, O = groups) and anonymous; authorization AlwaysAllow. Tokens, RBAC and Node
// authorization plug in here (see the security issue).
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { unauthorized } from '@kubelab/api';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface Authenticator {
  /**
   * Returns the user, or undefined when this authenticator has nothing to say about the request; throws
   * (401) when the request carries credentials of its kind that are not valid.
   */
  authenticate(req: { socket: unknown; headers: Record<string, string | string[] | undefined> }): Promise<UserInfo | undefined>;
}

/** Why a presented client certificate was refused (logged; the client only sees 401 Unauthorized). */
interface Verified {
  user: UserInfo;
  subject: string;
  notBefore: number;
  notAfter: number;
}

export type X509RejectionHandler = (reason: string, subject: string) => void;

/**
 * Client certificates, verified by the TLS layer against --client-ca-file (chain, validity period, and
 * the clientAuth extended key usage). As upstream's x509 authenticator: no certificate is not its
 * business, a certificate that fails verification (another CA, expired, not yet valid, server-only) is
 * an error (401), not anonymous. The identity is fixed for the life of a TLS connection, so it is
 * worked out once per connection; the validity period is checked on every request, as upstream verifies
 * each request at the current time: a keep-alive connection does not outlive its certificate.
 */
export class X509Authenticator implements Authenticator {
  private readonly byConnection = new WeakMap<object, Verified | string | null>();

  constructor(
    private readonly onRejected?: X509RejectionHandler,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(req: { socket: unknown }): Promise<UserInfo | undefined> {
    const socket = req.socket as TLSSocket;
    if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined;
    let known = this.byConnection.get(socket);
    if (known === undefined) {
      known = this.verify(socket);
      this.byConnection.set(socket, known);
    }
    if (typeof known === 'string') throw unauthorized();
    if (!known) return undefined;
    const now = this.now();
    if (now > known.notAfter || now < known.notBefore) {
      this.onRejected?.('x509: certificate has expired or is not yet valid', known.subject);
      throw unauthorized();
    }
    return known.user;
  }

  /** The user, null when no certificate was presented (or it names nobody), or why it was refused. */
  private verify(socket: TLSSocket): Verified | string | null {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return null;
    const subject = `CN=${cert.subject?.CN ?? ''}, serial=${cert.serialNumber ?? ''}`;
    if (!socket.authorized) {
      const reason = String(socket.authorizationError ?? 'certificate verification failed');
      this.onRejected?.(reason, subject);
      return reason;
    }
    const user = this.fromCertificate(cert);
    return user ? { user, subject, notBefore: Date.parse(cert.valid_from), notAfter: Date.parse(cert.valid_to) } : null;
  }

  private fromCertificate(cert: PeerCertificate): UserInfo | undefined {
    if (!cert.subject) return undefined;
    const cn = cert.subject.CN;
    const o = cert.subject.O;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (!name) return undefined;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    return { name, groups: [...groups, 'system:authenticated'] };
  }
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<Decision>;
}

export class AlwaysAllow implements Authorizer {
  async authorize(): Promise<Decision> {
    return { allowed: true };
  }
}
