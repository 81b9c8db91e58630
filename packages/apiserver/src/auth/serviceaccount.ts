// Service account tokens: the claims the apiserver signs into a TokenRequest's JWT, and their
// validation. A token names its service account (and, when bound, a pod, secret or node) by name and
// UID; it stops working when any of those is gone or has been replaced by a namesake.
import { randomUUID, type KeyObject } from 'node:crypto';
import { StatusError, type KubeObject } from '@kubelab/api';
import type { UserInfo } from './authn.js';
import { CRYPTO_FAILURE, decodeJwt, signJwt, verifyJwtSignature, type JwtClaims } from './jwt.js';
import { TokenRejected, type TokenAuthenticator, type TokenAuthResult } from './token.js';

export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';
export const ALL_SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
export const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
export const POD_UID_KEY = 'authentication.kubernetes.io/pod-uid';
export const NODE_NAME_KEY = 'authentication.kubernetes.io/node-name';
export const NODE_UID_KEY = 'authentication.kubernetes.io/node-uid';
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';
/** go-jose's clock skew allowance, also the grace after deletion of a bound object. */
export const LEEWAY_SECONDS = 60;

export function makeServiceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

export function serviceAccountGroups(namespace: string): string[] {
  return [ALL_SERVICE_ACCOUNTS_GROUP, `${ALL_SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `system:serviceaccount:NS:NAME` split into its parts, or undefined when the name is not one. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

interface Ref {
  name: string;
  uid: string;
}

/** The `kubernetes.io` private claim. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
}

export interface ClaimsInput {
  serviceAccount: KubeObject;
  pod?: KubeObject;
  secret?: KubeObject;
  node?: KubeObject;
  issuer: string;
  audiences: string[];
  expirationSeconds: number;
  now: Date;
  /** Defaults to a random UUID. */
  jti?: string;
}

const refOf = (o: KubeObject): Ref => ({ name: o.metadata.name ?? '', uid: o.metadata.uid ?? '' });

/** The claims of a service account token, in the order upstream's encoder writes them. */
export function serviceAccountClaims(input: ClaimsInput): JwtClaims {
  const now = Math.floor(input.now.getTime() / 1000);
  const sa = input.serviceAccount;
  const k8s: KubernetesClaims = { namespace: sa.metadata.namespace ?? '', serviceaccount: refOf(sa) };
  // Upstream's field order: namespace, node, pod, secret, serviceaccount.
  const ordered: Record<string, unknown> = { namespace: k8s.namespace };
  if (input.node) ordered.node = refOf(input.node);
  if (input.pod) ordered.pod = refOf(input.pod);
  else if (input.secret) ordered.secret = refOf(input.secret);
  ordered.serviceaccount = k8s.serviceaccount;
  return {
    aud: input.audiences,
    exp: now + input.expirationSeconds,
    iat: now,
    iss: input.issuer,
    jti: input.jti ?? randomUUID(),
    'kubernetes.io': ordered,
    nbf: now,
    sub: makeServiceAccountUsername(k8s.namespace, sa.metadata.name ?? ''),
  };
}

/** Signs service account tokens with --service-account-signing-key-file. */
export class ServiceAccountTokenIssuer {
  constructor(
    private readonly privateKey: KeyObject,
    readonly issuer: string,
  ) {}

  generate(claims: JwtClaims): string {
    return signJwt(claims, this.privateKey);
  }
}

/** Reads the objects a token refers to; each throws upstream's NotFound StatusError when absent. */
export interface TokenObjectGetter {
  getServiceAccount(namespace: string, name: string): Promise<KubeObject>;
  getPod(namespace: string, name: string): Promise<KubeObject>;
  getSecret(namespace: string, name: string): Promise<KubeObject>;
  getNode(name: string): Promise<KubeObject>;
}

/** Who a valid token speaks for. */
export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  uid: string;
  podName?: string;
  podUID?: string;
  nodeName?: string;
  nodeUID?: string;
  credentialID?: string;
}

export function serviceAccountUser(sa: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {};
  if (sa.podName && sa.podUID) {
    extra[POD_NAME_KEY] = [sa.podName];
    extra[POD_UID_KEY] = [sa.podUID];
  }
  if (sa.credentialID) extra[CREDENTIAL_ID_KEY] = [sa.credentialID];
  if (sa.nodeName) {
    extra[NODE_NAME_KEY] = [sa.nodeName];
    if (sa.nodeUID) extra[NODE_UID_KEY] = [sa.nodeUID];
  }
  const user: UserInfo = { name: makeServiceAccountUsername(sa.namespace, sa.name), uid: sa.uid, groups: serviceAccountGroups(sa.namespace) };
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}

const isRef = (r: unknown): r is Ref => !!r && typeof r === 'object' && typeof (r as Ref).name === 'string';
const deletedBefore = (o: KubeObject, cutoffMs: number) => !!o.metadata.deletionTimestamp && Date.parse(o.metadata.deletionTimestamp) < cutoffMs;

async function lookup(get: () => Promise<KubeObject>): Promise<KubeObject | undefined> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

const INVALIDATED = 'service account token has been invalidated';

/**
 * Checks time claims and that the referenced objects still exist with the same UIDs (upstream's
 * serviceaccount validator). Throws TokenRejected with upstream's message.
 */
export async function validateServiceAccountClaims(claims: JwtClaims, getter: TokenObjectGetter, now: Date): Promise<ServiceAccountInfo> {
  const k8s = claims['kubernetes.io'] as Partial<KubernetesClaims> | undefined;
  if (!k8s || typeof k8s !== 'object' || typeof k8s.namespace !== 'string' || !isRef(k8s.serviceaccount)) {
    throw new TokenRejected('service account token claims could not be validated due to unexpected private claim');
  }
  const nowSec = now.getTime() / 1000;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  if ((claims.exp !== undefined && num(claims.exp) === undefined) || (claims.nbf !== undefined && num(claims.nbf) === undefined) || (claims.iat !== undefined && num(claims.iat) === undefined)) {
    throw new TokenRejected('service account token claims could not be validated due to unexpected validation error');
  }
  if (claims.exp !== undefined && nowSec - LEEWAY_SECONDS > (claims.exp as number)) throw new TokenRejected('service account token has expired');
  if (claims.nbf !== undefined && nowSec + LEEWAY_SECONDS < (claims.nbf as number)) throw new TokenRejected('service account token is not valid yet');
  if (claims.iat !== undefined && nowSec + LEEWAY_SECONDS < (claims.iat as number)) {
    throw new TokenRejected('service account token claims could not be validated due to unexpected validation error');
  }

  const cutoff = now.getTime() - LEEWAY_SECONDS * 1000;
  const ns = k8s.namespace;
  const saRef = k8s.serviceaccount;
  let sa: KubeObject;
  try {
    sa = await getter.getServiceAccount(ns, saRef.name);
  } catch (err) {
    throw new TokenRejected((err as Error).message);
  }
  if (deletedBefore(sa, cutoff)) throw new TokenRejected(`service account ${ns}/${saRef.name} has been deleted`);
  if ((sa.metadata.uid ?? '') !== saRef.uid) throw new TokenRejected(`service account UID (${sa.metadata.uid ?? ''}) does not match claim (${saRef.uid})`);

  if (isRef(k8s.secret)) {
    const secret = await lookup(() => getter.getSecret(ns, k8s.secret!.name));
    if (!secret || deletedBefore(secret, cutoff)) throw new TokenRejected(INVALIDATED);
    if (k8s.secret.uid !== (secret.metadata.uid ?? '')) {
      throw new TokenRejected(`secret UID (${secret.metadata.uid ?? ''}) does not match service account secret ref claim (${k8s.secret.uid})`);
    }
  }

  const info: ServiceAccountInfo = { namespace: ns, name: saRef.name, uid: saRef.uid };
  if (isRef(k8s.pod)) {
    const pod = await lookup(() => getter.getPod(ns, k8s.pod!.name));
    if (!pod || deletedBefore(pod, cutoff)) throw new TokenRejected(INVALIDATED);
    if (k8s.pod.uid !== (pod.metadata.uid ?? '')) {
      throw new TokenRejected(`pod UID (${pod.metadata.uid ?? ''}) does not match service account pod ref claim (${k8s.pod.uid})`);
    }
    info.podName = k8s.pod.name;
    info.podUID = k8s.pod.uid;
  }

  if (isRef(k8s.node)) {
    if (isRef(k8s.pod)) {
      // A pod-bound token carries its node for information only.
      info.nodeName = k8s.node.name;
      info.nodeUID = k8s.node.uid;
    } else {
      const node = await lookup(() => getter.getNode(k8s.node!.name));
      if (!node || deletedBefore(node, cutoff)) throw new TokenRejected(INVALIDATED);
      if (k8s.node.uid !== (node.metadata.uid ?? '')) {
        throw new TokenRejected(`node UID (${node.metadata.uid ?? ''}) does not match service account node ref claim (${k8s.node.uid})`);
      }
      info.nodeName = k8s.node.name;
      info.nodeUID = k8s.node.uid;
    }
  }
  if (typeof claims.jti === 'string' && claims.jti) info.credentialID = `JTI=${claims.jti}`;
  return info;
}

/** Go's %q of a string slice: `["a" "b"]`. */
export const goQuoteList = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

export interface ServiceAccountAuthenticatorOptions {
  /** Accepted `iss` values; tokens from other issuers are not this authenticator's. */
  issuers: string[];
  /** --service-account-key-file public keys. */
  keys: KeyObject[];
  /** --api-audiences. */
  implicitAudiences: string[];
  getter: TokenObjectGetter;
  clock: () => Date;
}

/** Authenticates service account JWTs (upstream's jwtTokenAuthenticator). */
export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly opts: ServiceAccountAuthenticatorOptions) {}

  async authenticateToken(token: string, audiences?: string[]): Promise<TokenAuthResult | undefined> {
    const jwt = decodeJwt(token);
    if (!jwt || typeof jwt.claims.iss !== 'string' || !this.opts.issuers.includes(jwt.claims.iss)) return undefined;
    if (!verifyJwtSignature(jwt, this.opts.keys)) {
      // One "cryptographic primitive" error per key tried, aggregated as upstream prints them.
      const n = Math.max(this.opts.keys.length, 1);
      throw new TokenRejected(n === 1 ? CRYPTO_FAILURE : `[${Array(n).fill(CRYPTO_FAILURE).join(', ')}]`);
    }
    const aud = jwt.claims.aud;
    let tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (!tokenAudiences.length) tokenAudiences = this.opts.implicitAudiences;
    const requested = audiences ?? this.opts.implicitAudiences;
    const accepted = tokenAudiences.filter((a) => requested.includes(a));
    if (!accepted.length && this.opts.implicitAudiences.length) {
      throw new TokenRejected(`token audiences ${goQuoteList(tokenAudiences)} is invalid for the target audiences ${goQuoteList(requested)}`);
    }
    const info = await validateServiceAccountClaims(jwt.claims, this.opts.getter, this.opts.clock());
    return { user: serviceAccountUser(info), audiences: accepted };
  }
}
