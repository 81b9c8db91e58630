import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { notFound, type KubeObject } from '@kubelab/api';
import { decodeJwt } from './jwt.js';
import {
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokenIssuer,
  serviceAccountClaims,
  splitServiceAccountUsername,
  validateServiceAccountClaims,
  type TokenObjectGetter,
} from './serviceaccount.js';
import { UnionTokenAuthenticator } from './token.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const T0 = new Date('2025-01-01T00:00:00Z');

const obj = (kind: string, name: string, uid: string, ns = 'default', extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace: ns, uid }, ...extra });

let objects: Map<string, KubeObject>;
const getter: TokenObjectGetter = {
  getServiceAccount: async (ns, n) => objects.get(`sa/${ns}/${n}`) ?? Promise.reject(notFound({ group: '', resource: 'serviceaccounts' }, n)),
  getPod: async (ns, n) => objects.get(`pod/${ns}/${n}`) ?? Promise.reject(notFound({ group: '', resource: 'pods' }, n)),
  getSecret: async (ns, n) => objects.get(`secret/${ns}/${n}`) ?? Promise.reject(notFound({ group: '', resource: 'secrets' }, n)),
  getNode: async (n) => objects.get(`node//${n}`) ?? Promise.reject(notFound({ group: '', resource: 'nodes' }, n)),
};

let now = T0;
const issuer = new ServiceAccountTokenIssuer(privateKey, ISSUER);
const authn = new ServiceAccountTokenAuthenticator({ issuers: [ISSUER], keys: [publicKey], implicitAudiences: [ISSUER], getter, clock: () => now });
const sa = obj('ServiceAccount', 'builder', 'sa-uid');
const pod = obj('Pod', 'web', 'pod-uid', 'default', { spec: { nodeName: 'n1', serviceAccountName: 'builder' } });
const node = obj('Node', 'n1', 'node-uid', '');

beforeEach(() => {
  now = T0;
  objects = new Map([
    ['sa/default/builder', sa],
    ['pod/default/web', pod],
    ['node//n1', node],
  ]);
});

const mint = (extra: Partial<Parameters<typeof serviceAccountClaims>[0]> = {}) =>
  issuer.generate(serviceAccountClaims({ serviceAccount: sa, issuer: ISSUER, audiences: [ISSUER], expirationSeconds: 3600, now: T0, jti: 'j-1', ...extra }));

describe('service account token claims', () => {
  it('carries upstream registered and kubernetes.io claims', () => {
    const c = decodeJwt(mint({ pod, node }))!.claims;
    expect(c).toEqual({
      aud: [ISSUER],
      exp: T0.getTime() / 1000 + 3600,
      iat: T0.getTime() / 1000,
      iss: ISSUER,
      jti: 'j-1',
      'kubernetes.io': { namespace: 'default', node: { name: 'n1', uid: 'node-uid' }, pod: { name: 'web', uid: 'pod-uid' }, serviceaccount: { name: 'builder', uid: 'sa-uid' } },
      nbf: T0.getTime() / 1000,
      sub: 'system:serviceaccount:default:builder',
    });
    expect(Object.keys(c)).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
  });
});

describe('ServiceAccountTokenAuthenticator', () => {
  it('authenticates a token as the service account with its groups and extra', async () => {
    const r = await authn.authenticateToken(mint({ pod, node }));
    expect(r).toEqual({
      audiences: [ISSUER],
      user: {
        name: 'system:serviceaccount:default:builder',
        uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default'],
        extra: {
          'authentication.kubernetes.io/pod-name': ['web'],
          'authentication.kubernetes.io/pod-uid': ['pod-uid'],
          'authentication.kubernetes.io/credential-id': ['JTI=j-1'],
          'authentication.kubernetes.io/node-name': ['n1'],
          'authentication.kubernetes.io/node-uid': ['node-uid'],
        },
      },
    });
  });

  it('ignores tokens of other issuers and non-JWTs', async () => {
    expect(await authn.authenticateToken(issuer.generate(serviceAccountClaims({ serviceAccount: sa, issuer: 'https://other', audiences: [ISSUER], expirationSeconds: 600, now: T0 })))).toBeUndefined();
    expect(await authn.authenticateToken('abcdef.0123456789abcdef')).toBeUndefined();
  });

  it('rejects a token signed by another key', async () => {
    const forged = new ServiceAccountTokenIssuer(other.privateKey, ISSUER).generate(serviceAccountClaims({ serviceAccount: sa, issuer: ISSUER, audiences: [ISSUER], expirationSeconds: 600, now: T0 }));
    await expect(authn.authenticateToken(forged)).rejects.toThrow('go-jose/go-jose: error in cryptographic primitive');
  });

  it('enforces exp and nbf with a minute of leeway', async () => {
    const token = mint({ expirationSeconds: 600 });
    now = new Date(T0.getTime() + 659_000);
    expect(await authn.authenticateToken(token)).toBeDefined();
    now = new Date(T0.getTime() + 661_000);
    await expect(authn.authenticateToken(token)).rejects.toThrow('service account token has expired');
    now = new Date(T0.getTime() - 61_000);
    await expect(authn.authenticateToken(token)).rejects.toThrow('service account token is not valid yet');
  });

  it('checks audiences against the requested ones', async () => {
    const token = mint({ audiences: ['vault'] });
    await expect(authn.authenticateToken(token)).rejects.toThrow(`token audiences ["vault"] is invalid for the target audiences ["${ISSUER}"]`);
    expect(await authn.authenticateToken(token, ['vault', 'x'])).toMatchObject({ audiences: ['vault'] });
  });

  it('rejects the token once its service account is gone or replaced', async () => {
    const token = mint();
    objects.set('sa/default/builder', obj('ServiceAccount', 'builder', 'new-uid'));
    await expect(authn.authenticateToken(token)).rejects.toThrow('service account UID (new-uid) does not match claim (sa-uid)');
    objects.delete('sa/default/builder');
    await expect(authn.authenticateToken(token)).rejects.toThrow('serviceaccounts "builder" not found');
  });

  it('rejects a pod-bound token once the pod is gone, replaced, or deleted for over a minute', async () => {
    const token = mint({ pod });
    objects.set('pod/default/web', { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(T0.getTime() - 30_000).toISOString() } });
    expect(await authn.authenticateToken(token)).toBeDefined();
    objects.set('pod/default/web', { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(T0.getTime() - 61_000).toISOString() } });
    await expect(authn.authenticateToken(token)).rejects.toThrow('service account token has been invalidated');
    objects.set('pod/default/web', obj('Pod', 'web', 'other-uid'));
    await expect(authn.authenticateToken(token)).rejects.toThrow('pod UID (other-uid) does not match service account pod ref claim (pod-uid)');
    objects.delete('pod/default/web');
    await expect(authn.authenticateToken(token)).rejects.toThrow('service account token has been invalidated');
    // The union reports the rejection as the TokenReview error.
    expect(await new UnionTokenAuthenticator([authn]).authenticate(token)).toEqual({ ok: false, error: 'service account token has been invalidated' });
  });

  it('rejects a secret-bound or node-bound token once that object is gone', async () => {
    const secret = obj('Secret', 's', 'sec-uid');
    objects.set('secret/default/s', secret);
    const st = mint({ secret });
    expect(await authn.authenticateToken(st)).toBeDefined();
    objects.delete('secret/default/s');
    await expect(authn.authenticateToken(st)).rejects.toThrow('service account token has been invalidated');
    const nt = mint({ node });
    expect((await authn.authenticateToken(nt))?.user.extra?.['authentication.kubernetes.io/node-name']).toEqual(['n1']);
    objects.set('node//n1', obj('Node', 'n1', 'n2-uid', ''));
    await expect(authn.authenticateToken(nt)).rejects.toThrow('node UID (n2-uid) does not match service account node ref claim (node-uid)');
  });

  it('validateServiceAccountClaims refuses claims without the kubernetes.io section', async () => {
    await expect(validateServiceAccountClaims({ iss: ISSUER }, getter, T0)).rejects.toThrow('service account token claims could not be validated due to unexpected private claim');
  });
});

describe('service account usernames', () => {
  it('splits valid names only', () => {
    expect(splitServiceAccountUsername('system:serviceaccount:ns:sa')).toEqual({ namespace: 'ns', name: 'sa' });
    expect(splitServiceAccountUsername('system:serviceaccount:ns')).toBeUndefined();
    expect(splitServiceAccountUsername('system:serviceaccount:NS:sa')).toBeUndefined();
    expect(splitServiceAccountUsername('jane')).toBeUndefined();
  });
});
