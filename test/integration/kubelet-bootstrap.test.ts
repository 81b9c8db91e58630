// The kubelet's TLS bootstrap against a real apiserver (Node,RBAC, bootstrap tokens, NodeRestriction) and
// controller-manager (csrapproving, csrsigning): a token made as `hack/lab token` makes it, a bootstrap kubeconfig
// with only that token, and the kubelet's own bootstrap code (what its main runs before it starts) getting a
// certificate for system:node:<name>, writing --kubeconfig, and then acting as the node with it.
import { X509Certificate } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { buildKubeconfig, silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { createBootstrapToken } from '../../packages/kubelet/src/certificate/bootstrap-token.js';
import { bootstrapClientCertificate, currentPairPath } from '../../packages/kubelet/src/certificate/bootstrap.js';
import { CertificateRotation } from '../../packages/kubelet/src/certificate/rotation.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';
import { until } from '../fixtures/wait.js';

const NODES = findResource('', 'v1', 'nodes')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const CSRS = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;

let etcd: EtcdInstance;
let api: ApiServerInstance;
let cm: ControllerManager;
const cmConfig = (clusterSigningDurationMs?: number) =>
  validate({
    ...defaults(),
    leaderElect: false,
    securePort: 0,
    controllers: ['csrapproving', 'csrsigning'],
    clusterSigningCertFile: join(api.pkiDir, 'ca.crt'),
    clusterSigningKeyFile: join(api.pkiDir, 'ca.key'),
    ...(clusterSigningDurationMs ? { clusterSigningDurationMs } : {}),
  });
let admin: RestClient;
let dir: string;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({
    etcdEndpoint: etcd.endpoint,
    extraArgs: ['--authorization-mode=Node,RBAC', '--enable-bootstrap-token-auth=true', '--enable-admission-plugins=NodeRestriction'],
  });
  admin = new RestClient(loadKubeconfig(api.kubeconfig));
  cm = createControllerManager(cmConfig(), { client: admin, logger: silentLogger() });
  await cm.start();
  dir = mkdtempSync(join(tmpdir(), 'kubelet-bootstrap-int-'));
});

afterAll(async () => {
  await cm?.stop();
  admin?.close();
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function bootstrapKubeconfig(token: string): string {
  const file = join(dir, `bootstrap-${token.slice(0, 6)}.conf`);
  writeFileSync(file, buildKubeconfig({ server: api.url, caPem: readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8'), user: 'tls-bootstrap-token-user', token }));
  return file;
}

describe('kubelet TLS bootstrap', () => {
  it('joins with a bootstrap token: CSR auto-approved and signed, --kubeconfig written, then acts as system:node:<name>', async () => {
    const token = await createBootstrapToken(admin, { description: 'integration test' });
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const node = 'worker-7';
    const kubeconfigPath = join(dir, 'kubelet.conf');
    const certDir = join(dir, 'pki');
    const opts = { kubeconfigPath, bootstrapKubeconfigPath: bootstrapKubeconfig(token), certDir, nodeName: node, logger: silentLogger(), timeoutMs: 30_000 };

    expect(await bootstrapClientCertificate(opts)).toBe('bootstrapped');
    expect(lstatSync(currentPairPath(certDir)).isSymbolicLink()).toBe(true);

    // kubectl sees the request, made by the token's user, approved and issued.
    const csrs = JSON.parse((await kubectl(api.kubeconfig, ['get', 'csr', '-o', 'json'])).stdout).items;
    expect(csrs).toHaveLength(1);
    expect(csrs[0].metadata.name).toMatch(/^node-csr-/);
    expect(csrs[0].spec).toMatchObject({ username: `system:bootstrap:${token.slice(0, 6)}`, signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
    expect(csrs[0].spec.groups).toContain('system:bootstrappers:kubeadm:default-node-token');
    expect(csrs[0].status.conditions.find((c: { type: string }) => c.type === 'Approved')).toMatchObject({ status: 'True', reason: 'AutoApproved' });

    const rc = loadKubeconfig(kubeconfigPath);
    expect(rc.token).toBeUndefined();
    const cert = new X509Certificate(rc.cert!);
    expect(cert.subject).toBe(`O=system:nodes\nCN=system:node:${node}`);
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(api.pkiDir, 'ca.crt'))))).toBe(true);

    // The node registers itself and reads its Node back with the issued certificate...
    const kubelet = new RestClient(rc);
    try {
      await kubelet.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
      const got = await kubelet.resource(NODES).get(node);
      expect(got.metadata.name).toBe(node);
      // ...but NodeRestriction and the Node authorizer keep it to itself.
      await expect(kubelet.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'someone-else' } })).rejects.toThrow(/forbidden/i);
      await expect(kubelet.resource(SECRETS, 'kube-system').list()).rejects.toThrow(/forbidden/i);
    } finally {
      kubelet.close();
    }

    // A restart keeps the kubeconfig and asks for nothing more.
    expect(await bootstrapClientCertificate(opts)).toBe('kubeconfig-valid');
    const after = JSON.parse((await kubectl(api.kubeconfig, ['get', 'csr', '-o', 'json'])).stdout).items;
    expect(after).toHaveLength(1);
  });

  it('refuses a token the cluster does not know', async () => {
    const opts = {
      kubeconfigPath: join(dir, 'other.conf'),
      bootstrapKubeconfigPath: bootstrapKubeconfig('zzzzzz.0123456789abcdef'),
      certDir: join(dir, 'pki-other'),
      nodeName: 'worker-8',
      logger: silentLogger(),
      timeoutMs: 5000,
    };
    await expect(bootstrapClientCertificate(opts)).rejects.toThrow(/Unauthorized/);
  });

  it('with --rotate-certificates, renews the client certificate before it expires and keeps working past the old expiry', async () => {
    // Certificates of 15 s (plus the signer's 5 min backdate): renewed at 96.8% of their lifetime, about every 5 s.
    await cm.stop();
    cm = createControllerManager(cmConfig(15_000), { client: admin, logger: silentLogger() });
    await cm.start();
    const token = await createBootstrapToken(admin, { description: 'rotation test' });
    const node = 'worker-9';
    const certDir = join(dir, 'pki-9');
    const kubeconfigPath = join(dir, 'kubelet-9.conf');
    await bootstrapClientCertificate({ kubeconfigPath, bootstrapKubeconfigPath: bootstrapKubeconfig(token), certDir, nodeName: node, logger: silentLogger(), timeoutMs: 30_000 });
    const first = new X509Certificate(readFileSync(currentPairPath(certDir)));
    const kubelet = new RestClient(loadKubeconfig(kubeconfigPath));
    const rotation = new CertificateRotation({
      certDir,
      nodeName: node,
      csrClient: kubelet.resource(CSRS),
      onRotated: (certPem, keyPem) => kubelet.setClientCertificate(certPem, keyPem),
      logger: silentLogger(),
      rotationFraction: () => 0.968,
    });
    try {
      await kubelet.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
      expect(rotation.start()).toBe(true);
      await until('the first rotation', async () => rotation.rotations >= 1, 20_000);
      const renewed = new X509Certificate(readFileSync(currentPairPath(certDir)));
      expect(renewed.serialNumber).not.toBe(first.serialNumber);
      expect(renewed.subject).toBe(`O=system:nodes\nCN=system:node:${node}`);
      // The renewal was asked for by the node itself and approved as selfnodeclient.
      const csrs = JSON.parse((await kubectl(api.kubeconfig, ['get', 'csr', '-o', 'json'])).stdout).items as {
        metadata: { name: string };
        spec: { username: string };
        status: { conditions: { type: string; reason: string }[] };
      }[];
      const renewal = csrs.find((c) => c.spec.username === `system:node:${node}`);
      expect(renewal?.metadata.name).toMatch(/^csr-/);
      expect(renewal?.status.conditions.find((c) => c.type === 'Approved')?.reason).toBe('AutoApproved');
      // Past the first certificate's expiry the node still talks to the apiserver, with a renewed certificate.
      const expired = Date.parse(first.validTo) + 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, expired - Date.now())));
      expect((await kubelet.resource(NODES).get(node)).metadata.name).toBe(node);
      expect(rotation.rotations).toBeGreaterThanOrEqual(2);
    } finally {
      rotation.stop();
      kubelet.close();
    }
  }, 60_000);
});
