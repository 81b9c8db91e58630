// Authentication with real kubectl against a real apiserver: static token file, service account
// tokens (TokenRequest, bound tokens), TokenReview, SelfSubjectReview (`kubectl auth whoami`),
// bootstrap tokens, impersonation and anonymous requests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const UNAUTHORIZED = 'error: You must be logged in to the server (Unauthorized)';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let dir: string;
const admin = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

/** A kubeconfig that authenticates with a bearer token only (no client certificate). */
function tokenKubeconfig(token: string, server = api.url): string {
  const file = join(dir, `token-${Math.random().toString(36).slice(2)}.conf`);
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'certificate-authority': join(api.pkiDir, 'ca.crt') } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  };
  writeFileSync(file, YAML.stringify(cfg), { mode: 0o600 });
  return file;
}
const as = (token: string, args: string[]) => kubectl(tokenKubeconfig(token), args);

/** A request with no client certificate, optionally with a bearer token. */
function rawRequest(port: number, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload) headers['content-type'] = 'application/json';
    const req = https.request({ host: '127.0.0.1', port, path, method: payload ? 'POST' : 'GET', rejectUnauthorized: false, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** `kubectl auth whoami` table rows as attribute -> value. */
function whoamiRows(stdout: string): Record<string, string> {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ATTRIBUTE\s+VALUE$/);
  return Object.fromEntries(lines.slice(1).map((l) => {
    const m = /^(.*?)\s{2,}(.*)$/.exec(l)!;
    return [m[1]!, m[2]!];
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-authn-'));
  writeFileSync(join(dir, 'tokens.csv'), 'jane-token-0123456789,jane,1001,"dev,ops"\nbob-token-0123456789,bob,1002\n');
  etcd = await startEtcd();
  api = await startApiServer({
    etcdEndpoint: etcd.endpoint,
    extraArgs: [`--token-auth-file=${join(dir, 'tokens.csv')}`, '--enable-bootstrap-token-auth=true', '--authorization-mode=AlwaysAllow'],
  });
  // Nothing runs the serviceaccount controller here: make the default service account.
  await admin(['create', 'serviceaccount', 'default']);
}, 90_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('static token file', () => {
  it('authenticates the user with its groups plus system:authenticated', async () => {
    const r = await as('jane-token-0123456789', ['auth', 'whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(whoamiRows(r.stdout)).toEqual({ Username: 'jane', UID: '1001', Groups: '[dev ops system:authenticated]' });
    const pods = await as('bob-token-0123456789', ['get', 'pods']);
    expect(pods.code, pods.stderr).toBe(0);
  });

  it('a bad token is 401 with upstream Status, though anonymous requests are allowed', async () => {
    const r = await as('not-a-known-token', ['get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(UNAUTHORIZED);
    const raw = await rawRequest(api.port, '/api/v1/namespaces/default/pods', 'not-a-known-token');
    expect(raw.status).toBe(401);
    expect(raw.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    // The same request without credentials is anonymous (allowed by AlwaysAllow).
    expect((await rawRequest(api.port, '/api/v1/namespaces/default/pods')).status).toBe(200);
  });
});

describe('kubectl auth whoami', () => {
  it('shows the admin certificate identity', async () => {
    const r = await admin(['auth', 'whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(whoamiRows(r.stdout)).toEqual({ Username: 'kubernetes-admin', Groups: '[system:masters system:authenticated]' });
  });

  it('answers anonymous callers as system:anonymous', async () => {
    const r = await rawRequest(api.port, '/apis/authentication.k8s.io/v1/selfsubjectreviews', undefined, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'system:anonymous', groups: ['system:unauthenticated'] } } });
  });
});

describe('service account tokens', () => {
  it('kubectl create token issues a JWT the server accepts as the service account', async () => {
    const t = await admin(['create', 'token', 'default']);
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ iss: ISSUER, aud: [ISSUER], sub: 'system:serviceaccount:default:default', 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default' } } });
    expect(claims.exp - claims.iat).toBe(3600);
    const who = await as(token, ['auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    const rows = whoamiRows(who.stdout);
    expect(rows.Username).toBe('system:serviceaccount:default:default');
    expect(rows.Groups).toBe('[system:serviceaccounts system:serviceaccounts:default system:authenticated]');
    expect(rows['Extra: authentication.kubernetes.io/credential-id']).toBe(`[JTI=${claims.jti}]`);
    expect((await as(token, ['get', 'pods'])).code).toBe(0);
  });

  it('honours --duration and --audience and refuses durations under 10 minutes', async () => {
    const t = await admin(['create', 'token', 'default', '--duration=2h', '--audience=vault']);
    expect(t.code, t.stderr).toBe(0);
    const claims = JSON.parse(Buffer.from(t.stdout.trim().split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(7200);
    expect(claims.aud).toEqual(['vault']);
    // Not for this server's audience.
    expect((await as(t.stdout.trim(), ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
    const short = await admin(['create', 'token', 'default', '--duration=5m']);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes');
    const missing = await admin(['create', 'token', 'nobody']);
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');
  });

  it('a pod-bound token stops working when the pod is deleted', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { serviceAccountName: 'default', containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await admin(['create', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    const t = await admin(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=bound']);
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    const who = await as(token, ['auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(whoamiRows(who.stdout)['Extra: authentication.kubernetes.io/pod-name']).toBe('[bound]');

    expect((await admin(['delete', 'pod', 'bound', '--grace-period=0', '--force'])).code).toBe(0);
    const after = await as(token, ['get', 'pods']);
    expect(after.code).toBe(1);
    expect(after.stderr.trim()).toBe(UNAUTHORIZED);
    const review = await admin(['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }));
    expect(review.code, review.stderr).toBe(0);
    expect(JSON.parse(review.stdout).status).toEqual({ user: {}, error: 'service account token has been invalidated' });

    // A namesake pod (new UID) does not revive the token.
    expect((await admin(['create', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    expect((await as(token, ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
  });

  it('binding to a pod of another service account is refused', async () => {
    await admin(['create', 'serviceaccount', 'other']);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runs-other' }, spec: { serviceAccountName: 'other', containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await admin(['create', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    const t = await admin(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=runs-other']);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('cannot bind token for serviceaccount "default" to pod running with serviceaccount "other"');
  });

  it('a token stops working when its service account is deleted and recreated', async () => {
    await admin(['create', 'serviceaccount', 'ephemeral']);
    const token = (await admin(['create', 'token', 'ephemeral'])).stdout.trim();
    expect((await as(token, ['get', 'pods'])).code).toBe(0);
    await admin(['delete', 'serviceaccount', 'ephemeral']);
    await admin(['create', 'serviceaccount', 'ephemeral']);
    expect((await as(token, ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
  });
});

describe('TokenReview', () => {
  const review = async (token: string, audiences?: string[]) => {
    const r = await api.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
    expect(r.status, r.body).toBe(201);
    return r.json;
  };

  it('reports the user and audiences of a valid token', async () => {
    const token = (await admin(['create', 'token', 'default'])).stdout.trim();
    const r = await review(token);
    expect(r).toMatchObject({ kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: { token } });
    expect(r.status).toMatchObject({
      authenticated: true,
      audiences: [ISSUER],
      user: { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] },
    });
    expect(r.status.user.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await review('jane-token-0123456789')).status).toEqual({ authenticated: true, audiences: [ISSUER], user: { username: 'jane', uid: '1001', groups: ['dev', 'ops', 'system:authenticated'] } });
  });

  it('reports why a token is not accepted', async () => {
    expect((await review('garbage')).status).toEqual({ user: {}, error: 'invalid bearer token' });
    const token = (await admin(['create', 'token', 'default'])).stdout.trim();
    expect((await review(token, ['vault'])).status).toEqual({ user: {}, error: `token audiences ["${ISSUER}"] is invalid for the target audiences ["vault"]` });
    const empty = await api.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.message).toBe('token is required for TokenReview in authentication');
  });
});

describe('bootstrap tokens', () => {
  const secret = (id: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries({ 'token-id': id, ...data }).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });

  it('authenticates a valid token as system:bootstrap:<id>', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const s = secret('abcdef', { 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': 'system:bootstrappers:worker', expiration: future });
    expect((await admin(['create', '-f', '-'], JSON.stringify(s))).code).toBe(0);
    const r = await as('abcdef.0123456789abcdef', ['auth', 'whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(whoamiRows(r.stdout)).toEqual({ Username: 'system:bootstrap:abcdef', Groups: '[system:bootstrappers system:bootstrappers:worker system:authenticated]' });
    expect((await as('abcdef.0123456789abcdeX', ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
  });

  it('refuses an expired token or one not meant for authentication', async () => {
    await admin(['create', '-f', '-'], JSON.stringify(secret('expird', { 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', expiration: '2020-01-01T00:00:00Z' })));
    await admin(['create', '-f', '-'], JSON.stringify(secret('signin', { 'token-secret': '0123456789abcdef', 'usage-bootstrap-signing': 'true' })));
    expect((await as('expird.0123456789abcdef', ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
    expect((await as('signin.0123456789abcdef', ['get', 'pods'])).stderr.trim()).toBe(UNAUTHORIZED);
  });
});

describe('impersonation', () => {
  it('an admin can act as another user (AlwaysAllow)', async () => {
    const pods = await admin(['--as=jane', 'get', 'pods']);
    expect(pods.code, pods.stderr).toBe(0);
    const who = await admin(['--as=jane', '--as-group=dev', 'auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(whoamiRows(who.stdout)).toEqual({ Username: 'jane', Groups: '[dev system:authenticated]' });
    const sa = await admin(['--as=system:serviceaccount:default:default', 'auth', 'whoami']);
    expect(whoamiRows(sa.stdout)).toEqual({ Username: 'system:serviceaccount:default:default', Groups: '[system:serviceaccounts system:serviceaccounts:default system:authenticated]' });
  });
});

describe('--anonymous-auth=false', () => {
  it('requests without credentials are 401', async () => {
    const strict = await startApiServer({ etcdEndpoint: etcd.endpoint, pkiDir: api.pkiDir, extraArgs: ['--anonymous-auth=false'] });
    try {
      const r = await rawRequest(strict.port, '/api/v1/namespaces/default/pods');
      expect(r.status).toBe(401);
      expect(r.json.reason).toBe('Unauthorized');
      // Credentials still work.
      expect((await strict.request('GET', '/api/v1/namespaces/default/pods')).status).toBe(200);
    } finally {
      await strict.stop();
    }
  }, 90_000);
});
