// Bootstrap tokens (--enable-bootstrap-token-auth): `<id>.<secret>` checked against the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A node joining the cluster
// authenticates with one as system:bootstrap:<id>, in group system:bootstrappers.
import { timingSafeEqual } from 'node:crypto';
import { StatusError, type KubeObject } from '@kubelab/api';
import type { UserInfo } from './authn.js';
import { audienceAgnostic, type TokenAuthenticator, type TokenAuthResult } from './token.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/** A Secret's value: `data` is base64, `stringData` (if the server kept it) is plain. */
export function secretValue(secret: KubeObject, key: string): string {
  const data = secret.data as Record<string, string> | undefined;
  if (data && typeof data[key] === 'string') return Buffer.from(data[key], 'base64').toString('utf8');
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData && typeof stringData[key] === 'string') return stringData[key];
  return '';
}

/** The groups a token's Secret grants: system:bootstrappers plus auth-extra-groups, sorted and deduplicated. */
export function bootstrapGroups(secret: KubeObject): string[] {
  const groups = new Set([BOOTSTRAP_DEFAULT_GROUP]);
  const extra = secretValue(secret, 'auth-extra-groups');
  if (extra) {
    for (const g of extra.split(',')) {
      if (!BOOTSTRAP_GROUP_PATTERN.test(g)) throw new Error(`bootstrap group ${JSON.stringify(g)} is invalid (must match ${BOOTSTRAP_GROUP_PATTERN.source})`);
      groups.add(g);
    }
  }
  return [...groups].sort();
}

export type BootstrapCheck = { ok: true; user: UserInfo } | { ok: false; reason: string };

/**
 * Whether `secret` vouches for the token `<id>.<tokenSecret>` at `now`. Reasons are for the log only:
 * upstream answers a failed bootstrap token like an unknown one.
 */
export function checkBootstrapToken(secret: KubeObject, tokenId: string, tokenSecret: string, now: Date): BootstrapCheck {
  if (secret.metadata.deletionTimestamp) return { ok: false, reason: 'is deleted and awaiting removal' };
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || (!secret.data && !secret.stringData)) {
    return { ok: false, reason: `has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}.` };
  }
  const stored = Buffer.from(secretValue(secret, 'token-secret'));
  const given = Buffer.from(tokenSecret);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return { ok: false, reason: 'has invalid value for key token-secret.' };
  if (secretValue(secret, 'token-id') !== tokenId) return { ok: false, reason: 'has invalid value for key token-id.' };
  const expiration = secretValue(secret, 'expiration');
  if (expiration) {
    const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(expiration) ? Date.parse(expiration) : NaN;
    if (Number.isNaN(at) || now.getTime() > at) return { ok: false, reason: 'has expired.' };
  }
  if (secretValue(secret, 'usage-bootstrap-authentication') !== 'true') return { ok: false, reason: 'not marked usage-bootstrap-authentication=true.' };
  let groups: string[];
  try {
    groups = bootstrapGroups(secret);
  } catch (err) {
    return { ok: false, reason: `has invalid value for key auth-extra-groups: ${(err as Error).message}.` };
  }
  return { ok: true, user: { name: `${BOOTSTRAP_USER_PREFIX}${tokenId}`, groups } };
}

export interface BootstrapTokenAuthenticatorOptions {
  getSecret(namespace: string, name: string): Promise<KubeObject>;
  implicitAudiences: string[];
  clock: () => Date;
  log?: (msg: string) => void;
}

export class BootstrapTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly opts: BootstrapTokenAuthenticatorOptions) {}

  async authenticateToken(token: string, audiences?: string[]): Promise<TokenAuthResult | undefined> {
    const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
    if (!m) return undefined;
    const auds = audienceAgnostic(this.opts.implicitAudiences, audiences);
    if (!auds) return undefined;
    const [, id, tokenSecret] = m as unknown as [string, string, string];
    const name = `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;
    let secret: KubeObject;
    try {
      secret = await this.opts.getSecret('kube-system', name);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') {
        this.opts.log?.(`No secret of name ${name} to match bootstrap bearer token`);
        return undefined;
      }
      throw err;
    }
    const check = checkBootstrapToken(secret, id, tokenSecret, this.opts.clock());
    if (!check.ok) {
      this.opts.log?.(`Bootstrap secret kube-system/${name} ${check.reason}`);
      return undefined;
    }
    return { user: check.user, audiences: auds };
  }
}
