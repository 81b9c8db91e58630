/**
 * Cluster PKI primitives: a self-signed CA, leaf certificates it signs, and the service-account key pair.
 *
 * All key generation and signing go through WebCrypto (Node's `crypto.webcrypto`) and @peculiar/x509;
 * node:crypto's KeyObject is only used to read existing PEM keys of any encoding (PKCS#1, SEC1, PKCS#8).
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
// Must be evaluated before @peculiar/x509 (its tsyringe dependency needs Reflect metadata at load time).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

// The tsconfig has no DOM lib: name the WebCrypto types through node:crypto's webcrypto namespace.
type Crypto = webcrypto.Crypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

const crypto: Crypto = webcrypto;
x509.cryptoProvider.set(crypto);

/** A PEM certificate and its PEM private key (PKCS#8 for keys generated here). */
export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface CreateCAOptions {
  commonName?: string;
  validityDays?: number;
}

export type CertificateUsage = 'server' | 'client' | 'both';

export interface IssueCertificateOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: CertificateUsage;
  validityDays?: number;
  /** An explicit validity period (overrides validityDays), e.g. an already expired certificate for a test. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface ServiceAccountKeyPair {
  /** SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), upstream's `sa.pub`. */
  publicPem: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), upstream's `sa.key`. */
  privatePem: string;
}

/** Certificates are valid from a little before "now" so that small clock skew between hosts is tolerated (kubeadm backdates too). */
export const CERTIFICATE_BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const EC_KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const RSA_KEY_ALGORITHM: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** Creates a self-signed CA certificate with a fresh ECDSA P-256 key. */
export async function createCA(options: CreateCAOptions = {}): Promise<CertKeyPair> {
  const commonName = options.commonName ?? 'kubernetes';
  const validityDays = options.validityDays ?? 3650;
  const keys = await generateEcKeyPair();
  const { notBefore, notAfter } = validity(validityDays);
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: subjectName(commonName, []),
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
          true,
        ),
        ski,
        new x509.AuthorityKeyIdentifierExtension(ski.keyId),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** Issues a leaf certificate with a fresh ECDSA P-256 key, signed by `ca`. */
export async function issueCertificate(ca: CertKeyPair, options: IssueCertificateOptions): Promise<CertKeyPair> {
  if (!options.commonName) throw new Error('issueCertificate: commonName must not be empty');
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const keys = await generateEcKeyPair();
  const period = validity(options.validityDays ?? 365);
  const notBefore = options.notBefore ?? period.notBefore;
  const notAfter = options.notAfter ?? period.notAfter;

  const extKeyUsages: string[] = [];
  if (options.usage === 'server' || options.usage === 'both') extKeyUsages.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.usage === 'client' || options.usage === 'both') extKeyUsages.push(x509.ExtendedKeyUsage.clientAuth);
  if (extKeyUsages.length === 0) throw new Error(`issueCertificate: unknown usage ${JSON.stringify(options.usage)}`);

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(extKeyUsages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await authorityKeyIdentifier(caCert),
  ];
  const altNames = subjectAltNames(options.dnsNames ?? [], options.ipAddresses ?? []);
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));

  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: subjectName(options.commonName, options.organizations ?? []),
      issuer: caCert.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey.key,
      signingAlgorithm: caKey.signingAlgorithm,
      extensions,
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * Reads `ca.crt` and `ca.key` from `dir`. Throws if either is missing, if the certificate is not a CA,
 * or if the key does not belong to the certificate.
 */
export async function loadCA(dir: string): Promise<CertKeyPair> {
  const certPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  const keyPem = await readFile(join(dir, 'ca.key'), 'utf8');
  const cert = new x509.X509Certificate(certPem);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new Error(`${join(dir, 'ca.crt')} is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (!keyMatchesCertificate(keyPem, certPem)) {
    throw new Error(`${join(dir, 'ca.key')} does not match the public key of ${join(dir, 'ca.crt')}`);
  }
  return { certPem, keyPem };
}

/** An RSA 2048 key pair for signing service-account tokens (RS256), like upstream's `sa.key` / `sa.pub`. */
export async function createServiceAccountKeyPair(): Promise<ServiceAccountKeyPair> {
  const keys = (await crypto.subtle.generateKey(RSA_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  return {
    publicPem: toPem(spki, 'PUBLIC KEY'),
    privatePem: await exportPrivateKeyPem(keys.privateKey),
  };
}

/** True when the PEM private key is the counterpart of the certificate's public key. */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  const fromCert = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCert);
}

/** True when `certPem` names `caCertPem`'s subject as issuer and carries a valid signature from its key. */
export function isIssuedBy(certPem: string, caCertPem: string): boolean {
  const cert = new NodeX509Certificate(certPem);
  const ca = new NodeX509Certificate(caCertPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** DNS names and IP addresses in a certificate's subjectAltName (empty lists if it has none). */
export function certificateSANs(certPem: string): { dnsNames: string[]; ipAddresses: string[] } {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
  };
}

/** Splits a list of SANs into IP addresses and DNS names, the way kubeadm treats `--apiserver-cert-extra-sans`. */
export function splitSANs(sans: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const raw of sans) {
    const san = raw.trim();
    if (san === '') continue;
    if (isIP(san) !== 0) ipAddresses.push(san);
    else dnsNames.push(san);
  }
  return { dnsNames, ipAddresses };
}

// --- helpers ---

async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`validityDays must be a positive number, got ${days}`);
  const now = Date.now();
  return { notBefore: new Date(now - CERTIFICATE_BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** 128 random bits, top bit cleared so the DER INTEGER stays positive without padding. */
function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** Organization before CommonName, the RDN order Go's pkix.Name produces (`O = system:masters, CN = kubernetes-admin`). */
function subjectName(commonName: string, organizations: string[]): x509.JsonName {
  const name: x509.JsonName = [];
  for (const o of organizations) name.push({ O: [o] });
  name.push({ CN: [commonName] });
  return name;
}

function subjectAltNames(dnsNames: string[], ipAddresses: string[]): x509.JsonGeneralName[] {
  const out: x509.JsonGeneralName[] = [];
  for (const dns of new Set(dnsNames)) {
    if (dns === '' || isIP(dns) !== 0) throw new Error(`invalid DNS name for subjectAltName: ${JSON.stringify(dns)}`);
    out.push({ type: 'dns', value: dns });
  }
  for (const ip of new Set(ipAddresses)) {
    if (isIP(ip) === 0) throw new Error(`invalid IP address for subjectAltName: ${JSON.stringify(ip)}`);
    out.push({ type: 'ip', value: ip });
  }
  return out;
}

async function authorityKeyIdentifier(caCert: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  // Reuse the CA's own subjectKeyIdentifier so chain building matches even for CAs created elsewhere.
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto);
}

/** Imports a PEM private key of any common encoding (PKCS#8, PKCS#1 RSA, SEC1 EC) as a WebCrypto signing key. */
async function importSigningKey(keyPem: string): Promise<{ key: CryptoKey; signingAlgorithm: Algorithm }> {
  const keyObject = createPrivateKey(keyPem);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  switch (keyObject.asymmetricKeyType) {
    case 'ec': {
      const curve = keyObject.asymmetricKeyDetails?.namedCurve;
      const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
      if (!namedCurve) throw new Error(`unsupported CA key curve ${curve}`);
      const hash = namedCurve === 'P-256' ? 'SHA-256' : namedCurve === 'P-384' ? 'SHA-384' : 'SHA-512';
      const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
      return { key, signingAlgorithm: { name: 'ECDSA', hash } as EcdsaParams };
    }
    case 'rsa': {
      const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
      return { key, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
    }
    default:
      throw new Error(`unsupported CA key type ${keyObject.asymmetricKeyType}`);
  }
}

async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
