// Bearer token authentication: token authenticators (static file, service account JWTs, bootstrap
// tokens) behind one union, and the request authenticator that reads `Authorization: Bearer`.
// As upstream, a token nobody recognises, or one an authenticator rejects, is an error (401) even
// when anonymous requests are allowed.
import { unauthorized } from '@kubelab/api';
import type { Authenticator, UserInfo } from './authn.js';

export const AUTHENTICATED_GROUP = 'system:authenticated';

export interface TokenAuthResult {
  user: UserInfo;
  /** The audiences the token was accepted for. */
  audiences: string[];
}

/**
 * Authenticates one token. Returns undefined when the token is not this authenticator's to judge, and
 * throws a TokenRejected when it is but it is not valid (expired, revoked, wrong audience, ...).
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences?: string[]): Promise<TokenAuthResult | undefined>;
}

/** A token an authenticator recognised and refused; the message is safe to show (TokenReview.status.error). */
export class TokenRejected extends Error {}

/** Upstream's message when no authenticator recognised a bearer token. */
export const INVALID_BEARER_TOKEN = 'invalid bearer token';

export type TokenOutcome = { ok: true; result: TokenAuthResult } | { ok: false; error: string };

/** Adds system:authenticated unless present (upstream's AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/** Tries each authenticator in order; the first success wins, otherwise the collected errors. */
export class UnionTokenAuthenticator {
  constructor(private readonly authenticators: TokenAuthenticator[]) {}

  get size(): number {
    return this.authenticators.length;
  }

  async authenticate(token: string, audiences?: string[]): Promise<TokenOutcome> {
    const errors: string[] = [];
    for (const a of this.authenticators) {
      try {
        const r = await a.authenticateToken(token, audiences);
        if (r) return { ok: true, result: { ...r, user: withAuthenticatedGroup(r.user) } };
      } catch (err) {
        errors.push(err instanceof TokenRejected ? err.message : `${(err as Error).message ?? err}`);
      }
    }
    if (!errors.length) return { ok: false, error: INVALID_BEARER_TOKEN };
    return { ok: false, error: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` };
  }
}

/** The bearer token of an Authorization header, or undefined (upstream: `Bearer <token>`, case-insensitive scheme). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const parts = value.split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return undefined;
  return parts[1] || undefined;
}

/**
 * The request authenticator for bearer tokens. A request without one is not its business; a request
 * whose token is refused gets 401 Unauthorized.
 */
export class BearerTokenAuthenticator implements Authenticator {
  constructor(
    private readonly tokens: UnionTokenAuthenticator,
    private readonly apiAudiences: string[],
    private readonly onRejected?: (error: string) => void,
  ) {}

  async authenticate(req: { headers: Record<string, string | string[] | undefined> }): Promise<UserInfo | undefined> {
    const token = bearerToken(req.headers.authorization);
    if (!token) return undefined;
    const outcome = await this.tokens.authenticate(token, this.apiAudiences.length ? this.apiAudiences : undefined);
    if (outcome.ok) return outcome.result.user;
    this.onRejected?.(outcome.error);
    throw unauthorized();
  }
}

/**
 * Upstream's audience-agnostic wrapper for token sources that carry no audience (token file, bootstrap
 * tokens): they are valid for the server's own audiences only.
 */
export function audienceAgnostic(implicit: string[], requested: string[] | undefined): string[] | undefined {
  if (!requested) return implicit;
  const both = implicit.filter((a) => requested.includes(a));
  return both.length ? both : undefined;
}
