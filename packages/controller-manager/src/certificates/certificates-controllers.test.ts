import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '@kubelab/api';
import { createCA } from '@kubelab/component-base';
import { seededInformer } from '../testing.js';
import { CSRApprovingController, type SubjectAccessReviewSpec } from './csr-approving-controller.js';
import { CSRSigningController } from './csr-signing-controller.js';
import { loadAuthority } from './csr.js';

x509.cryptoProvider.set(webcrypto as never);

async function csr(name: string, subject: string, opts: { signerName?: string; usages?: string[]; username?: string; conditions?: object[] } = {}): Promise<KubeObject> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys: keys as never, signingAlgorithm: alg });
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(req.toString('pem')).toString('base64'),
      signerName: opts.signerName ?? 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: opts.usages ?? ['digital signature', 'client auth'],
      username: opts.username ?? 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
    },
    status: opts.conditions ? { conditions: opts.conditions } : {},
  };
}

function approver(objs: KubeObject[], allow: (s: SubjectAccessReviewSpec) => boolean) {
  const reviews: SubjectAccessReviewSpec[] = [];
  const written: KubeObject[] = [];
  const c = new CSRApprovingController({
    csrInformer: seededInformer(objs),
    subjectAccessReview: async (s) => {
      reviews.push(s);
      return allow(s);
    },
    updateApproval: async (o) => written.push(o),
  });
  return { c, reviews, written };
}

describe('CSRApprovingController', () => {
  it('approves a bootstrapper\'s kubelet client CSR after a nodeclient SubjectAccessReview', async () => {
    const { c, reviews, written } = approver([await csr('a', 'CN=system:node:n1, O=system:nodes')], (s) => s.resourceAttributes.subresource === 'nodeclient');
    await c.sync('a');
    expect(reviews.map((r) => r.resourceAttributes.subresource)).toEqual(['nodeclient']);
    expect(reviews[0]).toMatchObject({
      user: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
      resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create' },
    });
    expect(written[0]!.status.conditions[0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'AutoApproved' });
  });

  it('checks selfnodeclient first when the node renews its own certificate', async () => {
    const { c, reviews, written } = approver([await csr('a', 'CN=system:node:n1, O=system:nodes', { username: 'system:node:n1' })], () => true);
    await c.sync('a');
    expect(reviews.map((r) => r.resourceAttributes.subresource)).toEqual(['selfnodeclient']);
    expect(written[0]!.status.conditions[0].message).toBe('Auto approving self kubelet client certificate after SubjectAccessReview.');
  });

  it('leaves the CSR alone when the review says no, or the request is not a kubelet client one', async () => {
    const denied = approver([await csr('a', 'CN=system:node:n1, O=system:nodes')], () => false);
    await denied.c.sync('a');
    expect(denied.written).toEqual([]);
    for (const o of [
      await csr('b', 'CN=system:node:n1, O=system:masters'),
      await csr('c', 'CN=someone, O=system:nodes'),
      await csr('d', 'CN=system:node:n1, O=system:nodes', { usages: ['digital signature', 'client auth', 'server auth'] }),
      await csr('e', 'CN=system:node:n1, O=system:nodes', { signerName: 'kubernetes.io/kube-apiserver-client' }),
      await csr('f', 'CN=system:node:n1, O=system:nodes', { conditions: [{ type: 'Denied', status: 'True' }] }),
    ]) {
      const a = approver([o], () => true);
      await a.c.sync(o.metadata.name!);
      expect(a.written, o.metadata.name).toEqual([]);
    }
  });
});

describe('CSRSigningController', () => {
  const approved = [{ type: 'Approved', status: 'True' }];

  async function signer(objs: KubeObject[]) {
    const ca = await createCA();
    const written: KubeObject[] = [];
    const c = new CSRSigningController({
      csrInformer: seededInformer(objs),
      authority: () => loadAuthority(ca.certPem, ca.keyPem),
      updateStatus: async (o) => written.push(o),
      maxDurationMs: 365 * 24 * 3_600_000,
    });
    return { c, written, ca };
  }

  it('signs an approved kubelet client CSR with the cluster CA', async () => {
    const { c, written, ca } = await signer([await csr('a', 'CN=system:node:n1, O=system:nodes', { conditions: approved })]);
    await c.sync('a');
    const cert = new X509Certificate(Buffer.from(written[0]!.status.certificate, 'base64'));
    expect(cert.subject).toBe('CN=system:node:n1\nO=system:nodes');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('honours spec.expirationSeconds', async () => {
    const o = await csr('a', 'CN=system:node:n1, O=system:nodes', { conditions: approved });
    o.spec.expirationSeconds = 3600;
    const { c, written } = await signer([o]);
    await c.sync('a');
    const cert = new X509Certificate(Buffer.from(written[0]!.status.certificate, 'base64'));
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(lifetime).toBeGreaterThan(3600_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000 + 5 * 60_000 + 1000);
  });

  it('does not sign unapproved, denied or other signers\' requests', async () => {
    const objs = [
      await csr('a', 'CN=system:node:n1, O=system:nodes'),
      await csr('b', 'CN=system:node:n1, O=system:nodes', { conditions: [{ type: 'Denied', status: 'True' }] }),
      await csr('c', 'CN=x', { signerName: 'example.com/other', conditions: approved }),
    ];
    const { c, written } = await signer(objs);
    for (const o of objs) await c.sync(o.metadata.name!);
    expect(written).toEqual([]);
  });

  it('marks an approved request that breaks its signer\'s rules as Failed', async () => {
    const { c, written } = await signer([await csr('a', 'CN=system:node:n1, O=system:masters', { conditions: approved })]);
    await c.sync('a');
    expect(written[0]!.status.certificate).toBeUndefined();
    expect(written[0]!.status.conditions[1]).toMatchObject({ type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: 'subject organization is not system:nodes' });
  });
});
