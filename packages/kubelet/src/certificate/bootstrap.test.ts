import 'reflect-metadata';
import { createPrivateKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alreadyExists, StatusError, type KubeObject, type WatchEvent } from '@kubelab/api';
import { loadKubeconfig } from '@kubelab/client';
import { buildKubeconfig, createCA, issueCertificate, silentLogger, type CertKeyPair } from '@kubelab/component-base';
import {
  csrObject,
  currentPairPath,
  digestedName,
  kubeletClientUsages,
  loadClientCert,
  newPrivateKeyPem,
  nodeClientCSR,
  requestCertificate,
  TMP_PRIVATE_KEY_FILE,
  type CSRClient,
} from './bootstrap.js';

x509.cryptoProvider.set(webcrypto as never);

let ca: CertKeyPair;
let dir: string;

beforeAll(async () => {
  ca = await createCA({ commonName: 'kubernetes' });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-bootstrap-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The cluster CA signing a request as the csrsigning controller does (client auth, the requested subject). */
async function sign(csrPem: string, notAfter = new Date(Date.now() + 3_600_000)): Promise<string> {
  const req = new x509.Pkcs10CertificateRequest(csrPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a',
    subject: req.subjectName,
    issuer: new x509.X509Certificate(ca.certPem).subjectName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    publicKey: req.publicKey,
    signingKey: caKey as never,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  return cert.toString('pem');
}

/** A fake apiserver for certificatesigningrequests: `decide` runs when the kubelet watches and returns the CSR's next state. */
function fakeCSRs(decide: (csr: KubeObject) => Promise<KubeObject['status']>) {
  const objects = new Map<string, KubeObject>();
  const calls = { create: 0, watch: 0 };
  const client: CSRClient = {
    async create(csr) {
      calls.create++;
      const name = String(csr.metadata?.name);
      if (objects.has(name)) throw alreadyExists({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' }, name);
      const stored = { ...csr, metadata: { ...csr.metadata, resourceVersion: '1' }, status: {} };
      objects.set(name, stored);
      return stored;
    },
    async get(name) {
      const o = objects.get(name);
      if (!o) throw new Error(`not found ${name}`);
      return o;
    },
    async watch(opts) {
      calls.watch++;
      const name = String(opts.fieldSelector).replace('metadata.name=', '');
      let stopped = false;
      return {
        stop: () => {
          stopped = true;
        },
        async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<KubeObject>> {
          const o = objects.get(name)!;
          const next = { ...o, metadata: { ...o.metadata, resourceVersion: '2' }, status: await decide(o) };
          objects.set(name, next);
          if (!stopped) yield { type: 'MODIFIED', object: next };
        },
      };
    },
  };
  return { client, objects, calls };
}

const approveAndSign = async (csr: KubeObject) => ({
  conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved' }],
  certificate: Buffer.from(await sign(Buffer.from(String(csr.spec?.request), 'base64').toString())).toString('base64'),
});

function writeBootstrapKubeconfig(): string {
  const p = join(dir, 'bootstrap-kubelet.conf');
  writeFileSync(p, buildKubeconfig({ server: 'https://172.30.0.1:6443', caPem: ca.certPem, user: 'tls-bootstrap-token-user', token: 'abcdef.0123456789abcdef' }));
  return p;
}

describe('the kubelet client CSR', () => {
  it('asks for CN system:node:<name>, O system:nodes with an ECDSA P-256 key and no SANs, signed by that key', async () => {
    const keyPem = await newPrivateKeyPem();
    const key = createPrivateKey(keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const req = new x509.Pkcs10CertificateRequest(await nodeClientCSR('worker-1', keyPem));
    expect(req.subject).toBe('O=system:nodes, CN=system:node:worker-1');
    expect(req.extensions.filter((e) => e instanceof x509.SubjectAlternativeNameExtension)).toEqual([]);
    expect(await req.verify()).toBe(true);
    expect(kubeletClientUsages(keyPem)).toEqual(['digital signature', 'client auth']);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(kubeletClientUsages(rsa)).toEqual(['digital signature', 'key encipherment', 'client auth']);
    expect(await new x509.Pkcs10CertificateRequest(await nodeClientCSR('worker-1', rsa)).verify()).toBe(true);

    const obj = csrObject('node-csr-x', await nodeClientCSR('worker-1', keyPem), kubeletClientUsages(keyPem));
    expect(obj.spec).toMatchObject({ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] });
  });

  it('names the request after its key, subject and usages, so a retry with the same key finds the same CSR', async () => {
    const k1 = await newPrivateKeyPem();
    const k2 = await newPrivateKeyPem();
    const u = ['digital signature', 'client auth'];
    expect(digestedName(k1, 'n1', u)).toMatch(/^node-csr-[A-Za-z0-9_-]{43}$/);
    expect(digestedName(k1, 'n1', u)).toBe(digestedName(k1, 'n1', u));
    expect(digestedName(k1, 'n1', u)).not.toBe(digestedName(k2, 'n1', u));
    expect(digestedName(k1, 'n1', u)).not.toBe(digestedName(k1, 'n2', u));
  });

  it('adopts an existing CSR of the same name only when it asks for the same certificate', async () => {
    const { client } = fakeCSRs(approveAndSign);
    const k = await newPrivateKeyPem();
    const first = csrObject('node-csr-a', await nodeClientCSR('n1', k), ['digital signature', 'client auth']);
    await requestCertificate(client, first);
    expect((await requestCertificate(client, first)).metadata?.name).toBe('node-csr-a');
    const other = csrObject('node-csr-a', await nodeClientCSR('n2', k), ['digital signature', 'client auth']);
    await expect(requestCertificate(client, other)).rejects.toThrow('retrieved csr is not compatible');
  });
});

describe('loadClientCert (TLS bootstrap)', () => {
  const opts = (client: CSRClient) => ({
    kubeconfigPath: join(dir, 'kubelet.conf'),
    bootstrapKubeconfigPath: writeBootstrapKubeconfig(),
    certDir: join(dir, 'pki'),
    nodeName: 'worker-1',
    logger: silentLogger(),
    csrClient: () => client,
    timeoutMs: 5000,
  });

  it('requests a certificate, waits for its issuance, stores it behind kubelet-client-current.pem and writes --kubeconfig', async () => {
    const { client, calls } = fakeCSRs(approveAndSign);
    const o = opts(client);
    expect(await loadClientCert(o)).toBe('bootstrapped');
    expect(calls).toEqual({ create: 1, watch: 1 });

    const current = currentPairPath(o.certDir);
    expect(lstatSync(current).isSymbolicLink()).toBe(true);
    expect(readlinkSync(current)).toMatch(/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    expect(lstatSync(readlinkSync(current)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(o.certDir, TMP_PRIVATE_KEY_FILE))).toBe(false);

    const text = readFileSync(o.kubeconfigPath, 'utf8');
    expect(text).toContain(`client-certificate: ${current}`);
    expect(text).toContain(`client-key: ${current}`);
    const rc = loadKubeconfig(o.kubeconfigPath);
    expect(rc.server).toBe('https://172.30.0.1:6443');
    expect(rc.ca).toBe(ca.certPem);
    expect(rc.token).toBeUndefined();
    const cert = new X509Certificate(rc.cert!);
    expect(cert.subject).toBe('O=system:nodes\nCN=system:node:worker-1');
    expect(cert.checkPrivateKey(createPrivateKey(rc.key!))).toBe(true);

    // A restart with the kubeconfig in place asks for nothing.
    expect(await loadClientCert(o)).toBe('kubeconfig-valid');
    // Without the kubeconfig, the stored certificate is reused.
    rmSync(o.kubeconfigPath);
    expect(await loadClientCert(o)).toBe('existing-certificate');
    expect(loadKubeconfig(o.kubeconfigPath).cert).toBe(rc.cert);
    expect(calls.create).toBe(1);
  });

  it('keeps a --kubeconfig whose client certificate is valid, and bootstraps again when it has expired', async () => {
    const { client, calls } = fakeCSRs(approveAndSign);
    const o = opts(client);
    const user = 'system:node:worker-1';
    const valid = await issueCertificate(ca, { commonName: user, organizations: ['system:nodes'], usage: 'client' });
    writeFileSync(o.kubeconfigPath, buildKubeconfig({ server: 'https://127.0.0.1:6443', caPem: ca.certPem, user, certPem: valid.certPem, keyPem: valid.keyPem }));
    expect(await loadClientCert(o)).toBe('kubeconfig-valid');
    expect(calls.create).toBe(0);

    const expired = await issueCertificate(ca, {
      commonName: user,
      organizations: ['system:nodes'],
      usage: 'client',
      notBefore: new Date(Date.now() - 2 * 3_600_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    writeFileSync(o.kubeconfigPath, buildKubeconfig({ server: 'https://127.0.0.1:6443', caPem: ca.certPem, user, certPem: expired.certPem, keyPem: expired.keyPem }));
    expect(await loadClientCert(o)).toBe('bootstrapped');
    expect(calls.create).toBe(1);
    expect(loadKubeconfig(o.kubeconfigPath).server).toBe('https://172.30.0.1:6443');
  });

  it('waits while the CSR is approved but not yet issued', async () => {
    let round = 0;
    const { client, calls } = fakeCSRs(async (csr) => (++round === 1 ? { conditions: [{ type: 'Approved', status: 'True' }] } : approveAndSign(csr)));
    expect(await loadClientCert(opts(client))).toBe('bootstrapped');
    expect(calls.watch).toBe(2);
  });

  it('fails with the reason when the CSR is denied, and reuses its key and CSR on the next try', async () => {
    const { client, calls } = fakeCSRs(async () => ({ conditions: [{ type: 'Denied', status: 'True', reason: 'NotMyNode', message: 'go away' }] }));
    const o = opts(client);
    await expect(loadClientCert(o)).rejects.toThrow('certificate signing request is denied, reason: NotMyNode, message: go away');
    expect(existsSync(o.kubeconfigPath)).toBe(false);
    const key = readFileSync(join(o.certDir, TMP_PRIVATE_KEY_FILE), 'utf8');
    await expect(loadClientCert(o)).rejects.toThrow('denied');
    expect(readFileSync(join(o.certDir, TMP_PRIVATE_KEY_FILE), 'utf8')).toBe(key);
    expect(calls.create).toBe(2); // the second create met the first CSR (AlreadyExists) and adopted it
  });

  it('retries while the apiserver cannot be reached, and stops at once on a refusal', async () => {
    const { client, calls } = fakeCSRs(approveAndSign);
    let failures = 2;
    const flaky: CSRClient = {
      ...client,
      create: (csr) => (failures-- > 0 ? Promise.reject(new Error('connect ECONNREFUSED 172.30.0.1:6443')) : client.create(csr)),
    };
    expect(await loadClientCert(opts(flaky))).toBe('bootstrapped');
    expect(calls.create).toBe(1);

    rmSync(join(dir, 'kubelet.conf'));
    rmSync(join(dir, 'pki'), { recursive: true });
    let tries = 0;
    const refusing: CSRClient = {
      ...client,
      create: () => {
        tries++;
        return Promise.reject(new StatusError({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' }));
      },
    };
    await expect(loadClientCert(opts(refusing))).rejects.toThrow('Unauthorized');
    expect(tries).toBe(1);
  });

  it('gives up after the timeout when nobody approves', async () => {
    const { client } = fakeCSRs(async () => ({}));
    await expect(loadClientCert({ ...opts(client), timeoutMs: 300 })).rejects.toThrow('timed out waiting for the certificate');
  });
});
