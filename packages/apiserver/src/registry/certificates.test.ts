import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { fieldErrorString, type KubeObject } from '@kubelab/api';
import { csrApprovalStrategy, csrStrategy, csrStatusStrategy, validateCSR } from './certificates.js';
import { defaultStrategy } from './defaults.js';
import { findResource } from '@kubelab/api';

x509.cryptoProvider.set(webcrypto as never);
const info = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;
const strategy = { ...defaultStrategy(info), ...csrStrategy(defaultStrategy(info), info) };

async function newCSR(): Promise<KubeObject> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=system:node:n1, O=system:nodes', keys: keys as never, signingAlgorithm: alg });
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'c' },
    spec: { request: Buffer.from(req.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
  };
}

const msgs = (errs: ReturnType<typeof validateCSR>) => errs.map(fieldErrorString);

describe('CertificateSigningRequest strategy', () => {
  it('accepts a well-formed request and reports upstream\'s field errors', async () => {
    const ok = await newCSR();
    expect(validateCSR(ok)).toEqual([]);
    const bad = {
      ...ok,
      spec: {
        ...ok.spec,
        request: Buffer.from('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n').toString('base64'),
        usages: [],
        signerName: '',
        expirationSeconds: 60,
      },
    };
    const errs = msgs(validateCSR(bad));
    expect(errs.some((e) => e.includes('spec.request: Invalid value') && e.includes('PEM block type must be CERTIFICATE REQUEST'))).toBe(true);
    expect(errs).toContain('spec.usages: Required value');
    expect(errs).toContain('spec.signerName: Required value');
    expect(errs).toContain('spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)');
  });

  it('sets the requester from the request user and drops client-sent status', async () => {
    const o = await newCSR();
    o.spec.username = 'forged';
    o.status = { certificate: 'Zm9v' };
    const requester = { user: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }, authorizer: { authorize: async () => ({ allowed: true as const }) } };
    strategy.prepareForCreate(o, requester);
    expect(o.spec.username).toBe('system:bootstrap:abcdef');
    expect(o.spec.groups).toEqual(['system:bootstrappers', 'system:authenticated']);
    expect(o.status).toBeUndefined();
  });

  it('keeps spec and status on main-resource updates', async () => {
    const old = await newCSR();
    const upd = structuredClone(old);
    upd.spec.usages = ['client auth'];
    upd.status = { conditions: [{ type: 'Approved', status: 'True' }] };
    strategy.prepareForUpdate(upd, old);
    expect(upd.spec).toEqual(old.spec);
    expect(upd.status).toBeUndefined();
  });

  it('/approval: Approved and Denied are exclusive, and may not be removed', async () => {
    const old = await newCSR();
    const approval = csrApprovalStrategy(() => new Date('2025-01-01T00:00:00Z'));
    const both = { ...structuredClone(old), status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } };
    approval.prepareForUpdate(both, old);
    expect(msgs(approval.validateUpdate(both, old))).toContain('status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive');
    const ok = { ...structuredClone(old), status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R' }] } };
    approval.prepareForUpdate(ok, old);
    expect(approval.validateUpdate(ok, old)).toEqual([]);
    expect(ok.status.conditions[0]).toMatchObject({ lastUpdateTime: '2025-01-01T00:00:00Z', lastTransitionTime: '2025-01-01T00:00:00Z' });
    const removed = { ...structuredClone(ok), status: { conditions: [] } };
    approval.prepareForUpdate(removed, ok);
    expect(msgs(approval.validateUpdate(removed, ok))).toContain('status.conditions: Forbidden: updates may not remove a condition of type "Approved"');
  });

  it('/status: cannot approve, and a certificate needs approval first', async () => {
    const old = await newCSR();
    const status = csrStatusStrategy();
    const sneaky = { ...structuredClone(old), status: { conditions: [{ type: 'Approved', status: 'True' }] } };
    status.prepareForUpdate(sneaky, old);
    expect(sneaky.status.conditions).toBeUndefined();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=x',
      keys: (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    const cert = Buffer.from(ca.toString('pem')).toString('base64');
    const early = { ...structuredClone(old), status: { certificate: cert } };
    status.prepareForUpdate(early, old);
    expect(msgs(status.validateUpdate(early, old)).join('\n')).toContain('status.certificate: Forbidden');
    const approved = { ...structuredClone(old), status: { conditions: [{ type: 'Approved', status: 'True' }] } };
    const signed = { ...structuredClone(approved), status: { ...approved.status, certificate: cert } };
    status.prepareForUpdate(signed, approved);
    expect(status.validateUpdate(signed, approved)).toEqual([]);
    const again = { ...structuredClone(signed), status: { ...signed.status, certificate: Buffer.from(ca.toString('pem') + ca.toString('pem')).toString('base64') } };
    status.prepareForUpdate(again, signed);
    expect(msgs(status.validateUpdate(again, signed))).toContain('status.certificate: Forbidden: updates may not modify existing certificate content');
  });
});
