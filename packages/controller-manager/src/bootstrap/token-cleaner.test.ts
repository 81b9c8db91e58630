import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import { seededInformer } from '../testing.js';
import { TokenCleaner, tokenExpiration } from './token-cleaner.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const token = (name: string, expiration?: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'kube-system', uid: `uid-${name}` },
  type: 'bootstrap.kubernetes.io/token',
  data: { 'token-id': b64(name.slice(-6)), ...(expiration ? { expiration: b64(expiration) } : {}) },
  ...extra,
});

describe('tokenExpiration', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  it('is expired once the RFC 3339 time has passed, and otherwise says how long is left', () => {
    expect(tokenExpiration(token('bootstrap-token-aaaaaa', '2026-12-03T09:59:59Z'), now)).toEqual({ expired: true });
    expect(tokenExpiration(token('bootstrap-token-aaaaaa', '2026-12-03T10:00:30Z'), now)).toEqual({ expired: false, ttlMs: 30_000 });
  });
  it('keeps tokens without an expiration or with one that does not parse', () => {
    expect(tokenExpiration(token('bootstrap-token-aaaaaa'), now)).toEqual({ expired: false });
    expect(tokenExpiration(token('bootstrap-token-aaaaaa', 'tomorrow'), now)).toEqual({ expired: false });
  });
});

describe('TokenCleaner', () => {
  it('deletes expired token Secrets by UID, leaves the others, and comes back when a token expires', async () => {
    const clock = new FakeClock(Date.parse('2026-12-03T10:00:00Z'));
    const deleted: string[] = [];
    const secrets = [
      token('bootstrap-token-old111', '2026-12-03T09:00:00Z'),
      token('bootstrap-token-new222', '2026-12-03T10:00:05Z'),
      token('bootstrap-token-inf333'),
    ];
    const cleaner = new TokenCleaner({
      secretInformer: seededInformer(secrets),
      deleteSecret: async (ns, name, uid) => deleted.push(`${ns}/${name}@${uid}`),
      clock,
    });
    for (const s of secrets) await cleaner.sync(`kube-system/${s.metadata.name}`);
    expect(deleted).toEqual(['kube-system/bootstrap-token-old111@uid-bootstrap-token-old111']);
    expect(cleaner.queue.len()).toBe(0);
    await clock.step(5_000);
    expect(cleaner.queue.len()).toBe(1);
    await cleaner.sync('kube-system/bootstrap-token-new222');
    expect(deleted).toHaveLength(2);
  });
});
