import { describe, expect, it } from 'vitest';
import { bootstrapTokenSecret, DEFAULT_NODE_TOKEN_GROUP, generateBootstrapToken, nodeBootstrapBindings } from './bootstrap-token.js';

const decoded = (s: { data?: Record<string, string> }) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('bootstrap tokens (kubeadm token create)', () => {
  it('generates <6>.<16> tokens of [a-z0-9], different each time', () => {
    const tokens = new Set(Array.from({ length: 20 }, generateBootstrapToken));
    expect(tokens.size).toBe(20);
    for (const t of tokens) expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  it("stores a token as kubeadm's Secret: kube-system/bootstrap-token-<id>, authentication and signing usages, an expiration", () => {
    const s = bootstrapTokenSecret('abcdef.0123456789abcdef', { now: new Date('2026-12-03T04:00:00.500Z'), description: 'd' });
    expect(s.metadata).toEqual({ name: 'bootstrap-token-abcdef', namespace: 'kube-system' });
    expect(s.type).toBe('bootstrap.kubernetes.io/token');
    expect(decoded(s as never)).toEqual({
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': DEFAULT_NODE_TOKEN_GROUP,
      expiration: '2026-12-04T04:00:00Z',
      description: 'd',
    });
    expect(decoded(bootstrapTokenSecret('abcdef.0123456789abcdef', { ttlMs: 0 }) as never).expiration).toBeUndefined();
    expect(() => bootstrapTokenSecret('ABCDEF.0123456789abcdef')).toThrow('was not of the form');
  });

  it("binds kubeadm's node token group to CSR creation and auto-approval, and nodes to renewal", () => {
    expect(nodeBootstrapBindings().map((b) => [b.metadata.name, b.roleRef.name, b.subjects[0].name])).toEqual([
      ['kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', DEFAULT_NODE_TOKEN_GROUP],
      ['kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', DEFAULT_NODE_TOKEN_GROUP],
      ['kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes'],
    ]);
  });
});
