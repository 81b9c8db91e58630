// The apiserver app in-process (fastify inject, no socket) over MemoryStorage: the request path from
// routing to storage, fast enough for unit tests.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, silentLogger } from '@kubelab/component-base';
import { findResource, type KubeObject } from '@kubelab/api';
import { restStorage, type Creater } from './registry/rest.js';
import { bootstrap } from './bootstrap.js';
import { defaults } from './config.js';
import { createApiServer, type ApiServerRuntime } from './server.js';
import { MemoryStorage } from './storage/memory.js';

let runtime: ApiServerRuntime;
let storage: MemoryStorage;
let dir: string;

beforeAll(async () => {
  const ca = await createCA({ commonName: 'test-ca' });
  storage = new MemoryStorage();
  // A signing key, so that serviceaccounts/token is served.
  dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'));
  const signingKey = join(dir, 'sa.key');
  writeFileSync(signingKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const config = {
    ...defaults(),
    tlsCertFile: 'unused',
    tlsPrivateKeyFile: 'unused',
    enableAdmissionPlugins: [],
    disableAdmissionPlugins: ['ServiceAccount'],
    etcdServers: [],
    serviceAccountSigningKeyFile: signingKey,
  };
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
  if (dir) rmSync(dir, { recursive: true, force: true });
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

  it('registers a storage for every resource and subresource in one table', () => {
    const keys = [...runtime.registry.storages.keys()];
    expect(keys).toEqual(
      expect.arrayContaining([
        '/v1/pods',
        '/v1/pods/status',
        '/v1/pods/binding',
        '/v1/bindings',
        '/v1/namespaces/finalize',
        '/v1/serviceaccounts/token',
        '/v1/componentstatuses',
        'apps/v1/deployments/scale',
        '/v1/replicationcontrollers/scale',
        'certificates.k8s.io/v1/certificatesigningrequests/approval',
        'authentication.k8s.io/v1/tokenreviews',
        'authentication.k8s.io/v1/selfsubjectreviews',
        'authorization.k8s.io/v1/subjectaccessreviews',
        'authorization.k8s.io/v1/localsubjectaccessreviews',
        'authorization.k8s.io/v1/selfsubjectaccessreviews',
        'authorization.k8s.io/v1/selfsubjectrulesreviews',
      ]),
    );
    // Every subresource the discovery table lists has its storage.
    for (const [key, s] of runtime.registry.stores) {
      for (const sub of s.info.subresources) expect(keys, `${key}/${sub.name}`).toContain(`${key}/${sub.name}`);
    }
  });

  it('serves a create from whatever Creater the table holds for the path', async () => {
    const key = 'authentication.k8s.io/v1/selfsubjectreviews';
    const registered = runtime.registry.storages.get(key)!;
    const seen: KubeObject[] = [];
    const spy: Creater = {
      ...restStorage(findResource('authentication.k8s.io', 'v1', 'selfsubjectreviews')!),
      create: async (_ns, obj) => {
        seen.push(obj);
        return { ...obj, status: { userInfo: { username: 'from-the-table' } } };
      },
    };
    runtime.registry.storages.set(key, spy);
    try {
      const r = await request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { metadata: {} });
      expect(r.statusCode).toBe(201);
      expect(r.json().status.userInfo.username).toBe('from-the-table');
      // The body was decoded into the storage's kind first.
      expect(seen[0]).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    } finally {
      runtime.registry.storages.set(key, registered);
    }
  });

  it('reads and writes a workload through its scale storage', async () => {
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'scaled' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'scaled' } },
        template: { metadata: { labels: { app: 'scaled' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    };
    expect((await request('POST', '/apis/apps/v1/namespaces/default/deployments', deploy)).statusCode).toBe(201);
    const url = '/apis/apps/v1/namespaces/default/deployments/scaled/scale';
    const scale = (await request('GET', url)).json() as KubeObject;
    expect(scale).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=scaled' } });

    const put = await request('PUT', url, { ...scale, spec: { replicas: 3 } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
    const stale = await request('PUT', url, { ...scale, spec: { replicas: 4 } });
    expect(stale.statusCode).toBe(409);

    const patched = await request('PATCH', url, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(patched.statusCode).toBe(200);
    const live = await request('GET', '/apis/apps/v1/namespaces/default/deployments/scaled');
    expect(live.json().spec.replicas).toBe(5);
    expect((await request('GET', '/apis/apps/v1/namespaces/default/deployments/nope/scale')).json()).toMatchObject({
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
    });
  });

  it('binds pods through pods/binding and the legacy bindings resource', async () => {
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    for (const name of ['bound-a', 'bound-b']) expect((await request('POST', '/api/v1/namespaces/default/pods', pod(name))).statusCode).toBe(201);
    const binding = (name: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } });

    const bound = await request('POST', '/api/v1/namespaces/default/pods/bound-a/binding', binding('bound-a'));
    expect(bound.statusCode).toBe(201);
    expect(bound.json()).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const again = await request('POST', '/api/v1/namespaces/default/pods/bound-a/binding', binding('bound-a'));
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toBe('Operation cannot be fulfilled on pods/binding "bound-a": pod bound-a is already assigned to node "node-1"');
    const mismatch = await request('POST', '/api/v1/namespaces/default/pods/bound-b/binding', binding('other'));
    expect(mismatch.statusCode).toBe(400);

    expect((await request('POST', '/api/v1/namespaces/default/bindings', binding('bound-b'))).statusCode).toBe(201);
    for (const name of ['bound-a', 'bound-b']) {
      expect((await request('GET', `/api/v1/namespaces/default/pods/${name}`)).json().spec.nodeName).toBe('node-1');
    }
    // Binding is create-only.
    expect((await request('GET', '/api/v1/namespaces/default/pods/bound-a/binding')).statusCode).toBe(405);
  });

  it('issues a TokenRequest that the TokenReview storage accepts', async () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } };
    expect((await request('POST', '/api/v1/namespaces/default/serviceaccounts', sa)).statusCode).toBe(201);
    const tr = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} };
    const issued = await request('POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', tr);
    expect(issued.statusCode).toBe(201);
    expect(issued.json()).toMatchObject({ kind: 'TokenRequest', metadata: { name: 'robot', namespace: 'default' }, spec: { expirationSeconds: 3600 } });
    const missing = await request('POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', tr);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe('serviceaccounts "nobody" not found');

    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: issued.json().status.token } };
    const reviewed = await request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', review);
    expect(reviewed.statusCode).toBe(201);
    expect(reviewed.json().status).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:default:robot' } });
  });

  it('answers the access reviews and whoami without storing them', async () => {
    const ssar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } };
    const answered = await request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', ssar);
    expect(answered.statusCode).toBe(201);
    expect(answered.json().status).toEqual({ allowed: true });
    const sar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: {} };
    const bad = await request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar);
    expect(bad.statusCode).toBe(422);
    const ssr = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
    const whoami = await request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', ssr);
    expect(whoami.json().status.userInfo.username).toBe('system:anonymous');
    expect((await request('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).statusCode).toBe(405);
  });

  it('serves componentstatuses as a deprecated Getter with nothing stored', async () => {
    // Probes the local scheduler and controller-manager ports (no etcd servers configured here).
    const r = await request('GET', '/api/v1/componentstatuses');
    expect(r.statusCode).toBe(200);
    expect(r.headers.warning).toEqual(['299 - "v1 ComponentStatus is deprecated in v1.19+"']);
    expect(r.json().items.map((i: KubeObject) => i.metadata.name)).toEqual(['scheduler', 'controller-manager']);
    const missing = await request('GET', '/api/v1/componentstatuses/nothing-like-this');
    expect(missing.json()).toMatchObject({ reason: 'NotFound', message: 'componentstatuses "nothing-like-this" not found' });
    expect((await request('DELETE', '/api/v1/componentstatuses/scheduler')).statusCode).toBe(405);
  });

  it('takes any int64 grace period on a graceful delete (capped at the last RFC 3339 instant)', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'slow' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await request('POST', '/api/v1/namespaces/default/pods', pod)).statusCode).toBe(201);
    const del = await request('DELETE', '/api/v1/namespaces/default/pods/slow?gracePeriodSeconds=9223372036854775807');
    expect(del.statusCode).toBe(200);
    expect(del.json().metadata.deletionTimestamp).toBe('9999-12-31T23:59:59Z');
  });
});
