// x509 client certificate authentication as upstream: a certificate the cluster CA verifies (chain,
// validity period, clientAuth usage) names the user; one that fails verification (another CA, expired,
// not yet valid, server-only) gets 401 Unauthorized instead of being treated as anonymous, unless
// another credential on the request (a bearer token) authenticates it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeconfig, createCA, issueCertificate, loadCA, type CertKeyPair } from '@kubelab/component-base';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

const UNAUTHORIZED = 'error: You must be logged in to the server (Unauthorized)';
const DAY = 24 * 60 * 60 * 1000;
const TOKEN = 'x509-test-token-0123456789';

let dir: string;
let etcd: EtcdInstance;
let api: ApiServerInstance;
const certs: Record<string, CertKeyPair> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-x509-'));
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${TOKEN},token-user,token-uid,"system:masters"\n`);
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=RBAC', `--token-auth-file=${tokenFile}`] });
  const ca = await loadCA(api.pkiDir);
  const now = Date.now();
  const client = { commonName: 'alice', organizations: ['system:masters'], usage: 'client' as const };
  certs.valid = await issueCertificate(ca, client);
  certs.otherCA = await issueCertificate(await createCA({ commonName: 'kubernetes' }), client);
  certs.expired = await issueCertificate(ca, { ...client, notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) });
  certs.notYetValid = await issueCertificate(ca, { ...client, notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) });
  certs.serverOnly = await issueCertificate(ca, { ...client, usage: 'server' });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** POST a SelfSubjectReview presenting the certificate (and optionally a bearer token). */
function whoami(cert: CertKeyPair, token?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = https.request(
      {
        host: '127.0.0.1', port: api.port, method: 'POST', path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        ca: readFileSync(join(api.pkiDir, 'ca.crt')), cert: cert.certPem, key: cert.keyPem, headers, agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function certKubeconfig(name: string, cert: CertKeyPair): string {
  const file = join(dir, `${name}.conf`);
  const caPem = readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8');
  writeFileSync(file, buildKubeconfig({ server: api.url, caPem, user: name, certPem: cert.certPem, keyPem: cert.keyPem }), { mode: 0o600 });
  return file;
}

const UNAUTHORIZED_STATUS = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

describe('x509 client certificates', () => {
  it('a certificate from the cluster CA authenticates its CN and O', async () => {
    const res = await whoami(certs.valid!);
    expect(res.status).toBe(201);
    expect(res.json.status.userInfo).toEqual({ username: 'alice', groups: ['system:masters', 'system:authenticated'] });
    const k = await kubectl(certKubeconfig('valid', certs.valid!), ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(k.stdout).toBe('alice');
  });

  it.each(['otherCA', 'expired', 'notYetValid', 'serverOnly'])('a %s certificate gets 401, not anonymous', async (name) => {
    const res = await whoami(certs[name]!);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject(UNAUTHORIZED_STATUS);
  });

  it.each(['otherCA', 'expired', 'notYetValid', 'serverOnly'])('kubectl with a %s certificate is told to log in', async (name) => {
    const kubeconfig = certKubeconfig(name, certs[name]!);
    const whoamiOut = await kubectl(kubeconfig, ['auth', 'whoami']);
    expect(whoamiOut.code).not.toBe(0);
    expect(whoamiOut.stderr.trim()).toBe(UNAUTHORIZED);
    // Through discovery, kubectl words the same 401 as upstream's does.
    const get = await kubectl(kubeconfig, ['get', 'pods']);
    expect(get.stderr.trim().split('\n').at(-1)).toBe(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
  });

  it('a valid bearer token on the same request still authenticates (union of authenticators)', async () => {
    const res = await whoami(certs.expired!, TOKEN);
    expect(res.status).toBe(201);
    expect(res.json.status.userInfo.username).toBe('token-user');
    const bad = await whoami(certs.expired!, 'not-a-token');
    expect(bad.status).toBe(401);
  });
});
