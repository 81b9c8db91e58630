import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '@kubelab/client';
import { serviceAccountClientBuilder, type ControllerClientBuilder } from './client-builder.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

/** A fake apiserver on 127.0.0.1: ServiceAccounts in kube-system and their TokenRequests (tokens live `ttlMs`). */
async function fakeApiServer(ttlMs: number) {
  const seen: Seen[] = [];
  const accounts = new Set<string>();
  let issued = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() });
      const send = (code: number, body: object) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const m = /^\/api\/v1\/namespaces\/kube-system\/serviceaccounts(?:\/([^/?]+))?(\/token)?/.exec(req.url!);
      if (!m) return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
      const [, name, token] = m;
      if (req.method === 'GET' && name) {
        if (accounts.has(name)) return send(200, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'kube-system' } });
        return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `serviceaccounts "${name}" not found` });
      }
      if (req.method === 'POST' && !name) {
        const sa = JSON.parse(Buffer.concat(chunks).toString());
        accounts.add(sa.metadata.name);
        return send(201, sa);
      }
      if (req.method === 'POST' && name && token) {
        issued++;
        return send(201, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: JSON.parse(Buffer.concat(chunks).toString()).spec,
          status: { token: `${name}-token-${issued}`, expirationTimestamp: new Date(Date.now() + ttlMs).toISOString() },
        });
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, accounts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('serviceAccountClientBuilder (--use-service-account-credentials)', () => {
  it('creates the missing kube-system ServiceAccount, requests a one-hour token, and sends it as the bearer token', async () => {
    const api = await fakeApiServer(3_600_000);
    const root = new RestClient({ server: api.url, token: 'controller-manager' });
    const builder: ControllerClientBuilder = serviceAccountClientBuilder({ root });
    cleanup.push(api.close, () => root.close(), () => builder.stop());

    const client = await builder.client('replicaset-controller');
    expect(api.accounts.has('replicaset-controller')).toBe(true);
    const tokenRequest = api.seen.find((s) => s.url.endsWith('/serviceaccounts/replicaset-controller/token'))!;
    expect(tokenRequest.authorization).toBe('Bearer controller-manager');
    expect(JSON.parse(tokenRequest.body)).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    // The same account's client is built once.
    expect(await builder.client('replicaset-controller')).toBe(client);

    await client.request({ path: '/api/v1/namespaces/kube-system/serviceaccounts/replicaset-controller' });
    expect(api.seen.at(-1)!.authorization).toBe('Bearer replicaset-controller-token-1');
  });

  it('renews the token before it expires', async () => {
    const api = await fakeApiServer(1500);
    const root = new RestClient({ server: api.url, token: 'controller-manager' });
    const builder = serviceAccountClientBuilder({ root });
    cleanup.push(api.close, () => root.close(), () => builder.stop());

    const client = await builder.client('deployment-controller');
    const deadline = Date.now() + 5000;
    let auth: string | undefined;
    while (Date.now() < deadline) {
      await client.request({ path: '/api/v1/namespaces/kube-system/serviceaccounts/deployment-controller' });
      auth = api.seen.at(-1)!.authorization;
      if (auth !== 'Bearer deployment-controller-token-1') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(auth).toBe('Bearer deployment-controller-token-2');
  });
});
