// Delegated authentication and authorization for components' secure ports (upstream's
// k8s.io/apiserver/pkg/authentication/authenticatorfactory and authorization/authorizerfactory
// "delegating" configs): bearer tokens are checked with a TokenReview, decisions come from a
// SubjectAccessReview, both answered by the kube-apiserver and cached for a short while. The reviews
// go through an API client of their own (own rate limiter), so a component whose main client is
// throttled still answers /metrics and other authenticated requests.
import { createHash, randomBytes } from 'node:crypto';

/**
 * The API client settings of upstream's delegating authn/authz clientset: high limits of its own,
 * since they bound how fast the secure port can answer, and a timeout per review (webhook's 10s).
 */
export const DELEGATED_AUTH_CLIENT = Object.freeze({ qps: 200, burst: 400 });
export const DELEGATED_AUTH_TIMEOUT_MS = 10_000;

/** The identity a request carries. */
export interface ServingUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS_USER: ServingUser = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** POSTs a review object to the kube-apiserver (e.g. `(path, body) => client.request({ method: 'POST', path, body })`). */
export type ReviewPoster = (path: string, body: object) => Promise<unknown>;

export interface TokenAuthenticator {
  /** The user a bearer token stands for, or undefined when it is not valid. Throws when the check itself failed. */
  authenticateToken(token: string): Promise<ServingUser | undefined>;
}

export interface RequestAttributes {
  user: ServingUser;
  verb: string;
  path: string;
}

export interface ServingAuthorizer {
  authorize(attrs: RequestAttributes): Promise<{ allowed: boolean; reason: string }>;
}

interface Cached<T> {
  value: T;
  expires: number;
}

class TTLCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  /** Reviews being asked now: concurrent requests with the same key share one. */
  private readonly inFlight = new Map<string, Promise<T>>();
  constructor(
    private readonly now: () => number,
    private readonly max = 1024,
  ) {}

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: T, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
  }

  /** A cached value, else the one a review already in flight for the key gets, else `fetch`'s. */
  async getOrFetch(key: string, fetch: () => Promise<{ value: T; ttlMs: number }>): Promise<T> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = fetch().then(({ value, ttlMs }) => {
      this.set(key, value, ttlMs);
      return value;
    });
    this.inFlight.set(key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Upstream's webhook token authenticator against authentication.k8s.io/v1 TokenReview (cache TTL 10s). */
export class TokenReviewAuthenticator implements TokenAuthenticator {
  private readonly post: ReviewPoster;
  private readonly ttlMs: number;
  private readonly audiences?: string[];
  private readonly cache: TTLCache<ServingUser | null>;
  /** Tokens are cached by a salted hash, never kept as they are (as upstream's cached token authenticator). */
  private readonly salt = randomBytes(16);

  constructor(opts: { post: ReviewPoster; cacheTTLMs?: number; audiences?: string[]; now?: () => number }) {
    this.post = opts.post;
    this.ttlMs = opts.cacheTTLMs ?? 10_000;
    this.audiences = opts.audiences;
    this.cache = new TTLCache(opts.now ?? Date.now);
  }

  async authenticateToken(token: string): Promise<ServingUser | undefined> {
    const key = createHash('sha256').update(this.salt).update(token).digest('base64');
    const user = await this.cache.getOrFetch(key, async () => ({ value: await this.review(token), ttlMs: this.ttlMs }));
    return user ?? undefined;
  }

  private async review(token: string): Promise<ServingUser | null> {
    const review = (await this.post('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(this.audiences ? { audiences: this.audiences } : {}) },
    })) as { status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } } };
    const st = review?.status;
    let user: ServingUser | null = null;
    if (st?.authenticated && st.user?.username) {
      user = { name: st.user.username, groups: st.user.groups ?? [] };
      if (st.user.uid) user.uid = st.user.uid;
      if (st.user.extra && Object.keys(st.user.extra).length) user.extra = st.user.extra;
    }
    return user;
  }
}

/** Upstream's webhook authorizer against authorization.k8s.io/v1 SubjectAccessReview (allowed 10s, denied 10s). */
export class SubjectAccessReviewAuthorizer implements ServingAuthorizer {
  private readonly post: ReviewPoster;
  private readonly allowTTLMs: number;
  private readonly denyTTLMs: number;
  private readonly cache: TTLCache<{ allowed: boolean; reason: string }>;

  constructor(opts: { post: ReviewPoster; allowCacheTTLMs?: number; denyCacheTTLMs?: number; now?: () => number }) {
    this.post = opts.post;
    this.allowTTLMs = opts.allowCacheTTLMs ?? 10_000;
    this.denyTTLMs = opts.denyCacheTTLMs ?? 10_000;
    this.cache = new TTLCache(opts.now ?? Date.now);
  }

  async authorize(attrs: RequestAttributes): Promise<{ allowed: boolean; reason: string }> {
    const spec: Record<string, unknown> = {
      user: attrs.user.name,
      groups: attrs.user.groups,
      nonResourceAttributes: { path: attrs.path, verb: attrs.verb },
    };
    if (attrs.user.uid) spec.uid = attrs.user.uid;
    if (attrs.user.extra) spec.extra = attrs.user.extra;
    return this.cache.getOrFetch(JSON.stringify(spec), async () => {
      const review = (await this.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec,
      })) as { status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } };
      const st = review?.status ?? {};
      const value = { allowed: !!st.allowed && !st.denied, reason: st.reason ?? '' };
      return { value, ttlMs: value.allowed ? this.allowTTLMs : this.denyTTLMs };
    });
  }
}

/**
 * A secure port's delegated authenticator and authorizer (system:masters always allowed), both asking
 * through `post`, which should use the component's delegated-auth client (DELEGATED_AUTH_CLIENT), not
 * its main one.
 */
export function delegatingAuth(post: ReviewPoster): { authenticator: TokenAuthenticator; authorizer: ServingAuthorizer } {
  return { authenticator: new TokenReviewAuthenticator({ post }), authorizer: withPrivilegedGroups(new SubjectAccessReviewAuthorizer({ post })) };
}

/** Lets some groups in without asking (upstream's --authorization-always-allow... system:masters), else asks `next`. */
export function withPrivilegedGroups(next: ServingAuthorizer, groups: readonly string[] = ['system:masters']): ServingAuthorizer {
  return {
    async authorize(attrs) {
      if (attrs.user.groups.some((g) => groups.includes(g))) return { allowed: true, reason: '' };
      return next.authorize(attrs);
    },
  };
}

/**
 * The SubjectAccessReview verb for an HTTP method (upstream's request info for non-resource paths, and the kubelet's
 * authorizer attributes): POST create, GET and HEAD get, PUT update, PATCH patch, DELETE delete, others lowercased.
 */
export function verbForMethod(method: string | undefined): string {
  const m = (method ?? 'GET').toUpperCase();
  switch (m) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return m.toLowerCase();
  }
}
