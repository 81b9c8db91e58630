import { describe, expect, it } from 'vitest';
import { notFound, type KubeObject } from '@kubelab/api';
import { BootstrapTokenAuthenticator, checkBootstrapToken } from './bootstrap-token.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const NOW = new Date('2025-01-01T00:00:00Z');
const secret = (data: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system', uid: 'u' },
  type: 'bootstrap.kubernetes.io/token',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  ...extra,
});
const good = { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' };

describe('bootstrap token checks', () => {
  it('accepts a valid token as system:bootstrap:<id> with sorted, deduplicated groups', () => {
    const s = secret({ ...good, 'auth-extra-groups': 'system:bootstrappers:worker,system:bootstrappers:kubeadm:default-node-token', expiration: '2025-01-02T00:00:00Z' });
    expect(checkBootstrapToken(s, 'abcdef', '0123456789abcdef', NOW)).toEqual({
      ok: true,
      user: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:bootstrappers:worker'] },
    });
  });

  it.each([
    ['a wrong secret', secret(good), '0123456789abcdeX'],
    ['an expired token', secret({ ...good, expiration: '2024-12-31T23:59:59Z' }), '0123456789abcdef'],
    ['an unparseable expiration', secret({ ...good, expiration: 'tomorrow' }), '0123456789abcdef'],
    ['a token not usable for authentication', secret({ ...good, 'usage-bootstrap-authentication': 'false' }), '0123456789abcdef'],
    ['a Secret of another type', secret(good, { type: 'Opaque' }), '0123456789abcdef'],
    ['a Secret being deleted', secret(good, { metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system', deletionTimestamp: '2024-12-31T00:00:00Z' } }), '0123456789abcdef'],
    ['an invalid extra group', secret({ ...good, 'auth-extra-groups': 'system:masters' }), '0123456789abcdef'],
    ['a mismatched token-id', secret({ ...good, 'token-id': 'zzzzzz' }), '0123456789abcdef'],
  ])('refuses %s', (_what, s, tokenSecret) => {
    expect(checkBootstrapToken(s, 'abcdef', tokenSecret, NOW).ok).toBe(false);
  });

  it('looks the Secret up in kube-system by token id and ignores tokens of another shape', async () => {
    const asked: string[] = [];
    const a = new BootstrapTokenAuthenticator({
      getSecret: async (ns, name) => {
        asked.push(`${ns}/${name}`);
        if (name === 'bootstrap-token-abcdef') return secret(good);
        throw notFound({ group: '', resource: 'secrets' }, name);
      },
      implicitAudiences: ['api'],
      clock: () => NOW,
    });
    expect(await a.authenticateToken('abcdef.0123456789abcdef')).toEqual({ user: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers'] }, audiences: ['api'] });
    expect(await a.authenticateToken('zzzzzz.0123456789abcdef')).toBeUndefined();
    expect(await a.authenticateToken('ABCDEF.0123456789abcdef')).toBeUndefined();
    expect(asked).toEqual(['kube-system/bootstrap-token-abcdef', 'kube-system/bootstrap-token-zzzzzz']);
  });
});
