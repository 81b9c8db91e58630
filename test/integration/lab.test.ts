// hack/lab brings the control plane up hardened (issue 15 item 9): etcd serves clients and peers over
// TLS and requires client certificates, Secrets are encrypted at rest by default (read back from etcd
// directly), and the NodeRestriction admission plugin is on. Runs the real script on free ports and a
// temporary state directory, and stops it with `hack/lab down`.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeconfig, issueCertificate, loadCA } from '@kubelab/component-base';
import { type Lab, startLab } from '../fixtures/lab.js';
import { kubectl } from '../fixtures/kubectl.js';

let lab: Lab;
let state: string;
let etcdPort: number;
let apiPort: number;
const pki = (f: string) => readFileSync(join(state, 'pki', f));
const admin = (args: string[], input?: string) => lab.k(args, input);

beforeAll(async () => {
  // --nodes 0: the control plane only (test/e2e brings nodes up).
  lab = await startLab({ prefix: `lab${process.pid % 1000}-`, indexBase: 0, clusterCIDR: '10.244.0.0/16', nodes: 0 });
  state = lab.state;
  etcdPort = Number(lab.env.KUBELAB_ETCD_PORT);
  apiPort = Number(lab.env.KUBELAB_APISERVER_PORT);
}, 300_000);

afterAll(async () => {
  await lab?.down();
}, 60_000);

function etcdClient(withCert: boolean): Etcd3 {
  return new Etcd3({
    hosts: [`https://127.0.0.1:${etcdPort}`],
    credentials: withCert
      ? { rootCertificate: pki('etcd/ca.crt'), certChain: pki('apiserver-etcd-client.crt'), privateKey: pki('apiserver-etcd-client.key') }
      : { rootCertificate: pki('etcd/ca.crt') },
    dialTimeout: 3000,
  });
}

/** The outcome of an https GET: "HTTP <status>" or "error: ...". */
function probe(port: number, path: string, tls: https.RequestOptions): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path, ...tls, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

describe('hack/lab', () => {
  it('runs etcd with client and peer TLS that require certificates from the etcd CA', async () => {
    const withCert = etcdClient(true);
    const without = etcdClient(false);
    try {
      expect(await withCert.get('/registry/namespaces/default').string()).toContain('"name":"default"');
      await expect(without.get('/registry/namespaces/default').string()).rejects.toThrow();
    } finally {
      withCert.close();
      without.close();
    }
    const peer = etcdPort + 1;
    expect(await probe(peer, '/members', { ca: pki('etcd/ca.crt') })).toMatch(/^error: /);
    expect(await probe(peer, '/members', { ca: pki('etcd/ca.crt'), cert: pki('etcd/peer.crt'), key: pki('etcd/peer.key') })).toBe('HTTP 200');
    expect(await probe(etcdPort, '/health', { ca: pki('etcd/ca.crt'), cert: pki('ca.crt'), key: pki('ca.key') })).toMatch(/^error: /);
    const cs = await admin(['get', 'componentstatuses', 'etcd-0', '-o', 'jsonpath={.conditions[0].status}']);
    expect(cs.stdout).toBe('True');
  });

  it('encrypts Secrets at rest with a generated aescbc key (config file mode 0600)', async () => {
    expect(statSync(join(state, 'encryption-config.yaml')).mode & 0o777).toBe(0o600);
    const created = await admin(['create', 'secret', 'generic', 'lab-secret', '--from-literal=token=lab-plaintext-value']);
    expect(created.stderr).toBe('');
    const client = etcdClient(true);
    try {
      const value = (await client.get('/registry/secrets/default/lab-secret').buffer())!;
      expect(value.subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
      expect(value.includes(Buffer.from('lab-plaintext-value'))).toBe(false);
      expect(value.includes(Buffer.from(Buffer.from('lab-plaintext-value').toString('base64')))).toBe(false);
    } finally {
      client.close();
    }
    const read = await admin(['get', 'secret', 'lab-secret', '-o', 'jsonpath={.data.token}']);
    expect(Buffer.from(read.stdout, 'base64').toString()).toBe('lab-plaintext-value');
  });

  it('has NodeRestriction on: a kubelet may not give its node restricted labels', async () => {
    const user = 'system:node:lab-n2';
    const cert = await issueCertificate(await loadCA(join(state, 'pki')), { commonName: user, organizations: ['system:nodes'], usage: 'client' });
    const kubeconfig = join(state, 'lab-n2.conf');
    const server = `https://127.0.0.1:${apiPort}`;
    writeFileSync(kubeconfig, buildKubeconfig({ server, caPem: pki('ca.crt').toString(), user, certPem: cert.certPem, keyPem: cert.keyPem }), { mode: 0o600 });
    const node = (labels: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'lab-n2', labels } });
    // The Node authorizer lets the kubelet register its own node; the admission plugin vets the labels.
    const restricted = await kubectl(kubeconfig, ['create', '-f', '-'], { input: node({ 'node-restriction.kubernetes.io/pool': 'a' }) });
    expect(restricted.code).not.toBe(0);
    expect(restricted.stderr).toContain('node "lab-n2" is not allowed to set the following labels: node-restriction.kubernetes.io/pool');
    const plain = await kubectl(kubeconfig, ['create', '-f', '-'], { input: node({ 'kubernetes.io/hostname': 'lab-n2' }) });
    expect(plain.stderr).toBe('');
  });
});
