// A node joins with a bootstrap token, as kubeadm join / the kubelet's TLS bootstrap do: it sends a
// certificates.k8s.io/v1 CSR for system:node:<name>, the controller-manager approves it (the requester
// may create certificatesigningrequests/nodeclient) and signs it with the cluster CA, and the node then
// talks to the API with its own certificate.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

x509.cryptoProvider.set(webcrypto as never);

let etcd: EtcdInstance;
let api: ApiServerInstance;
let cm: ControllerManager;

const TOKEN_ID = 'abcdef';
const TOKEN = `${TOKEN_ID}.0123456789abcdef`;
const NODE = 'node-1';

type Creds = { token?: string; cert?: string; key?: string };

function call(method: string, path: string, creds: Creds, body?: unknown): Promise<{ status: number; json: any }> {
  const ca = readFileSync(join(api.pkiDir, 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: api.port,
        path,
        method,
        ca,
        cert: creds.cert,
        key: creds.key,
        agent: false,
        headers: { ...(creds.token ? { Authorization: `Bearer ${creds.token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode!, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const admin = (): Creds => ({ cert: api.adminCert.toString(), key: api.adminKey.toString() });

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function newRequest(commonName: string, organization: string): Promise<{ csrPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}, O=${organization}`, keys: keys as never, signingAlgorithm: alg });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { csrPem: csr.toString('pem'), keyPem };
}

const csrObject = (name: string, csrPem: string) => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name },
  spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
});

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC', '--enable-bootstrap-token-auth=true'] });
  // What kubeadm sets up: the token Secret, and bindings letting bootstrappers create CSRs that get auto-approved.
  const secret = await call('POST', '/api/v1/namespaces/kube-system/secrets', admin(), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${TOKEN_ID}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData: { 'token-id': TOKEN_ID, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' },
  });
  expect(secret.status).toBe(201);
  // Upstream's bootstrap ClusterRoles; the apiserver reconciles them at startup (409 when it already has).
  for (const [name, resource] of [
    ['system:node-bootstrapper', 'certificatesigningrequests'],
    ['system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'certificatesigningrequests/nodeclient'],
  ]) {
    const verbs = resource === 'certificatesigningrequests' ? ['create', 'get', 'list', 'watch'] : ['create'];
    const r = await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', admin(), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: [resource], verbs }],
    });
    expect([201, 409]).toContain(r.status);
  }
  for (const [name, role] of [
    ['kubeadm:kubelet-bootstrap', 'system:node-bootstrapper'],
    ['kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient'],
  ]) {
    const r = await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', admin(), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers' }],
    });
    expect(r.status).toBe(201);
  }
  const config = validate({
    ...defaults(),
    leaderElect: false,
    securePort: 0,
    controllers: ['csrapproving', 'csrsigning'],
    clusterSigningCertFile: join(api.pkiDir, 'ca.crt'),
    clusterSigningKeyFile: join(api.pkiDir, 'ca.key'),
  });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
});

afterAll(async () => {
  await cm?.stop();
  await api?.stop();
  await etcd?.stop();
});

describe('node bootstrap with a token', () => {
  it('gets a system:node certificate from an auto-approved CSR and uses it', async () => {
    const boot = { token: TOKEN };
    // The bootstrap identity can do very little on its own.
    expect((await call('GET', '/api/v1/nodes', boot)).status).toBe(403);

    const { csrPem, keyPem } = await newRequest(`system:node:${NODE}`, 'system:nodes');
    // RBAC sees the new bindings once its informers have them.
    const created = await until('the bootstrapper to be allowed', async () => {
      const r = await call('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', boot, csrObject('node-csr-1', csrPem));
      return r.status === 403 ? undefined : r;
    }, 10_000);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    // The requester is recorded by the server, not taken from the client.
    expect(created.json.spec.username).toBe(`system:bootstrap:${TOKEN_ID}`);
    expect(created.json.spec.groups).toContain('system:bootstrappers');

    const signed = await until('the certificate', async () => {
      const r = await call('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-1', boot);
      return r.json?.status?.certificate ? r.json : undefined;
    });
    const approved = signed.status.conditions.find((c: any) => c.type === 'Approved');
    expect(approved).toMatchObject({ status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' });

    const certPem = Buffer.from(signed.status.certificate, 'base64').toString();
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toContain(`CN=system:node:${NODE}`);
    expect(cert.subject).toContain('O=system:nodes');
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(api.pkiDir, 'ca.crt'))))).toBe(true);

    // The node now acts as system:node:node-1: it registers its Node and reads it back.
    const node = { cert: certPem, key: keyPem };
    const reg = await call('POST', '/api/v1/nodes', node, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
    expect(reg.status).toBe(201);
    const got = await call('GET', `/api/v1/nodes/${NODE}`, node);
    expect(got.status).toBe(200);
    // ...but it is not an administrator.
    expect((await call('GET', '/api/v1/namespaces/kube-system/secrets', node)).status).toBe(403);
  });

  it('does not auto-approve a kubelet client CSR that asks for more than client usages', async () => {
    const { csrPem } = await newRequest('system:node:node-9', 'system:nodes');
    const other = { ...csrObject('node-csr-2', csrPem), spec: { ...csrObject('node-csr-2', csrPem).spec, usages: ['digital signature', 'server auth'] } };
    const created = await call('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { token: TOKEN }, other);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await call('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-2', admin());
    expect(r.json.status?.conditions ?? []).toEqual([]);
    expect(r.json.status?.certificate).toBeUndefined();
  });

  it('refuses a certificate on /status before approval and conflicting approval conditions', async () => {
    const { csrPem } = await newRequest('someone', 'devs');
    const created = await call('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', admin(), {
      ...csrObject('client-csr', csrPem),
      spec: { ...csrObject('client-csr', csrPem).spec, signerName: 'example.com/custom' },
    });
    expect(created.status).toBe(201);
    const fake = { ...created.json, status: { certificate: Buffer.from(readFileSync(join(api.pkiDir, 'ca.crt'))).toString('base64') } };
    const early = await call('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/client-csr/status', admin(), fake);
    expect(early.status).toBe(422);
    const both = { ...created.json, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } };
    const bad = await call('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/client-csr/approval', admin(), both);
    expect(bad.status).toBe(422);
    expect(bad.json.message).toContain('Approved and Denied conditions are mutually exclusive');
  });
});
