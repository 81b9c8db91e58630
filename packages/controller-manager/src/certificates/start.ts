// Start functions for the certificates controllers (registered in controllers.ts).
import { readFileSync } from 'node:fs';
import { findResource, type KubeObject } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { CSRApprovingController } from './csr-approving-controller.js';
import { CSRSigningController } from './csr-signing-controller.js';
import { loadAuthority, type CertificateAuthority } from './csr.js';

const CSRS = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;

export const startCSRSigning: StartFunc = (ctx) => {
  const { clusterSigningCertFile: certFile, clusterSigningKeyFile: keyFile } = ctx.config;
  if (!certFile || !keyFile) {
    ctx.logger.info?.({ controller: 'certificatesigningrequest-signing-controller' }, 'Skipping controller: no --cluster-signing-cert-file / --cluster-signing-key-file');
    return undefined;
  }
  // Read now so that a bad file fails the start, as upstream.
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  let authority: Promise<CertificateAuthority> | undefined;
  return {
    controller: new CSRSigningController({
      csrInformer: ctx.informers.forResource(CSRS),
      authority: () => (authority ??= loadAuthority(certPem, keyPem)),
      updateStatus: (csr) => ctx.client.resource<KubeObject>(CSRS).updateStatus(csr),
      maxDurationMs: ctx.config.clusterSigningDurationMs,
      clock: ctx.clock,
      logger: controllerLogger(ctx, 'certificatesigningrequest-signing-controller'),
    }),
    workers: 5,
  };
};

export const startCSRApproving: StartFunc = (ctx) => ({
  controller: new CSRApprovingController({
    csrInformer: ctx.informers.forResource(CSRS),
    subjectAccessReview: async (spec) => {
      const review = await ctx.client.request<{ status?: { allowed?: boolean } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      });
      return !!review.status?.allowed;
    },
    updateApproval: (csr) =>
      ctx.client.request({ method: 'PUT', path: `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(csr.metadata.name!)}/approval`, body: csr }),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'certificatesigningrequest-approving-controller'),
  }),
  workers: 5,
});
