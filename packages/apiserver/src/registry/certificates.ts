// certificates.k8s.io/v1 CertificateSigningRequest strategies (upstream pkg/registry/certificates/
// certificates/strategy.go and pkg/apis/certificates/validation): the spec is written once, on create,
// with the requesting user's identity; /status sets the certificate, /approval the Approved/Denied
// conditions. Nothing else may change them.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { fieldErrors, invalid, type FieldError, type KubeObject } from '@kubelab/api';
import type { UserInfo } from '../auth/authn.js';
import type { StatusStrategy } from './strategy.js';
import type { ResourceStrategy } from './defaults.js';
import { rfc3339 } from './store.js';

x509.cryptoProvider.set(webcrypto as never);

const GK = { group: 'certificates.k8s.io', kind: 'CertificateSigningRequest' };

export const VALID_USAGES = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
] as const;

const TRUE_ONLY = new Set(['Approved', 'Denied', 'Failed']);
const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

function conditionsOf(csr: KubeObject): Condition[] {
  return (csr.status?.conditions as Condition[] | undefined) ?? [];
}

/** The PEM text of spec.request (base64 of PEM bytes on the wire). */
export function requestPem(csr: KubeObject): string {
  const req = csr.spec?.request;
  if (typeof req !== 'string' || !req) return '';
  return Buffer.from(req, 'base64').toString('utf8');
}

/** Parses the PKCS#10 request in spec.request; throws with upstream's wording when it is not one. */
export function parseRequest(csr: KubeObject): x509.Pkcs10CertificateRequest {
  const pem = requestPem(csr);
  const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (!m) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  if (m[1] !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  try {
    return new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new Error(`asn1: structure error: ${(err as Error).message}`);
  }
}

/** Upstream's ValidateSignerName: `<domain>/<path>`, a fully qualified domain and a path of at most 253 characters. */
function validateSignerName(name: unknown): FieldError[] {
  const f = 'spec.signerName';
  if (typeof name !== 'string' || !name) return [fieldErrors.required(f, '')];
  const parts = name.split('/');
  if (parts.length < 2) return [fieldErrors.invalid(f, name, 'must be a fully qualified domain and path of the form \'example.com/signer-name\'')];
  const domain = parts[0]!;
  const path = parts.slice(1).join('/');
  const errs: FieldError[] = [];
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(domain)) {
    errs.push(fieldErrors.invalid(f, name, 'should be a domain with at least two segments separated by dots'));
  }
  if (!path) errs.push(fieldErrors.invalid(f, name, 'validating path: must not be empty'));
  else if (path.length > 253) errs.push(fieldErrors.tooLong(f, name, 253));
  return errs;
}

function validateCertificate(pem: string): string | undefined {
  if (!pem) return undefined;
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (!blocks.length) return 'must contain at least one CERTIFICATE PEM block';
  for (const b of blocks) {
    if (b[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(b[1])}`;
    if (/^[A-Za-z-]+:/m.test(b[2]!)) return 'no PEM block headers are permitted';
    try {
      new x509.X509Certificate(b[0]);
    } catch (err) {
      return `x509: malformed certificate: ${(err as Error).message}`;
    }
  }
  return undefined;
}

function validateConditions(csr: KubeObject, old: KubeObject | null): FieldError[] {
  const errs: FieldError[] = [];
  const oldConds = old ? conditionsOf(old) : [];
  const oldTypes = oldConds.map((c) => c.type);
  const legacyBoth = oldTypes.includes('Approved') && oldTypes.includes('Denied');
  const legacyDup = new Set(oldTypes).size !== oldTypes.length;
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  for (const [i, c] of conditionsOf(csr).entries()) {
    const p = `status.conditions[${i}]`;
    if (!c.type && !oldTypes.includes('')) errs.push(fieldErrors.required(`${p}.type`, ''));
    const allowed = TRUE_ONLY.has(c.type ?? '') ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errs.push(fieldErrors.required(`${p}.status`, ''));
    else if (!allowed.includes(c.status)) errs.push(fieldErrors.notSupported(`${p}.status`, c.status, allowed));
    if (!legacyBoth) {
      if (c.type === 'Approved') {
        approved = true;
        if (denied) errs.push(fieldErrors.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === 'Denied') {
        denied = true;
        if (approved) errs.push(fieldErrors.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!legacyDup) {
      if (seen.has(c.type ?? '')) errs.push(fieldErrors.duplicate(`${p}.type`, c.type));
      seen.add(c.type ?? '');
    }
  }
  return errs;
}

/** Upstream's validateCertificateSigningRequest (create and the common part of updates). */
export function validateCSR(csr: KubeObject, old: KubeObject | null = null): FieldError[] {
  const errs: FieldError[] = [];
  const spec = csr.spec ?? {};
  try {
    parseRequest(csr);
  } catch (err) {
    errs.push(fieldErrors.invalid('spec.request', spec.request ?? '', (err as Error).message));
  }
  const usages: unknown[] = Array.isArray(spec.usages) ? spec.usages : [];
  if (!usages.length) errs.push(fieldErrors.required('spec.usages', ''));
  const oldUsages: unknown[] = old?.spec?.usages ?? [];
  const tolerateUnknown = oldUsages.some((u) => !(VALID_USAGES as readonly unknown[]).includes(u));
  const tolerateDup = new Set(oldUsages).size !== oldUsages.length;
  const seen = new Set<unknown>();
  for (const [i, u] of usages.entries()) {
    if (!tolerateUnknown && !(VALID_USAGES as readonly unknown[]).includes(u)) errs.push(fieldErrors.notSupported(`spec.usages[${i}]`, u, VALID_USAGES));
    if (!tolerateDup && seen.has(u)) errs.push(fieldErrors.duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  }
  if (spec.signerName === LEGACY_UNKNOWN_SIGNER && old?.spec?.signerName !== LEGACY_UNKNOWN_SIGNER) {
    errs.push(fieldErrors.invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName(spec.signerName));
  }
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && spec.expirationSeconds < 600) {
    errs.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, old));
  const cert = certificatePem(csr);
  const untouched = old !== null && cert === certificatePem(old);
  if (!untouched && !(old && validateCertificate(certificatePem(old)))) {
    const why = validateCertificate(cert);
    if (why) errs.push(fieldErrors.invalid('status.certificate', '<certificate data>', why));
  }
  return errs;
}

function certificatePem(csr: KubeObject): string {
  const c = csr.status?.certificate;
  return typeof c === 'string' && c ? Buffer.from(c, 'base64').toString('utf8') : '';
}

/** Which parts an update may touch, per subresource (upstream's validation options). */
function validateUpdate(csr: KubeObject, old: KubeObject, opts: { approval: boolean; certificate: boolean }): FieldError[] {
  const errs = validateCSR(csr, old);
  const count = (o: KubeObject, t: string) => conditionsOf(o).filter((c) => c.type === t);
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (count(csr, t).length < count(old, t).length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!opts.approval) {
    for (const t of ['Approved', 'Denied']) {
      const n = count(csr, t);
      const o = count(old, t);
      if (n.length > o.length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (n.length === o.length && JSON.stringify(n) !== JSON.stringify(o)) {
        errs.push(fieldErrors.forbidden('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
      }
    }
  }
  const cert = certificatePem(csr);
  const oldCert = certificatePem(old);
  if (cert !== oldCert) {
    if (!opts.certificate) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not modify existing certificate content'));
    else if (!isApproved(csr)) errs.push(fieldErrors.forbidden('status.certificate', 'a certificate may only be issued for an approved request'));
  }
  return errs;
}

/** Approved and neither Denied nor Failed. */
export function isApproved(csr: KubeObject): boolean {
  const conds = conditionsOf(csr);
  return conds.some((c) => c.type === 'Approved' && c.status === 'True') && !conds.some((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
}

/** Fills lastUpdateTime / lastTransitionTime of conditions that are new or changed (upstream's populateConditionTimestamps). */
function stampConditions(csr: KubeObject, old: KubeObject | null, now: Date): void {
  const ts = rfc3339(now);
  const before = old ? conditionsOf(old) : [];
  for (const c of conditionsOf(csr)) {
    c.lastUpdateTime ||= ts;
    if (!c.lastTransitionTime) {
      const prev = before.find((o) => o.type === c.type);
      c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : ts;
    }
  }
}

/** Records who asked, as upstream's PrepareForCreate does from the request's user. */
export function setRequester(csr: KubeObject, user: UserInfo): void {
  csr.spec ??= {};
  csr.spec.username = user.name;
  if (user.uid) csr.spec.uid = user.uid;
  else delete csr.spec.uid;
  csr.spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) csr.spec.extra = structuredClone(user.extra);
  else delete csr.spec.extra;
}

export const csrStrategy: ResourceStrategy = () => ({
  // spec.username, uid, groups and extra are the requester's, never what the client wrote (upstream's
  // PrepareForCreate). Requests carry their requester (WriteOptions.requester); without one, they are cleared.
  prepareForCreate(csr: KubeObject, requester) {
    delete csr.status;
    csr.spec ??= {};
    if (requester) setRequester(csr, requester.user);
    else for (const k of ['username', 'uid', 'groups', 'extra']) delete csr.spec[k];
  },
  prepareForUpdate(csr, old) {
    // Neither spec nor status change through the main resource.
    csr.spec = structuredClone(old.spec);
    if (old.status === undefined) delete csr.status;
    else csr.status = structuredClone(old.status);
  },
  validate: (csr) => validateCSR(csr),
  validateUpdate: (csr, old) => validateUpdate(csr, old, { approval: false, certificate: false }),
  async beginCreate(csr) {
    // The signature check is asynchronous, so it runs here rather than in validate.
    const req = parseRequest(csr);
    if (!(await req.verify())) {
      throw invalid(GK, csr.metadata.name ?? '', [fieldErrors.invalid('spec.request', csr.spec.request, 'x509: ECDSA verification failure')]);
    }
  },
});

/** certificatesigningrequests/status: the signer writes status.certificate and conditions other than Approved/Denied. */
export function csrStatusStrategy(clock: () => Date = () => new Date()): StatusStrategy {
  return {
    prepareForUpdate(csr, old) {
      csr.spec = structuredClone(old.spec);
      csr.status ??= {};
      // Approved/Denied are owned by /approval: keep the old ones.
      const keep = conditionsOf(old).filter((c) => c.type === 'Approved' || c.type === 'Denied');
      const rest = conditionsOf(csr).filter((c) => c.type !== 'Approved' && c.type !== 'Denied');
      csr.status.conditions = [...keep, ...rest];
      if (!csr.status.conditions.length) delete csr.status.conditions;
      stampConditions(csr, old, clock());
    },
    validateUpdate: (csr, old) => validateUpdate(csr, old, { approval: false, certificate: true }),
  };
}

/** certificatesigningrequests/approval: only the conditions change. */
export function csrApprovalStrategy(clock: () => Date = () => new Date()): StatusStrategy {
  return {
    prepareForUpdate(csr, old) {
      const conditions = conditionsOf(csr);
      csr.spec = structuredClone(old.spec);
      csr.status = structuredClone(old.status ?? {});
      if (conditions.length) csr.status.conditions = conditions;
      else delete csr.status.conditions;
      stampConditions(csr, old, clock());
    },
    validateUpdate: (csr, old) => validateUpdate(csr, old, { approval: true, certificate: false }),
  };
}

/** The subresource table entry for registry/index.ts. */
export const csrSubresources: Record<string, StatusStrategy> = { status: csrStatusStrategy(), approval: csrApprovalStrategy() };
