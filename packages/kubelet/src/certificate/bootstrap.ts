// Counterpart of pkg/kubelet/certificate/bootstrap/bootstrap.go and client-go's util/certificate/csr and
// util/certificate's file store: the kubelet's TLS bootstrap. If --kubeconfig holds a client certificate that is
// still valid, nothing happens; otherwise the kubelet authenticates with --bootstrap-kubeconfig (a bootstrap token),
// sends a CertificateSigningRequest for system:node:<nodeName> (signer kubernetes.io/kube-apiserver-client-kubelet),
// waits for it to be approved and issued, stores key and certificate in <cert-dir>/kubelet-client-<date>.pem with the
// symlink kubelet-client-current.pem, and writes --kubeconfig pointing at that file.
import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import { findResource, isAlreadyExists, StatusError, type KubeObject, type WatchEvent } from '@kubelab/api';
import { parseKubeconfig, RestClient, type RestConfig } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import { stringify } from 'yaml';

x509.cryptoProvider.set(webcrypto as never);

export const KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
/** The file store's prefix for the kubelet's client pair (upstream's "kubelet-client"). */
export const CLIENT_PAIR_PREFIX = 'kubelet-client';
/** Where the private key of a pending request waits, so that a restarted kubelet reuses key and CSR (upstream's tmpPrivateKeyFile). */
export const TMP_PRIVATE_KEY_FILE = 'kubelet-client.key.tmp';

/** How often an unreachable apiserver is tried again during the bootstrap. */
const RETRY_INTERVAL_MS = 1000;

const EC_P256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** What the bootstrap needs of certificatesigningrequests (a ResourceClient fits). */
export interface CSRClient {
  create(csr: KubeObject): Promise<KubeObject>;
  get(name: string): Promise<KubeObject>;
  watch(opts: { fieldSelector?: string; resourceVersion?: string; timeoutSeconds?: number }): Promise<AsyncIterable<WatchEvent<KubeObject>> & { stop(): void }>;
}

function toPem(der: ArrayBuffer | Buffer, label: string): string {
  const lines = Buffer.from(der as ArrayBuffer).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A fresh ECDSA P-256 private key as PKCS#8 PEM (upstream's keyutil.MakeEllipticPrivateKeyPEM). */
export async function newPrivateKeyPem(): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

/** The usages of a kubelet client certificate: key encipherment only for RSA keys (upstream's kubelet client usages). */
export function kubeletClientUsages(keyPem: string): string[] {
  const rsa = createPrivateKey(keyPem).asymmetricKeyType === 'rsa';
  return rsa ? ['digital signature', 'key encipherment', 'client auth'] : ['digital signature', 'client auth'];
}

async function importKeyPair(keyPem: string): Promise<{ keys: webcrypto.CryptoKeyPair; algorithm: webcrypto.Algorithm }> {
  const priv = createPrivateKey(keyPem);
  const pkcs8 = priv.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(priv).export({ type: 'spki', format: 'der' });
  const algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams =
    priv.asymmetricKeyType === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  return { keys: { privateKey, publicKey }, algorithm: { ...algorithm, hash: 'SHA-256' } as unknown as webcrypto.Algorithm };
}

/** A PKCS#10 request for the node's client certificate: CN system:node:<nodeName>, O system:nodes, no SANs. */
export async function nodeClientCSR(nodeName: string, keyPem: string): Promise<string> {
  const { keys, algorithm } = await importKeyPair(keyPem);
  const escaped = `system:node:${nodeName}`.replace(/([,+"\\<>;=])/g, '\\$1');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `O=system:nodes, CN=${escaped}`, keys: keys as never, signingAlgorithm: algorithm as never });
  return csr.toString('pem');
}

/**
 * Upstream's digestedName: node-csr-<digest (SHA-512/256) of the public key, the subject and the usages>, so the same
 * key asks with the same name across restarts and a second create finds the first request. The digest is unpadded
 * base64url, as upstream's (CSR names are not held to DNS rules).
 */
export function digestedName(keyPem: string, nodeName: string, usages: readonly string[]): string {
  const h = createHash('sha512-256');
  const field = (b: Buffer | string) => {
    const data = typeof b === 'string' ? Buffer.from(b) : b;
    h.update(`${data.length}|`);
    h.update(data);
  };
  field(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }));
  field('system:nodes');
  field(`system:node:${nodeName}`);
  for (const u of usages) field(u);
  return `node-csr-${h.digest('base64url')}`;
}

/** The CertificateSigningRequest object the kubelet creates. */
export function csrObject(name: string, csrPem: string, usages: readonly string[], signerName = KUBE_APISERVER_CLIENT_KUBELET): KubeObject {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName, usages: [...usages] },
  };
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** What a PKCS#10 request asks for: its subject and public key (the signature differs each time an ECDSA key signs). */
function requestIdentity(csr: KubeObject): string {
  try {
    const req = new x509.Pkcs10CertificateRequest(Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString('utf8'));
    return `${req.subject}|${Buffer.from(req.publicKey.rawData).toString('base64')}`;
  } catch {
    return '';
  }
}

/** client-go's ensureCompatible: same subject, public key, signer and usages. */
function compatibleRequests(existing: KubeObject, wanted: KubeObject): boolean {
  const usages = (o: KubeObject) => [...((o.spec?.usages as string[] | undefined) ?? [])].sort().join(',');
  const id = requestIdentity(existing);
  return id !== '' && id === requestIdentity(wanted) && existing.spec?.signerName === wanted.spec?.signerName && usages(existing) === usages(wanted);
}

/** client-go's csr.RequestCertificate: creates the CSR, or adopts an existing one of the same name that asks for the same thing. */
export async function requestCertificate(client: CSRClient, csr: KubeObject): Promise<KubeObject> {
  try {
    return await client.create(csr);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const name = String(csr.metadata?.name ?? '');
    const existing = await client.get(name);
    if (!compatibleRequests(existing, csr)) {
      throw new Error(`retrieved csr is not compatible: certificate signing request ${name} exists with a different request`);
    }
    return existing;
  }
}

/** The issued certificate of a CSR, or undefined while pending; throws when denied or failed (client-go's csr.WaitForCertificate's check). */
export function issuedCertificate(csr: KubeObject, logger?: Logger): string | undefined {
  const conditions = (csr.status?.conditions as Condition[] | undefined) ?? [];
  let approved = false;
  for (const c of conditions) {
    if (c.type === 'Denied' && c.status === 'True') {
      throw new Error(`certificate signing request is denied, reason: ${c.reason ?? ''}, message: ${c.message ?? ''}`);
    }
    if (c.type === 'Failed' && c.status === 'True') {
      throw new Error(`certificate signing request failed, reason: ${c.reason ?? ''}, message: ${c.message ?? ''}`);
    }
    if (c.type === 'Approved' && c.status === 'True') approved = true;
  }
  if (!approved) return undefined;
  const cert = csr.status?.certificate as string | undefined;
  if (cert) return Buffer.from(cert, 'base64').toString('utf8');
  logger?.info({ csr: csr.metadata?.name }, 'certificate signing request is approved, waiting to be issued');
  return undefined;
}

/**
 * Waits, through a watch on the one CSR, until it is issued (PEM certificate returned), denied or failed (thrown), or
 * the timeout passes. A closed watch is started again after a fresh read.
 */
export async function waitForCertificate(client: CSRClient, name: string, opts: { timeoutMs: number; logger?: Logger }): Promise<string> {
  const deadline = Date.now() + opts.timeoutMs;
  let current = await client.get(name);
  for (let attempt = 0; ; attempt++) {
    const pem = issuedCertificate(current, opts.logger);
    if (pem) return pem;
    const left = deadline - Date.now();
    if (left <= 0 || attempt > 1000) throw new Error(`timed out waiting for the certificate of certificate signing request ${name}`);
    const w = await client.watch({
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: current.metadata?.resourceVersion,
      timeoutSeconds: Math.max(1, Math.ceil(left / 1000)),
    });
    const timer = setTimeout(() => w.stop(), left);
    try {
      for await (const ev of w) {
        if (ev.type === 'DELETED') throw new Error(`certificate signing request ${name} was deleted`);
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        current = ev.object;
        const issued = issuedCertificate(current, opts.logger);
        if (issued) return issued;
      }
    } finally {
      clearTimeout(timer);
      w.stop();
    }
    // The watch ended (timeout, an ERROR event such as 410 Gone): start over from a fresh read.
    current = await client.get(name);
  }
}

/** Upstream's certificate store check: a certificate whose validity period contains now, with a key that matches it. */
export function validClientPair(certPem: string | undefined, keyPem: string | undefined, now = new Date()): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (now.getTime() < Date.parse(cert.validFrom) || now.getTime() > Date.parse(cert.validTo)) return false;
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Upstream's isClientConfigStillValid: the kubeconfig exists and its client certificate is within its validity period. */
export function kubeconfigStillValid(path: string, now = new Date()): boolean {
  if (!existsSync(path)) return false;
  try {
    const c = parseKubeconfig(readFileSync(path, 'utf8'), { dir: dirname(resolve(path)) });
    return validClientPair(c.cert, c.key, now);
  } catch {
    return false;
  }
}

/** The path of <cert-dir>/kubelet-client-current.pem. */
export const currentPairPath = (certDir: string) => join(certDir, `${CLIENT_PAIR_PREFIX}-current.pem`);

/** The current pair of the file store, if its certificate is valid. */
export function loadCurrentPair(certDir: string, now = new Date()): { certPem: string; keyPem: string } | undefined {
  let text: string;
  try {
    text = readFileSync(currentPairPath(certDir), 'utf8');
  } catch {
    return undefined;
  }
  return validClientPair(text, text, now) ? { certPem: text, keyPem: text } : undefined;
}

/** Go's "2006-01-02-15-04-05" in UTC. */
function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
}

/** client-go's fileStore.Update: certificate(s) and key in one dated file (0600), then the -current symlink moved onto it. */
export function storePair(certDir: string, certPem: string, keyPem: string, now = new Date()): string {
  if (!validClientPair(certPem, keyPem, now)) throw new Error('the issued certificate does not match the private key or is not valid now');
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const dated = resolve(join(certDir, `${CLIENT_PAIR_PREFIX}-${stamp(now)}.pem`));
  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  writeFileSync(dated, nl(certPem) + nl(keyPem), { mode: 0o600 });
  const current = currentPairPath(certDir);
  const updating = `${current}.updating`;
  rmSync(updating, { force: true });
  symlinkSync(dated, updating);
  // A regular file in the symlink's place (upstream refuses it too, but moving aside keeps the node joinable).
  if (existsSync(current) && !lstatSync(current).isSymbolicLink()) unlinkSync(current);
  renameSync(updating, current);
  return current;
}

/** Upstream's writeKubeconfigFromBootstrapping: the bootstrap kubeconfig's cluster, with the stored pair as client credentials. */
export function kubeconfigForPair(bootstrap: RestConfig, pairPath: string): string {
  const cluster: Record<string, unknown> = { server: bootstrap.server };
  if (bootstrap.ca) cluster['certificate-authority-data'] = Buffer.from(bootstrap.ca).toString('base64');
  if (bootstrap.insecureSkipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
  if (bootstrap.tlsServerName) cluster['tls-server-name'] = bootstrap.tlsServerName;
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'default-cluster', cluster }],
      contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } }],
      'current-context': 'default-context',
      preferences: {},
      users: [{ name: 'default-auth', user: { 'client-certificate': pairPath, 'client-key': pairPath } }],
    },
    { lineWidth: 0 },
  );
}

export interface BootstrapOptions {
  /** --kubeconfig: read if valid, else written. */
  kubeconfigPath: string;
  /** --bootstrap-kubeconfig; empty: no bootstrap (the kubeconfig must be usable as is). */
  bootstrapKubeconfigPath: string;
  /** --cert-dir. */
  certDir: string;
  nodeName: string;
  logger: Logger;
  /** The CSR client authenticated with the bootstrap credentials (a RestClient's certificatesigningrequests by default). */
  csrClient: (bootstrap: RestConfig) => CSRClient;
  /** How long to wait for the certificate (upstream: 1 h). */
  timeoutMs?: number;
  now?: () => Date;
}

export type BootstrapOutcome = 'kubeconfig-valid' | 'existing-certificate' | 'bootstrapped';

/** Upstream's LoadClientCert: makes --kubeconfig hold a valid client certificate of the node. */
export async function loadClientCert(o: BootstrapOptions): Promise<BootstrapOutcome> {
  const now = o.now ?? (() => new Date());
  if (kubeconfigStillValid(o.kubeconfigPath, now())) return 'kubeconfig-valid';
  if (!o.bootstrapKubeconfigPath) return 'kubeconfig-valid';
  const bootstrap = parseKubeconfig(readFileSync(o.bootstrapKubeconfigPath, 'utf8'), { dir: dirname(resolve(o.bootstrapKubeconfigPath)) });
  const writeKubeconfig = (pairPath: string) => {
    mkdirSync(dirname(resolve(o.kubeconfigPath)), { recursive: true });
    writeFileSync(o.kubeconfigPath, kubeconfigForPair(bootstrap, resolve(pairPath)), { mode: 0o600 });
  };
  if (loadCurrentPair(o.certDir, now())) {
    o.logger.info({ path: currentPairPath(o.certDir) }, 'Current client certificate is still valid; writing the kubeconfig for it');
    writeKubeconfig(currentPairPath(o.certDir));
    return 'existing-certificate';
  }
  mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
  const tmpKey = join(o.certDir, TMP_PRIVATE_KEY_FILE);
  let keyPem: string;
  try {
    keyPem = readFileSync(tmpKey, 'utf8');
    createPrivateKey(keyPem);
  } catch {
    keyPem = await newPrivateKeyPem();
    writeFileSync(tmpKey, keyPem, { mode: 0o600 });
  }
  const usages = kubeletClientUsages(keyPem);
  const name = digestedName(keyPem, o.nodeName, usages);
  const client = o.csrClient(bootstrap);
  o.logger.info({ csr: name, node: o.nodeName }, 'Requesting a client certificate with the bootstrap credentials');
  const timeoutMs = o.timeoutMs ?? 3_600_000;
  const deadline = Date.now() + timeoutMs;
  const request = csrObject(name, await nodeClientCSR(o.nodeName, keyPem), usages);
  let csr: KubeObject;
  // Upstream waits for the apiserver first (waitForServer): an unreachable or overloaded server is retried until the
  // deadline, a refusal (401, 403, 4xx) is final.
  for (let attempt = 1; ; attempt++) {
    try {
      csr = await requestCertificate(client, request);
      break;
    } catch (err) {
      const code = err instanceof StatusError ? err.status.code : 0;
      const retriable = code === 0 || code === 429 || code >= 500;
      if (!retriable || Date.now() + RETRY_INTERVAL_MS > deadline || attempt >= 10_000) throw err;
      o.logger.warn({ err: (err as Error).message, attempt }, 'Failed to reach the apiserver for the TLS bootstrap; retrying');
      await new Promise((r) => setTimeout(r, RETRY_INTERVAL_MS));
    }
  }
  const certPem = await waitForCertificate(client, String(csr.metadata?.name), { timeoutMs: Math.max(1, deadline - Date.now()), logger: o.logger });
  const pairPath = storePair(o.certDir, certPem, keyPem, now());
  rmSync(tmpKey, { force: true });
  writeKubeconfig(pairPath);
  o.logger.info({ csr: name, kubeconfig: o.kubeconfigPath }, 'Client certificate issued; kubeconfig written');
  return 'bootstrapped';
}

const CSRS = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;

/** loadClientCert talking to the apiserver of the bootstrap kubeconfig with its credentials (what the kubelet runs before it starts). */
export async function bootstrapClientCertificate(o: Omit<BootstrapOptions, 'csrClient'>): Promise<BootstrapOutcome> {
  const clients: RestClient[] = [];
  try {
    return await loadClientCert({
      ...o,
      csrClient: (bootstrap) => {
        const c = new RestClient({ ...bootstrap, userAgent: `kubelet/${o.nodeName}/bootstrap` });
        clients.push(c);
        return c.resource(CSRS);
      },
    });
  } finally {
    for (const c of clients) c.close();
  }
}
