// CertificateSigningRequest helpers shared by the signing and approving controllers (upstream's
// pkg/apis/certificates helpers and pkg/controller/certificates/authority): parsing the PKCS#10
// request, condition checks, the per-signer request rules, and signing with the cluster CA.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '@kubelab/api';

x509.cryptoProvider.set(webcrypto as never);

export const KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';

interface Condition {
  type?: string;
  status?: string;
}

const conditions = (csr: KubeObject): Condition[] => (csr.status?.conditions as Condition[] | undefined) ?? [];
const hasTrue = (csr: KubeObject, type: string) => conditions(csr).some((c) => c.type === type && c.status === 'True');

/** Upstream's GetCertApprovalCondition: approved/denied as recorded. */
export function approvalState(csr: KubeObject): { approved: boolean; denied: boolean } {
  return { approved: hasTrue(csr, 'Approved'), denied: hasTrue(csr, 'Denied') };
}

export const isFailed = (csr: KubeObject) => hasTrue(csr, 'Failed');

/** The parsed request (spec.request is base64 of PEM). */
export function parseCSR(csr: KubeObject): x509.Pkcs10CertificateRequest {
  const pem = Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  return new x509.Pkcs10CertificateRequest(pem);
}

export interface RequestFacts {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

function subjectValues(name: x509.Name, type: string): string[] {
  const out: string[] = [];
  for (const rdn of name.toJSON()) for (const [k, v] of Object.entries(rdn)) if (k === type) out.push(...v);
  return out;
}

export function requestFacts(req: x509.Pkcs10CertificateRequest): RequestFacts {
  const f: RequestFacts = {
    commonName: subjectValues(req.subjectName, 'CN')[0] ?? '',
    organizations: subjectValues(req.subjectName, 'O'),
    dnsNames: [],
    ipAddresses: [],
    emailAddresses: [],
    uris: [],
  };
  const san = req.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') f.dnsNames.push(n.value);
    else if (n.type === 'ip') f.ipAddresses.push(n.value);
    else if (n.type === 'email') f.emailAddresses.push(n.value);
    else if (n.type === 'url') f.uris.push(n.value);
  }
  return f;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Upstream's ValidateKubeletClientCSR (kubernetes.io/kube-apiserver-client-kubelet): O=[system:nodes],
 * CN system:node:<name>, no SANs, usages within {digital signature, key encipherment, client auth}
 * including client auth. Returns why not, or undefined.
 */
export function kubeletClientProblem(f: RequestFacts, usages: readonly string[]): string | undefined {
  if (!sameSet(f.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  if (f.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (f.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (f.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (f.uris.length) return 'URI subjectAltNames are not allowed';
  if (!f.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return usageProblem(usages, ['digital signature', 'key encipherment', 'client auth'], 'client auth');
}

/** Upstream's ValidateKubeletServingCSR (kubernetes.io/kubelet-serving). */
export function kubeletServingProblem(f: RequestFacts, usages: readonly string[]): string | undefined {
  if (!sameSet(f.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  if (!f.dnsNames.length && !f.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (f.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (f.uris.length) return 'URI subjectAltNames are not allowed';
  if (!f.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return usageProblem(usages, ['digital signature', 'key encipherment', 'server auth'], 'server auth');
}

/** kubernetes.io/kube-apiserver-client: client certificates only. */
export function apiserverClientProblem(_f: RequestFacts, usages: readonly string[]): string | undefined {
  return usageProblem(usages, ['digital signature', 'key encipherment', 'client auth'], 'client auth');
}

function usageProblem(usages: readonly string[], allowed: readonly string[], required: string): string | undefined {
  const bad = usages.filter((u) => !allowed.includes(u));
  if (bad.length) return `usages did not match [${allowed.join(' ')}]`;
  if (!usages.includes(required)) return `missing required usages: [${required}]`;
  return undefined;
}

export interface CertificateAuthority {
  cert: x509.X509Certificate;
  key: webcrypto.CryptoKey;
  signingAlgorithm: webcrypto.Algorithm;
}

/** Imports the CA (PEM certificate and a PKCS#1, SEC1 or PKCS#8 key). */
export async function loadAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const ko = createPrivateKey(keyPem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    const hash = curve === 'P-384' ? 'SHA-384' : 'SHA-256';
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { cert, key, signingAlgorithm: { name: 'ECDSA', hash } as webcrypto.Algorithm };
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { cert, key, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new Error(`unsupported CA key type ${ko.asymmetricKeyType}`);
}

const KEY_USAGE_BITS: Record<string, number> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};

const EXT_KEY_USAGES: Record<string, string> = {
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  's/mime': x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  any: '2.5.29.37.0',
};

/** Certificates start a little in the past to tolerate clock skew (upstream's 5 minute backdate). */
export const BACKDATE_MS = 5 * 60_000;

/**
 * Signs the request's public key and subject (upstream's CertificateAuthority.Sign): usages become key
 * usage and extended key usage, validity is the requested expirationSeconds capped by `maxDurationMs`
 * and by the CA's own expiry.
 */
export async function signRequest(
  ca: CertificateAuthority,
  req: x509.Pkcs10CertificateRequest,
  usages: readonly string[],
  opts: { now: Date; maxDurationMs: number; expirationSeconds?: number },
): Promise<string> {
  const facts = requestFacts(req);
  let duration = opts.maxDurationMs;
  if (opts.expirationSeconds && opts.expirationSeconds * 1000 < duration) duration = opts.expirationSeconds * 1000;
  const notBefore = new Date(opts.now.getTime() - BACKDATE_MS);
  let notAfter = new Date(opts.now.getTime() + duration);
  if (notAfter > ca.cert.notAfter) notAfter = ca.cert.notAfter;
  let bits = 0;
  for (const u of usages) bits |= KEY_USAGE_BITS[u] ?? 0;
  const eku = [...new Set(usages.map((u) => EXT_KEY_USAGES[u]).filter((x): x is string => !!x))];
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (bits) extensions.push(new x509.KeyUsagesExtension(bits, true));
  if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  const caSKI = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (caSKI) extensions.push(new x509.AuthorityKeyIdentifierExtension(caSKI.keyId));
  const names: x509.JsonGeneralName[] = [
    ...facts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...facts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...facts.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...facts.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: req.subjectName,
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: req.publicKey,
    signingKey: ca.key as never,
    signingAlgorithm: ca.signingAlgorithm as never,
    extensions,
  });
  return cert.toString('pem') + '\n';
}
