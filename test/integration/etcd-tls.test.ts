// etcd over TLS as kubeadm sets it up: the member serves clients and peers over https and requires
// client certificates from its own CA; the apiserver dials it with --etcd-cafile/--etcd-certfile/
// --etcd-keyfile (the PKI from initPKI's etcd/ layout), and the componentstatuses probe does too.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPKI } from '@kubelab/component-base';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let pkiDir: string;
let etcd: EtcdInstance;
let api: ApiServerInstance;

beforeAll(async () => {
  pkiDir = mkdtempSync(join(tmpdir(), 'kubelab-etcd-tls-'));
  await initPKI({ dir: pkiDir, server: 'https://127.0.0.1:6443' });
  etcd = await startEtcd({ tls: { pkiDir } });
  const t = etcd.clientTLS!;
  api = await startApiServer({
    etcdEndpoint: etcd.endpoint,
    pkiDir,
    extraArgs: [`--etcd-cafile=${t.caFile}`, `--etcd-certfile=${t.certFile}`, `--etcd-keyfile=${t.keyFile}`],
  });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
});

const pem = (f: string) => readFileSync(join(pkiDir, f));

/** A raw etcd v3 client; credentials decide whether etcd lets it in. */
async function etcdGet(key: string, credentials: { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer }): Promise<string | null> {
  const client = new Etcd3({ hosts: [etcd.endpoint], credentials, dialTimeout: 3000 });
  try {
    return await client.get(key).string();
  } finally {
    client.close();
  }
}

/** GET over https with the given TLS options: the status, or the connection error's message. */
function httpsGet(url: string, tls: https.RequestOptions): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...tls, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

describe('etcd with client and peer TLS', () => {
  it('serves https only, on the client and the peer URL', () => {
    expect(etcd.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the apiserver stores and reads objects through its etcd client certificate', async () => {
    const created = await api.request('POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-tls' }, data: { k: 'v' },
    });
    expect(created.status).toBe(201);
    const got = await api.request('GET', '/api/v1/namespaces/default/configmaps/over-tls');
    expect(got.status).toBe(200);
    expect(got.json.data).toEqual({ k: 'v' });
    const k = await kubectl(api.kubeconfig, ['get', 'configmap', 'over-tls', '-o', 'jsonpath={.data.k}']);
    expect(k.stdout).toBe('v');
    // The same key read with the apiserver's etcd client certificate.
    const raw = await etcdGet('/registry/configmaps/default/over-tls', {
      rootCertificate: pem('etcd/ca.crt'), certChain: pem('apiserver-etcd-client.crt'), privateKey: pem('apiserver-etcd-client.key'),
    });
    expect(JSON.parse(raw!).data).toEqual({ k: 'v' });
  });

  it('etcd refuses a client without a certificate, or with one from the cluster CA', async () => {
    await expect(etcdGet('/registry/configmaps/default/over-tls', { rootCertificate: pem('etcd/ca.crt') })).rejects.toThrow();
    await expect(
      etcdGet('/registry/configmaps/default/over-tls', { rootCertificate: pem('etcd/ca.crt'), certChain: api.adminCert, privateKey: api.adminKey }),
    ).rejects.toThrow();
    const health = `${etcd.endpoint}/health`;
    expect(await httpsGet(health, { ca: pem('etcd/ca.crt') })).toMatch(/^error: /);
    expect(await httpsGet(health, { ca: pem('etcd/ca.crt'), cert: api.adminCert, key: api.adminKey })).toMatch(/^error: /);
    const healthcheck = { ca: pem('etcd/ca.crt'), cert: pem('etcd/healthcheck-client.crt'), key: pem('etcd/healthcheck-client.key') };
    expect(await httpsGet(health, healthcheck)).toBe('HTTP 200');
    // Plain HTTP gets no answer from the TLS listener.
    const plain = await fetch(health.replace('https:', 'http:'), { signal: AbortSignal.timeout(3000) })
      .then((r) => `HTTP ${r.status}`, (e: Error) => `error: ${e.message}`);
    expect(plain).not.toBe('HTTP 200');
  });

  it('componentstatuses probes etcd over TLS with the client certificate', async () => {
    const res = await api.request('GET', '/api/v1/componentstatuses/etcd-0');
    expect(res.status).toBe(200);
    expect(res.json.conditions).toEqual([{ type: 'Healthy', status: 'True', message: 'ok' }]);
  });
});
