import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import { seededInformer } from '../testing.js';
import { BootstrapSigner, detachedSignature, signedClusterInfoData, signingTokens } from './bootstrap-signer.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const token = (id: string, extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
  type: 'bootstrap.kubernetes.io/token',
  data: Object.fromEntries(Object.entries({ 'token-id': id, 'token-secret': '0123456789abcdef', 'usage-bootstrap-signing': 'true', ...extra }).map(([k, v]) => [k, b64(v)])),
});
const clusterInfo = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data });
const now = new Date('2026-12-03T10:00:00Z');

describe('detachedSignature', () => {
  it('is a JWS with an empty payload part, HS256 over header.payload keyed by the token secret, kid the token id', () => {
    const jws = detachedSignature('apiVersion: v1\n', 'abcdef', '0123456789abcdef');
    const [header, payload, signature] = jws.split('.');
    expect(payload).toBe('');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', kid: 'abcdef' });
    const expected = createHmac('sha256', '0123456789abcdef').update(`${header}.${Buffer.from('apiVersion: v1\n').toString('base64url')}`).digest('base64url');
    expect(signature).toBe(expected);
  });
});

describe('signingTokens', () => {
  it('takes tokens allowed to sign and not expired', () => {
    const tokens = signingTokens(
      [token('aaaaaa'), token('bbbbbb', { 'usage-bootstrap-signing': 'false' }), token('cccccc', { expiration: '2026-12-03T09:00:00Z' }), token('dddddd', { expiration: '2026-12-04T00:00:00Z' })],
      now,
    );
    expect([...tokens.keys()]).toEqual(['aaaaaa', 'dddddd']);
  });
});

describe('BootstrapSigner', () => {
  it('signs cluster-info for each token, drops signatures of tokens gone, and writes nothing when up to date', async () => {
    const updates: KubeObject[] = [];
    const cm = clusterInfo({ kubeconfig: 'apiVersion: v1\n', 'jws-kubeconfig-zzzzzz': 'stale..sig' });
    const signer = new BootstrapSigner({
      configMapInformer: seededInformer([cm]),
      secretInformer: seededInformer([token('aaaaaa')]),
      updateConfigMap: async (o) => updates.push(o),
      clock: new FakeClock(now.getTime()),
    });
    await signer.sync();
    expect(updates).toHaveLength(1);
    expect(Object.keys(updates[0]!.data as object).sort()).toEqual(['jws-kubeconfig-aaaaaa', 'kubeconfig']);
    expect(signedClusterInfoData(updates[0]!.data as Record<string, string>, new Map([['aaaaaa', '0123456789abcdef']]))).toBeUndefined();
  });
});
