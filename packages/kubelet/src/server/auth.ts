// Counterpart of pkg/kubelet/server/auth.go and cmd/kubelet's BuildAuth: who calls the kubelet's API (a client
// certificate from --client-ca-file, a bearer token checked by TokenReview with --authentication-token-webhook,
// else system:anonymous when --anonymous-auth) and what they may do (--authorization-mode=Webhook: a
// SubjectAccessReview for the node resource, subresource proxy, log, stats or metrics by path; AlwaysAllow).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ANONYMOUS_USER, userFromCertificate, verbForMethod, type ReviewPoster, type ServingUser, type TokenAuthenticator } from '@kubelab/component-base';

/** The attributes of a request to the kubelet, as upstream's GetRequestAttributes makes them. */
export interface KubeletRequestAttributes {
  user: ServingUser;
  verb: string;
  /** Always the node itself: resource nodes, name the node's. */
  name: string;
  subresource: 'proxy' | 'log' | 'stats' | 'metrics' | 'checkpoint';
  path: string;
}

const isSubpath = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** Upstream's mapping of a path to the node subresource checked: /stats, /metrics, /logs, /checkpoint, else proxy. */
export function requestAttributes(user: ServingUser, nodeName: string, method: string | undefined, path: string): KubeletRequestAttributes {
  let subresource: KubeletRequestAttributes['subresource'] = 'proxy';
  if (isSubpath(path, '/stats')) subresource = 'stats';
  else if (isSubpath(path, '/metrics')) subresource = 'metrics';
  else if (isSubpath(path, '/logs')) subresource = 'log';
  else if (isSubpath(path, '/checkpoint')) subresource = 'checkpoint';
  return { user, verb: verbForMethod(method), name: nodeName, subresource, path };
}

export interface KubeletAuthorizer {
  authorize(attrs: KubeletRequestAttributes): Promise<{ allowed: boolean; reason: string }>;
}

/** Everything allowed (--authorization-mode=AlwaysAllow, upstream's default without a config file). */
export const alwaysAllow: KubeletAuthorizer = { authorize: async () => ({ allowed: true, reason: '' }) };

/** --authorization-mode=Webhook: a SubjectAccessReview with the node's resource attributes, answers cached (upstream: 5 m allowed, 30 s denied). */
export class WebhookKubeletAuthorizer implements KubeletAuthorizer {
  private readonly cache = new Map<string, { allowed: boolean; reason: string; expires: number }>();
  constructor(
    private readonly post: ReviewPoster,
    private readonly opts: { allowTTLMs?: number; denyTTLMs?: number; now?: () => number; maxEntries?: number } = {},
  ) {}

  async authorize(attrs: KubeletRequestAttributes): Promise<{ allowed: boolean; reason: string }> {
    const now = (this.opts.now ?? Date.now)();
    const spec: Record<string, unknown> = {
      user: attrs.user.name,
      groups: attrs.user.groups,
      resourceAttributes: { namespace: '', verb: attrs.verb, group: '', version: 'v1', resource: 'nodes', subresource: attrs.subresource, name: attrs.name },
    };
    if (attrs.user.uid) spec.uid = attrs.user.uid;
    if (attrs.user.extra) spec.extra = attrs.user.extra;
    const key = JSON.stringify(spec);
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return { allowed: hit.allowed, reason: hit.reason };
    const review = (await this.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    })) as { status?: { allowed?: boolean; denied?: boolean; reason?: string } };
    const st = review?.status ?? {};
    const decision = { allowed: !!st.allowed && !st.denied, reason: st.reason ?? '' };
    const ttl = decision.allowed ? (this.opts.allowTTLMs ?? 5 * 60_000) : (this.opts.denyTTLMs ?? 30_000);
    if (this.cache.size >= (this.opts.maxEntries ?? 1024)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { ...decision, expires: now + ttl });
    return decision;
  }
}

export interface KubeletAuthenticationOptions {
  /** --client-ca-file given: verified client certificates authenticate. */
  clientCertificates: boolean;
  /** --authentication-token-webhook: bearer tokens by TokenReview. */
  tokens?: TokenAuthenticator;
  /** --anonymous-auth. */
  anonymous: boolean;
}

/** The caller of a request, or undefined (401). Throws when a token review itself fails. */
export async function authenticate(req: IncomingMessage, opts: KubeletAuthenticationOptions): Promise<ServingUser | undefined> {
  if (opts.clientCertificates) {
    const user = userFromCertificate(req.socket as TLSSocket);
    if (user) return user;
  }
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  if (m && opts.tokens) {
    const user = await opts.tokens.authenticateToken(m[1]!);
    if (user) return user;
    return undefined;
  }
  return opts.anonymous ? ANONYMOUS_USER : undefined;
}

/** Upstream's text for a refused request. */
export function forbiddenMessage(a: KubeletRequestAttributes): string {
  return `Forbidden (user=${a.user.name}, verb=${a.verb}, resource=nodes, subresource=${a.subresource})`;
}
