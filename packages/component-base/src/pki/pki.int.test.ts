import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPKICli } from './cli.js';
import { initPKI, type InitPKIResult } from './init.js';
import { buildKubeconfig } from './kubeconfig.js';
import { createCA, createServiceAccountKeyPair, issueCertificate, loadCA, type CertKeyPair } from './pki.js';

const run = promisify(execFile);
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-pki-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function opensslText(certPath: string): Promise<string> {
  return (await run('openssl', ['x509', '-in', certPath, '-noout', '-text'])).stdout;
}

async function opensslVerify(caPath: string, certPath: string): Promise<string> {
  return (await run('openssl', ['verify', '-CAfile', caPath, certPath])).stdout;
}

/** Writes a pair to dir as name.crt/name.key and returns the paths. */
async function writePair(dir: string, name: string, pair: CertKeyPair): Promise<{ crt: string; key: string }> {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await writeFile(crt, pair.certPem);
  await writeFile(key, pair.keyPem);
  return { crt, key };
}

function decodeKubeconfigUser(yamlText: string): { certPem: string; keyPem: string; caPem: string; server: string } {
  const cfg = parseYaml(yamlText);
  return {
    certPem: Buffer.from(cfg.users[0].user['client-certificate-data'], 'base64').toString(),
    keyPem: Buffer.from(cfg.users[0].user['client-key-data'], 'base64').toString(),
    caPem: Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
    server: cfg.clusters[0].cluster.server,
  };
}

describe('createCA / issueCertificate', () => {
  let dir: string;
  let ca: CertKeyPair;
  let caPath: string;

  beforeAll(async () => {
    dir = await tempDir();
    ca = await createCA();
    caPath = (await writePair(dir, 'ca', ca)).crt;
  });

  it('creates a self-signed ECDSA P-256 CA with CA extensions and PKCS#8 key', async () => {
    expect(ca.keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(ca.certPem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    const text = await opensslText(caPath);
    expect(text).toMatch(/Subject: CN = kubernetes\n/);
    expect(text).toMatch(/Issuer: CN = kubernetes\n/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toContain('ASN1 OID: prime256v1');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(await opensslVerify(caPath, caPath)).toContain(': OK');
    // ~10 years of validity by default.
    const notAfter = new Date(/Not After : (.*)\n/.exec(text)![1]!).getTime();
    expect(Math.round((notAfter - Date.now()) / 86_400_000)).toBe(3650);
  });

  it('honours commonName and validityDays for the CA', async () => {
    const other = await createCA({ commonName: 'etcd-ca', validityDays: 10 });
    const p = (await writePair(dir, 'etcd-ca', other)).crt;
    const text = await opensslText(p);
    expect(text).toMatch(/Subject: CN = etcd-ca\n/);
    const notAfter = new Date(/Not After : (.*)\n/.exec(text)![1]!).getTime();
    expect(Math.round((notAfter - Date.now()) / 86_400_000)).toBe(10);
  });

  it('issues a server certificate with SANs, serverAuth, and ids chaining to the CA', async () => {
    const leaf = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['kubernetes', 'example.test'],
      ipAddresses: ['10.96.0.1', '::1'],
      usage: 'server',
    });
    const { crt, key } = await writePair(dir, 'server', leaf);
    expect(await opensslVerify(caPath, crt)).toBe(`${crt}: OK\n`);
    const text = await opensslText(crt);
    expect(text).toMatch(/Subject: CN = kube-apiserver\n/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/);
    expect(text).toMatch(
      /Subject Alternative Name: \s*\n\s+DNS:kubernetes, DNS:example.test, IP Address:10.96.0.1, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    const caSki = /Subject Key Identifier: \s*\n\s+(\S+)/.exec(await opensslText(caPath))![1];
    expect(text).toMatch(new RegExp(`Authority Key Identifier: \\s*\\n\\s+(keyid:)?${caSki}`));
    // Key is PKCS#8 EC P-256 and belongs to the certificate.
    const pkey = (await run('openssl', ['pkey', '-in', key, '-noout', '-text'])).stdout;
    expect(pkey).toContain('ASN1 OID: prime256v1');
    const modulusOfKey = (await run('openssl', ['pkey', '-in', key, '-pubout'])).stdout;
    const modulusOfCert = (await run('openssl', ['x509', '-in', crt, '-noout', '-pubkey'])).stdout;
    expect(modulusOfKey).toBe(modulusOfCert);
  });

  it('issues client certificates with O before CN and clientAuth, and "both" carries both usages', async () => {
    const client = await issueCertificate(ca, {
      commonName: 'kubernetes-admin',
      organizations: ['system:masters', 'team-a'],
      usage: 'client',
    });
    const both = await issueCertificate(ca, { commonName: 'etcd', dnsNames: ['localhost'], usage: 'both' });
    const c = await writePair(dir, 'client', client);
    const b = await writePair(dir, 'both', both);
    expect(await opensslVerify(caPath, c.crt)).toContain(': OK');
    const ctext = await opensslText(c.crt);
    expect(ctext).toMatch(/Subject: O = system:masters, O = team-a, CN = kubernetes-admin\n/);
    expect(ctext).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
    expect(ctext).not.toContain('Subject Alternative Name');
    const btext = await opensslText(b.crt);
    expect(btext).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    // openssl's purpose checks agree.
    await expect(run('openssl', ['verify', '-CAfile', caPath, '-purpose', 'sslserver', c.crt])).rejects.toThrow();
    expect((await run('openssl', ['verify', '-CAfile', caPath, '-purpose', 'sslclient', c.crt])).stdout).toContain(': OK');
  });

  it('uses random, distinct serial numbers and fresh keys per certificate', async () => {
    const a = await issueCertificate(ca, { commonName: 'x', usage: 'client' });
    const b = await issueCertificate(ca, { commonName: 'x', usage: 'client' });
    const serial = async (pem: string) => {
      const p = join(dir, `serial-${Math.random()}.crt`);
      await writeFile(p, pem);
      return (await run('openssl', ['x509', '-in', p, '-noout', '-serial'])).stdout;
    };
    const [sa, sb] = [await serial(a.certPem), await serial(b.certPem)];
    expect(sa).not.toBe(sb);
    expect(sa.trim().length).toBeGreaterThan('serial='.length + 20);
    expect(a.keyPem).not.toBe(b.keyPem);
  });

  it('rejects invalid SANs and unknown usages', async () => {
    await expect(issueCertificate(ca, { commonName: 'x', ipAddresses: ['not-an-ip'], usage: 'server' })).rejects.toThrow(
      /invalid IP address/,
    );
    await expect(issueCertificate(ca, { commonName: 'x', usage: 'peer' as never })).rejects.toThrow(/unknown usage/);
  });

  it('signs with a CA loaded from disk, including an RSA CA made by openssl (kubeadm-style)', async () => {
    const rsaDir = await tempDir();
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(rsaDir, 'ca.key'), '-out', join(rsaDir, 'ca.crt'),
      '-days', '1', '-subj', '/CN=kubernetes', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,digitalSignature',
    ]);
    const rsaCA = await loadCA(rsaDir);
    const leaf = await issueCertificate(rsaCA, { commonName: 'kube-apiserver', dnsNames: ['localhost'], usage: 'server' });
    const { crt } = await writePair(rsaDir, 'leaf', leaf);
    expect(await opensslVerify(join(rsaDir, 'ca.crt'), crt)).toContain(': OK');
    expect(await opensslText(crt)).toContain('Signature Algorithm: sha256WithRSAEncryption');
  });

  it('loadCA refuses a key that does not belong to the certificate, or a non-CA certificate', async () => {
    const badDir = await tempDir();
    const other = await createCA();
    await writeFile(join(badDir, 'ca.crt'), ca.certPem);
    await writeFile(join(badDir, 'ca.key'), other.keyPem);
    await expect(loadCA(badDir)).rejects.toThrow(/does not match/);
    const leaf = await issueCertificate(ca, { commonName: 'x', usage: 'client' });
    await writeFile(join(badDir, 'ca.crt'), leaf.certPem);
    await writeFile(join(badDir, 'ca.key'), leaf.keyPem);
    await expect(loadCA(badDir)).rejects.toThrow(/not a CA certificate/);
  });
});

describe('createServiceAccountKeyPair', () => {
  it('creates an RSA 2048 pair usable for RS256 signatures', async () => {
    const pair = await createServiceAccountKeyPair();
    expect(pair.privatePem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(pair.publicPem.startsWith('-----BEGIN PUBLIC KEY-----\n')).toBe(true);
    const key = createPrivateKey(pair.privatePem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const payload = 'header.claims';
    const signature = createSign('RSA-SHA256').update(payload).sign(pair.privatePem);
    expect(createVerify('RSA-SHA256').update(payload).verify(pair.publicPem, signature)).toBe(true);
    expect(createPublicKey(pair.publicPem).export({ format: 'pem', type: 'spki' })).toBe(pair.publicPem);
  });
});

describe('buildKubeconfig', () => {
  it('is byte-identical to what kubectl writes back, and kubectl reads the embedded credentials', async () => {
    const dir = await tempDir();
    const ca = await createCA();
    const client = await issueCertificate(ca, { commonName: 'jane', usage: 'client' });
    const yamlText = buildKubeconfig({
      server: 'https://127.0.0.1:6443',
      caPem: ca.certPem,
      user: 'jane',
      certPem: client.certPem,
      keyPem: client.keyPem,
    });
    const path = join(dir, 'jane.conf');
    await writeFile(path, yamlText);
    const { stdout } = await run('kubectl', ['--kubeconfig', path, 'config', 'view', '--raw']);
    expect(stdout).toBe(yamlText);
    const { stdout: ctx } = await run('kubectl', ['--kubeconfig', path, 'config', 'current-context']);
    expect(ctx).toBe('jane@kubelab\n');
    const u = decodeKubeconfigUser(yamlText);
    expect(u).toEqual({ certPem: client.certPem, keyPem: client.keyPem, caPem: ca.certPem, server: 'https://127.0.0.1:6443' });
  });

  it('writes a token user with a custom cluster name', async () => {
    const dir = await tempDir();
    const ca = await createCA();
    const yamlText = buildKubeconfig({ clusterName: 'lab', server: 'https://10.0.0.1:6443', caPem: ca.certPem, user: 'bot', token: 'abc.def' });
    const path = join(dir, 'bot.conf');
    await writeFile(path, yamlText);
    const { stdout } = await run('kubectl', ['--kubeconfig', path, 'config', 'view', '--raw']);
    expect(stdout).toBe(yamlText);
    expect(parseYaml(yamlText)).toMatchObject({
      'current-context': 'bot@lab',
      contexts: [{ name: 'bot@lab', context: { cluster: 'lab', user: 'bot' } }],
      users: [{ name: 'bot', user: { token: 'abc.def' } }],
    });
  });

  it('requires credentials, and cert and key together', () => {
    expect(() => buildKubeconfig({ server: 'https://x', caPem: 'x', user: 'u' })).toThrow(/token is required/);
    expect(() => buildKubeconfig({ server: 'https://x', caPem: 'x', user: 'u', certPem: 'c' })).toThrow(/together/);
  });
});

describe('initPKI', () => {
  let dir: string;
  let first: InitPKIResult;
  let server: Server;
  let port: number;
  const seenClients: Array<{ cn: string; o: string | string[] | undefined }> = [];

  beforeAll(async () => {
    dir = await tempDir();
    first = await initPKI({
      dir,
      server: 'https://127.0.0.1:6443',
      apiserverSANs: { dnsNames: ['api.kubelab.test'], ipAddresses: ['192.0.2.10'] },
      nodeName: 'Node-1',
      etcdSANs: { ipAddresses: ['192.0.2.11'] },
    });
    server = createServer(
      {
        cert: await readFile(join(dir, 'apiserver.crt')),
        key: await readFile(join(dir, 'apiserver.key')),
        ca: await readFile(join(dir, 'ca.crt')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seenClients.push({ cn: peer.subject.CN as string, o: peer.subject.O });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('writes every file with keys at mode 0600', async () => {
    expect((await readdir(dir)).sort()).toEqual(
      [
        'admin.conf', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', 'apiserver.crt', 'apiserver.key',
        'ca.crt', 'ca.key', 'controller-manager.conf', 'kube-proxy.conf', 'sa.key', 'sa.pub', 'scheduler.conf',
        'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'etcd',
      ].sort(),
    );
    expect((await readdir(join(dir, 'etcd'))).sort()).toEqual(
      ['ca.crt', 'ca.key', 'healthcheck-client.crt', 'healthcheck-client.key', 'peer.crt', 'peer.key', 'server.crt', 'server.key'],
    );
    for (const f of [
      'ca.key', 'apiserver.key', 'apiserver-kubelet-client.key', 'sa.key', 'admin.conf', 'scheduler.conf', 'controller-manager.conf', 'kube-proxy.conf',
      'apiserver-etcd-client.key', 'etcd/ca.key', 'etcd/server.key', 'etcd/peer.key', 'etcd/healthcheck-client.key',
    ]) {
      expect(((await stat(join(dir, f))).mode & 0o777).toString(8), f).toBe('600');
    }
    for (const f of ['ca.crt', 'apiserver.crt', 'sa.pub']) {
      expect(((await stat(join(dir, f))).mode & 0o777).toString(8), f).toBe('644');
    }
    expect(first.entries.every((e) => e.action === 'created')).toBe(true);
  });

  it('gives the apiserver certificate the default and extra SANs, and the kubelet client its identity', async () => {
    const ca = join(dir, 'ca.crt');
    for (const f of ['apiserver.crt', 'apiserver-kubelet-client.crt']) {
      expect(await opensslVerify(ca, join(dir, f))).toContain(': OK');
    }
    const api = await opensslText(join(dir, 'apiserver.crt'));
    expect(api).toMatch(/Subject: CN = kube-apiserver\n/);
    expect(api).toContain('TLS Web Server Authentication');
    const san = /Subject Alternative Name: \s*\n\s+(.*)\n/.exec(api)![1]!.split(', ');
    expect(san.sort()).toEqual(
      [
        'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
        'DNS:localhost', 'DNS:api.kubelab.test', 'IP Address:10.96.0.1', 'IP Address:127.0.0.1', 'IP Address:192.0.2.10',
      ].sort(),
    );
    const kc = await opensslText(join(dir, 'apiserver-kubelet-client.crt'));
    expect(kc).toMatch(/Subject: O = system:masters, CN = kube-apiserver-kubelet-client\n/);
    expect(kc).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
    expect(createPrivateKey(await readFile(join(dir, 'sa.key'))).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('lays out etcd certificates as kubeadm: their own CA, server and peer certs for both usages, client certs', async () => {
    const etcdCA = join(dir, 'etcd', 'ca.crt');
    expect(await opensslText(etcdCA)).toMatch(/Subject: CN = etcd-ca\n/);
    for (const f of ['etcd/server.crt', 'etcd/peer.crt', 'etcd/healthcheck-client.crt', 'apiserver-etcd-client.crt']) {
      expect(await opensslVerify(etcdCA, join(dir, f))).toContain(': OK');
      // Not trusted by the cluster CA: etcd trusts only its own clients.
      await expect(opensslVerify(join(dir, 'ca.crt'), join(dir, f))).rejects.toThrow();
    }
    for (const f of ['etcd/server.crt', 'etcd/peer.crt']) {
      const text = await opensslText(join(dir, f));
      expect(text).toMatch(/Subject: CN = node-1\n/);
      expect(text).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
      const san = /Subject Alternative Name: \s*\n\s+(.*)\n/.exec(text)![1]!.split(', ');
      expect(san.sort()).toEqual(['DNS:localhost', 'DNS:node-1', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:192.0.2.11'].sort());
    }
    const client = await opensslText(join(dir, 'apiserver-etcd-client.crt'));
    expect(client).toMatch(/Subject: CN = kube-apiserver-etcd-client\n/);
    expect(client).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
    expect(await opensslText(join(dir, 'etcd/healthcheck-client.crt'))).toMatch(/Subject: CN = kube-etcd-healthcheck-client\n/);
  });

  it('embeds client certificates with the right identities in each kubeconfig', async () => {
    const expected: Record<string, { user: string; subject: string }> = {
      'admin.conf': { user: 'kubernetes-admin', subject: 'O = system:masters, CN = kubernetes-admin' },
      'scheduler.conf': { user: 'system:kube-scheduler', subject: 'CN = system:kube-scheduler' },
      'controller-manager.conf': { user: 'system:kube-controller-manager', subject: 'CN = system:kube-controller-manager' },
      'kube-proxy.conf': { user: 'system:kube-proxy', subject: 'CN = system:kube-proxy' },
    };
    const caPem = await readFile(join(dir, 'ca.crt'), 'utf8');
    for (const [file, want] of Object.entries(expected)) {
      const text = await readFile(join(dir, file), 'utf8');
      const cfg = parseYaml(text);
      expect(cfg['current-context']).toBe(`${want.user}@kubelab`);
      const u = decodeKubeconfigUser(text);
      expect(u.caPem).toBe(caPem);
      expect(u.server).toBe('https://127.0.0.1:6443');
      const certPath = join(dir, `.${file}.crt`);
      await writeFile(certPath, u.certPem);
      expect(await opensslVerify(join(dir, 'ca.crt'), certPath)).toContain(': OK');
      expect(await opensslText(certPath)).toContain(`Subject: ${want.subject}\n`);
      await unlink(certPath);
    }
  });

  it('serves mutual TLS with apiserver.crt: accepts the admin client certificate, rejects a client without one', async () => {
    const admin = decodeKubeconfigUser(await readFile(join(dir, 'admin.conf'), 'utf8'));
    const get = (opts: { cert?: string; key?: string }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', servername: 'kubernetes', port, path: '/', ca: admin.caPem, ...opts },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await get({ cert: admin.certPem, key: admin.keyPem })).toEqual({ status: 200, body: '{}' });
    expect(seenClients.at(-1)).toEqual({ cn: 'kubernetes-admin', o: 'system:masters' });
    await expect(get({})).rejects.toThrow();
    // A certificate from another CA is rejected as well.
    const strangerCA = await createCA();
    const stranger = await issueCertificate(strangerCA, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' });
    await expect(get({ cert: stranger.certPem, key: stranger.keyPem })).rejects.toThrow();
  });

  it('kubectl authenticates with every kubeconfig and verifies the apiserver certificate', async () => {
    const home = await tempDir();
    const env = { ...process.env, HOME: home, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
    const users: Record<string, string> = {
      'admin.conf': 'kubernetes-admin',
      'scheduler.conf': 'system:kube-scheduler',
      'controller-manager.conf': 'system:kube-controller-manager',
      'kube-proxy.conf': 'system:kube-proxy',
    };
    for (const [file, cn] of Object.entries(users)) {
      const { stdout } = await run(
        'kubectl',
        ['--kubeconfig', join(dir, file), '--server', `https://127.0.0.1:${port}`, 'get', '--raw', '/'],
        { env },
      );
      expect(stdout).toBe('{}');
      expect(seenClients.at(-1)?.cn).toBe(cn);
    }
    // Checked against a name that is not in the certificate, kubectl refuses the server.
    const args = ['--kubeconfig', join(dir, 'admin.conf'), '--server', `https://127.0.0.1:${port}`, '--request-timeout=5s'];
    await expect(run('kubectl', [...args, '--tls-server-name', 'other.example', 'get', '--raw', '/'], { env })).rejects.toThrow(
      /x509: certificate is valid for .*, not other\.example/,
    );
    // The in-cluster name of Service "kubernetes" is in the certificate.
    const { stdout } = await run('kubectl', [...args, '--tls-server-name', 'kubernetes.default.svc', 'get', '--raw', '/'], { env });
    expect(stdout).toBe('{}');
  });

  it('is idempotent: a second run reuses everything and changes no file', async () => {
    const files = async () => (await readdir(dir, { recursive: true })).filter((f) => f !== 'etcd');
    const before = new Map<string, string>();
    for (const f of await files()) before.set(f, await readFile(join(dir, f), 'utf8'));
    expect(before.has('etcd/peer.key')).toBe(true);
    const second = await initPKI({
      dir,
      server: 'https://127.0.0.1:6443',
      apiserverSANs: { dnsNames: ['api.kubelab.test'], ipAddresses: ['192.0.2.10'] },
      nodeName: 'node-1',
      etcdSANs: { ipAddresses: ['192.0.2.11'] },
    });
    expect(second.entries.map((e) => e.action)).toEqual(first.entries.map(() => 'reused'));
    expect(second.ca).toEqual(first.ca);
    for (const f of await files()) expect(await readFile(join(dir, f), 'utf8'), f).toBe(before.get(f));
  });

  it('regenerates only what is missing, signed by the existing CA', async () => {
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');
    const apiBefore = await readFile(join(dir, 'apiserver.crt'), 'utf8');
    await unlink(join(dir, 'kube-proxy.conf'));
    await unlink(join(dir, 'sa.pub'));
    await unlink(join(dir, 'etcd/peer.crt'));
    await unlink(join(dir, 'etcd/peer.key'));
    const result = await initPKI({ dir, server: 'https://127.0.0.1:6443', nodeName: 'node-1', etcdSANs: { ipAddresses: ['192.0.2.11'] } });
    const created = result.entries.filter((e) => e.action === 'created').map((e) => e.name);
    expect(created.sort()).toEqual(['etcd/peer', 'kube-proxy.conf', 'sa']);
    expect(await opensslVerify(join(dir, 'etcd/ca.crt'), join(dir, 'etcd/peer.crt'))).toContain(': OK');
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(caBefore);
    expect(await readFile(join(dir, 'apiserver.crt'), 'utf8')).toBe(apiBefore);
    const proxy = decodeKubeconfigUser(await readFile(join(dir, 'kube-proxy.conf'), 'utf8'));
    expect(proxy.caPem).toBe(caBefore);
    // sa.pub is derived again from the existing sa.key.
    const pub = await readFile(join(dir, 'sa.pub'), 'utf8');
    expect(createPublicKey(await readFile(join(dir, 'sa.key'))).export({ type: 'spki', format: 'pem' })).toBe(pub);
  });

  it('refuses inconsistent state instead of silently overwriting it', async () => {
    await expect(initPKI({ dir, server: 'https://10.0.0.1:6443' })).rejects.toThrow(/not valid for 10.0.0.1/);
    await expect(
      initPKI({ dir, server: 'https://127.0.0.1:6443', apiserverSANs: { dnsNames: ['new.example'] } }),
    ).rejects.toThrow(/apiserver is invalid: .* is not valid for new.example/);
    await expect(
      initPKI({ dir, server: 'https://127.0.0.1:6443', nodeName: 'node-2' }),
    ).rejects.toThrow(/etcd\/server is invalid: .* is not valid for node-2/);

    const half = await tempDir();
    const ca = await createCA();
    await writeFile(join(half, 'ca.crt'), ca.certPem);
    await expect(initPKI({ dir: half, server: 'https://127.0.0.1:6443' })).rejects.toThrow(/ca.crt exists but .*ca.key does not/);

    const wrongServer = await tempDir();
    await initPKI({ dir: wrongServer, server: 'https://127.0.0.1:6443' });
    await expect(
      initPKI({ dir: wrongServer, server: 'https://localhost:6443' }),
    ).rejects.toThrow(/admin.conf" exists already but has an unexpected API Server URL/);
  });
});

describe('pki CLI', () => {
  it('init writes the files and prints what it did, then reports reuse', async () => {
    const dir = join(await tempDir(), 'pki');
    let out = '';
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (out += t) };
    const code = await runPKICli(
      ['init', '--dir', dir, '--server', 'https://127.0.0.1:6443', '--apiserver-cert-extra-sans=node1.example,198.51.100.7'],
      io,
    );
    expect(code).toBe(0);
    expect(out).toContain(`[certs] Generating "ca" certificate and key: ${join(dir, 'ca.crt')}, ${join(dir, 'ca.key')}`);
    expect(out).toContain(`[kubeconfig] Writing "admin.conf" kubeconfig file: ${join(dir, 'admin.conf')}`);
    expect(out.trim().split('\n')).toHaveLength(13);
    expect(out).toContain(`[certs] Generating "etcd/ca" certificate and key: ${join(dir, 'etcd', 'ca.crt')}, ${join(dir, 'etcd', 'ca.key')}`);
    expect(out).toContain(`[certs] Generating "apiserver-etcd-client" certificate and key: ${join(dir, 'apiserver-etcd-client.crt')}`);
    const san = await opensslText(join(dir, 'apiserver.crt'));
    expect(san).toContain('DNS:node1.example');
    expect(san).toContain('IP Address:198.51.100.7');

    out = '';
    expect(await runPKICli(['init', '--dir', dir], io)).toBe(0);
    expect(out).toContain('[certs] Using existing ca certificate authority');
    expect(out).not.toContain('Generating');
  });

  it('fails with usage on a bad command line', async () => {
    let err = '';
    const io = { stdout: () => {}, stderr: (t: string) => (err += t) };
    expect(await runPKICli(['frobnicate'], io)).toBe(1);
    expect(err).toContain('unknown command "frobnicate"');
    err = '';
    expect(await runPKICli(['init', '--bogus'], io)).toBe(1);
    expect(err).toContain("Unknown option '--bogus'");
  });

  it('runs as a real process through main.ts', async () => {
    const dir = join(await tempDir(), 'pki');
    const { stdout } = await run(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'main.ts'), 'init', '--dir', dir, '--server', 'https://127.0.0.1:6443'],
      { cwd: join(import.meta.dirname, '..', '..', '..', '..') },
    );
    expect(stdout).toContain('[kubeconfig] Writing "kube-proxy.conf" kubeconfig file');
    await loadCA(dir);
  });
});
