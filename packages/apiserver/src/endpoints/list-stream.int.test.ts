// A large LIST is written as a stream (batches of the items' cached encodings): against a real apiserver,
// it carries its content-length and exactly the bytes of the list's JSON, and clients that go away half
// way through neither crash nor stall the apiserver.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../../../../test/fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const COUNT = 20;
// About 16 MB in all: far more than the sockets between the two processes hold.
const DATA = 'x'.repeat(800_000);
const LIST = '/api/v1/namespaces/big/configmaps';

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'big' } })).status).toBe(201);
  for (let i = 0; i < COUNT; i++) {
    const r = await api.request('POST', LIST, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { key: DATA } });
    expect(r.status).toBe(201);
  }
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

async function expectWholeList() {
  const r = await api.request('GET', LIST);
  expect(r.status).toBe(200);
  expect(r.headers['transfer-encoding']).toBeUndefined();
  expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
  expect(r.json.kind).toBe('ConfigMapList');
  expect(r.json.items.map((cm: { metadata: { name: string } }) => cm.metadata.name).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => `cm-${i}`).sort());
  expect(r.json.items.every((cm: { data: { key: string } }) => cm.data.key === DATA)).toBe(true);
  // Compact JSON in the list's own key order, no byte missing or doubled between the batches.
  expect(JSON.stringify(r.json)).toBe(r.body);
}

describe('streamed list responses', () => {
  it('answers a large list with its content-length and every item', async () => {
    await expectWholeList();
    // Served from the watch cache (above) and from etcd (a consistent page).
    const page = await api.request('GET', `${LIST}?limit=${COUNT}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-length']).toBe(String(Buffer.byteLength(page.body)));
    expect(page.json.items).toHaveLength(COUNT);
    expect(JSON.stringify(page.json)).toBe(page.body);
  });

  it('keeps serving when clients go away half way through a large list', async () => {
    const agent = new https.Agent({ ca: readFileSync(join(api.pkiDir, 'ca.crt')), cert: api.adminCert, key: api.adminKey, keepAlive: false });
    try {
      for (let i = 0; i < 5; i++) {
        const req = https.request({ host: '127.0.0.1', port: api.port, path: LIST, agent, headers: { accept: 'application/json' } });
        req.end();
        const [res] = (await once(req, 'response')) as [IncomingMessage];
        expect(res.statusCode).toBe(200);
        const length = Number(res.headers['content-length']);
        expect(length).toBeGreaterThan(COUNT * DATA.length);
        const [first] = (await once(res, 'data')) as [Buffer];
        expect(first.length).toBeLessThan(length);
        // Stop reading (the apiserver is left waiting to write the rest), then hang up.
        res.pause();
        await new Promise((r) => setTimeout(r, 50));
        const closed = once(req, 'close');
        req.destroy();
        await closed;
      }
    } finally {
      agent.destroy();
    }
    expect(api.exitCode).toBeNull();
    await expectWholeList();
    expect(api.logs()).not.toMatch(/"level":(50|60)/);
  });
});
