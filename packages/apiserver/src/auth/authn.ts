// Authentication and authorization slots of the request pipeline. Today: x509 client certificates
// (CN = user, O = groups) and anonymous; authorization AlwaysAllow. Tokens, RBAC and Node
// authorization plug in here (see the security issue).
import type { TLSSocket } from 'node:tls';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface Authenticator {
  /** Returns the user, or undefined when this authenticator has nothing to say about the request. */
  authenticate(req: { socket: unknown; headers: Record<string, string | string[] | undefined> }): Promise<UserInfo | undefined>;
}

/**
 * Verified client certificates (the TLS layer checked them against --client-ca-file). The identity is
 * fixed for the life of a TLS connection, so it is worked out once per connection.
 */
export class X509Authenticator implements Authenticator {
  private readonly byConnection = new WeakMap<object, UserInfo | null>();

  async authenticate(req: { socket: unknown }): Promise<UserInfo | undefined> {
    const socket = req.socket as TLSSocket;
    if (!socket || typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
    const known = this.byConnection.get(socket);
    if (known !== undefined) return known ?? undefined;
    const user = this.fromCertificate(socket);
    this.byConnection.set(socket, user ?? null);
    return user;
  }

  private fromCertificate(socket: TLSSocket): UserInfo | undefined {
    const cert = socket.getPeerCertificate();
    if (!cert || !cert.subject) return undefined;
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
