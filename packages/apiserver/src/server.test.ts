// The apiserver app in-process (fastify inject, no socket) over MemoryStorage: the request path from
// routing to storage, fast enough for unit tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, silentLogger } from '@kubelab/component-base';
import { bootstrap } from './bootstrap.js';
import { defaults } from './config.js';
import { createApiServer, type ApiServerRuntime } from './server.js';
import { MemoryStorage } from './storage/memory.js';

let runtime: ApiServerRuntime;
let storage: MemoryStorage;

beforeAll(async () => {
  const ca = await createCA({ commonName: 'test-ca' });
  storage = new MemoryStorage();
  const config = { ...defaults(), tlsCertFile: 'unused', tlsPrivateKeyFile: 'unused', enableAdmissionPlugins: [], disableAdmissionPlugins: ['ServiceAccount'] };
  runtime = createApiServer({
    config,
    tls: { cert: Buffer.from(ca.certPem), key: Buffer.from(ca.keyPem) },
    storageFor: () => storage,
    rawStorage: storage,
    logger: silentLogger(),
  });
  await bootstrap(runtime.registry, { advertiseAddress: '192.0.2.10', securePort: 6443 });
  await runtime.app.ready();
});
afterAll(async () => {
  await runtime?.app.close();
  await storage?.close();
});

const request = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, contentType = 'application/json') =>
  runtime.app.inject({ method, url, payload: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': contentType } });

describe('apiserver in-process on MemoryStorage', () => {
  it('creates, reads, lists and updates with optimistic concurrency', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { a: '1' } };
    const created = await request('POST', '/api/v1/namespaces/default/configmaps', cm);
    expect(created.statusCode).toBe(201);
    const rv = created.json().metadata.resourceVersion;

    const got = await request('GET', '/api/v1/namespaces/default/configmaps/web');
    const live = got.json() as Record<string, unknown>;
    expect(got.json()).toMatchObject({ metadata: { name: 'web', namespace: 'default', resourceVersion: rv }, data: { a: '1' } });

    const list = await request('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.json()).toMatchObject({ kind: 'ConfigMapList', items: [{ metadata: { name: 'web' } }] });

    const updated = await request('PUT', '/api/v1/namespaces/default/configmaps/web', { ...live, data: { a: '2' } });
    expect(updated.statusCode).toBe(200);
    const stale = await request('PUT', '/api/v1/namespaces/default/configmaps/web', { ...live, data: { a: '3' } });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
  });

  it('answers errors with Status bodies', async () => {
    const missing = await request('GET', '/api/v1/namespaces/default/configmaps/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'configmaps "nope" not found' });
    const invalid = await request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().details.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
  });

  it('creates through PUT (create-on-update) exactly as through POST: one path', async () => {
    // Services allow create on update; the server-set fields come out the same either way.
    const body = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, deletionTimestamp: '2020-01-01T00:00:00Z', deletionGracePeriodSeconds: 30, generation: 7, uid: 'mine' },
      spec: { ports: [{ port: 80 }] },
    });
    const posted = await request('POST', '/api/v1/namespaces/default/services', body('via-post'));
    const put = await request('PUT', '/api/v1/namespaces/default/services/via-put', body('via-put'));
    expect([posted.statusCode, put.statusCode]).toEqual([201, 201]);
    for (const created of [posted.json(), put.json()]) {
      expect(created.metadata.deletionTimestamp).toBeUndefined();
      expect(created.metadata.deletionGracePeriodSeconds).toBeUndefined();
      expect(created.metadata.generation).toBeUndefined();
      expect(created.metadata.uid).not.toBe('mine');
    }
  });

  it('refuses a body whose namespace differs from the URL on POST and on PUT-create', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'elsewhere', namespace: 'kube-system' }, spec: { ports: [{ port: 80 }] } };
    for (const r of [await request('POST', '/api/v1/namespaces/default/services', svc), await request('PUT', '/api/v1/namespaces/default/services/elsewhere', svc)]) {
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    }
    expect((await request('GET', '/api/v1/namespaces/kube-system/services/elsewhere')).statusCode).toBe(404);
  });

  it('validates status writes per kind', async () => {
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    const created = (await request('POST', '/apis/apps/v1/namespaces/default/replicasets', rs)).json();
    const bad = await request('PUT', '/apis/apps/v1/namespaces/default/replicasets/web/status', { ...created, status: { replicas: -1 } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().details.causes).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'status.replicas', reason: 'FieldValueInvalid' })]));
  });
});
