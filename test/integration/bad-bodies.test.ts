// Ill-typed request bodies, for every kind the apiserver serves: decoded against the schema before
// anything else touches them (400 on a type mismatch, 422 for a patch whose result does not decode),
// nothing stored, unknown fields dropped (Warning, or 400 under fieldValidation=Strict), status writes
// validated per kind, and the apiserver alive throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { RESOURCES, apiVersionOf, findResource, schemaLookup, type ResourceInfo, type SchemaType } from '@kubelab/api';
import { SharedInformerFactory, loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate } from '@kubelab/controller-manager';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { until } from '../fixtures/wait.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

function collectionPath(info: ResourceInfo, ns = 'default'): string {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  return `${base}${info.namespaced ? `/namespaces/${ns}` : ''}/${info.resource}`;
}

/** A path from the root type to an int32 field through struct fields only (spec first), e.g. ['spec', 'replicas']. */
function int32Path(t: SchemaType, depth = 0): string[] | undefined {
  if (depth > 4 || t.kind !== 'object') return undefined;
  const names = t.propertyNames().filter((n) => n !== 'metadata' && n !== 'status');
  names.sort((a, b) => (a === 'spec' ? -1 : b === 'spec' ? 1 : 0));
  for (const n of names) {
    const f = t.property(n)!;
    if (f.type.kind === 'integer' && f.type.format === 'int32') return [n];
    const deeper = int32Path(f.type, depth + 1);
    if (deeper) return [n, ...deeper];
  }
  return undefined;
}

function nested(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((acc, key, i) => (i === path.length - 1 ? { [key]: value } : { [key]: acc }), {});
}

interface BadBody {
  what: string;
  body: (name: string) => Record<string, unknown>;
  /** The encoding/json (or time.Parse) error after `... cannot be handled as a Kind: `. */
  error: RegExp;
}

function badBodies(info: ResourceInfo): BadBody[] {
  const kind = info.kind;
  const root = schemaLookup.rootType(apiVersionOf(info), kind)!;
  const meta = (name: string, extra: Record<string, unknown>) => ({ metadata: { name, ...extra } });
  const out: BadBody[] = [
    { what: 'metadata a string', body: () => ({ metadata: 'x' }), error: new RegExp(`^json: cannot unmarshal string into Go struct field ${kind}\\.metadata of type v1\\.ObjectMeta$`) },
    { what: 'metadata.labels a string', body: (n) => meta(n, { labels: 'y' }), error: /^json: cannot unmarshal string into Go struct field ObjectMeta\.metadata\.labels of type map\[string\]string$/ },
    { what: 'a label value a number', body: (n) => meta(n, { labels: { a: 1 } }), error: /^json: cannot unmarshal number into Go struct field ObjectMeta\.metadata\.labels of type string$/ },
    { what: 'finalizers [1]', body: (n) => meta(n, { finalizers: [1] }), error: /^json: cannot unmarshal number into Go struct field ObjectMeta\.metadata\.finalizers of type string$/ },
    { what: 'ownerReferences a string', body: (n) => meta(n, { ownerReferences: 'x' }), error: /^json: cannot unmarshal string into Go struct field ObjectMeta\.metadata\.ownerReferences of type \[\]v1\.OwnerReference$/ },
    { what: 'creationTimestamp garbage', body: (n) => meta(n, { creationTimestamp: 'garbage' }), error: /^parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"$/ },
  ];
  const spec = root.property('spec');
  if (spec) {
    // Go's type name: the spec's package version and struct, e.g. v2.HorizontalPodAutoscalerSpec.
    const type = spec.type.name.split('.').slice(-2).join('\\.');
    out.push({ what: 'spec a string', body: (n) => ({ ...meta(n, {}), spec: 'x' }), error: new RegExp(`^json: cannot unmarshal string into Go struct field ${kind}\\.spec of type ${type}$`) });
    out.push({ what: 'spec an array', body: (n) => ({ ...meta(n, {}), spec: [] }), error: new RegExp(`^json: cannot unmarshal array into Go struct field ${kind}\\.spec of type ${type}$`) });
  }
  const int32 = int32Path(root);
  if (int32) {
    out.push({
      what: `${int32.join('.')} 3000000000`,
      body: (n) => ({ ...meta(n, {}), ...nested(int32, 3000000000) }),
      error: new RegExp(`^json: cannot unmarshal number 3000000000 into Go struct field \\w+\\.${int32.join('\\.')} of type int32$`),
    });
  }
  return out;
}

const writable = RESOURCES.filter((r) => r.verbs.includes('create') && schemaLookup.rootType(apiVersionOf(r), r.kind));

async function expectGone(info: ResourceInfo, name: string) {
  if (!info.verbs.includes('get')) return;
  const got = await api.request('GET', `${collectionPath(info)}/${name}`);
  expect(got.status, `${info.resource}/${name} was stored`).toBe(404);
}

describe('ill-typed bodies are 400 BadRequest and store nothing, for every kind', () => {
  it('covers the resource table', () => {
    expect(writable.length).toBeGreaterThan(30);
    expect(writable.map((r) => r.kind)).toEqual(expect.arrayContaining(['Pod', 'Deployment', 'ConfigMap', 'Namespace', 'Node', 'Service', 'Job', 'Lease']));
  });

  for (const info of writable) {
    it(`${info.resource} (${apiVersionOf(info)}): POST and PUT`, async () => {
      const version = info.version;
      for (const [i, bad] of badBodies(info).entries()) {
        const name = `bad-${i}`;
        const body = { apiVersion: apiVersionOf(info), kind: info.kind, ...bad.body(name) };
        const methods: [string, string][] = [['POST', collectionPath(info)]];
        if (info.verbs.includes('update')) methods.push(['PUT', `${collectionPath(info)}/${name}`]);
        for (const [method, path] of methods) {
          const r = await api.request(method, path, body);
          expect(r.status, `${method} ${info.kind} with ${bad.what}: ${r.body}`).toBe(400);
          expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
          const prefix = `${info.kind} in version "${version}" cannot be handled as a ${info.kind}: `;
          expect(r.json.message.startsWith(prefix), r.json.message).toBe(true);
          expect(r.json.message.slice(prefix.length)).toMatch(bad.error);
        }
        await expectGone(info, name);
      }
    });
  }
});

const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { keep: 'me' } }, data: { a: 'b' }, ...extra });
const deployment = (name: string, replicas = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
});

describe('updates and patches of an existing object', () => {
  it('ConfigMap data {"a":1} is refused by POST, PUT and every patch type, and the stored object is unchanged', async () => {
    expect((await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('patched'))).status).toBe(201);
    const before = (await api.request('GET', '/api/v1/namespaces/default/configmaps/patched')).json;

    const post = await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('other', { data: { a: 1 } }));
    expect(post.status).toBe(400);
    expect(post.json.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string');
    const put = await api.request('PUT', '/api/v1/namespaces/default/configmaps/patched', { ...before, data: { a: 1 } });
    expect(put.status).toBe(400);

    const patches: [string, unknown, string][] = [
      ['application/merge-patch+json', { metadata: { labels: 'y' } }, 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
      ['application/strategic-merge-patch+json', { data: { a: 1 } }, 'json: cannot unmarshal number into Go struct field ConfigMap.data of type string'],
      ['application/json-patch+json', [{ op: 'add', path: '/metadata/finalizers', value: [1] }], 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string'],
      ['application/merge-patch+json', { metadata: { creationTimestamp: 'garbage' } }, 'parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"'],
    ];
    for (const [type, patch, error] of patches) {
      const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/patched', patch, { 'content-type': type });
      expect(r.status, `${type}: ${r.body}`).toBe(422);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422, details: { causes: [{ reason: 'FieldValueInvalid', field: 'patch' }] } });
      expect(r.json.message).toMatch(/^ "" is invalid: patch: Invalid value: "\{.*\}": /);
      expect(r.json.message.endsWith(`: ${error}`), r.json.message).toBe(true);
    }
    const apply = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/patched?fieldManager=t', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched' }, data: { a: 1 } }, {
      'content-type': 'application/apply-patch+yaml',
    });
    expect(apply.status, apply.body).toBe(400);
    expect(apply.json.message).toContain('json: cannot unmarshal number into Go struct field ConfigMap.data of type string');

    const after = (await api.request('GET', '/api/v1/namespaces/default/configmaps/patched')).json;
    expect(after).toEqual(before);
  });

  it('/scale to 3000000000 is refused (PUT 400, patch 422) and spec.replicas stays', async () => {
    expect((await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('big'))).status).toBe(201);
    const path = '/apis/apps/v1/namespaces/default/deployments/big/scale';
    const put = await api.request('PUT', path, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'big' }, spec: { replicas: 3000000000 } });
    expect(put.status).toBe(400);
    expect(put.json.message).toBe('Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal number 3000000000 into Go struct field ScaleSpec.spec.replicas of type int32');
    const patch = await api.request('PATCH', path, { spec: { replicas: 3000000000 } }, { 'content-type': 'application/merge-patch+json' });
    expect(patch.status).toBe(422);
    expect(patch.json.message).toContain('json: cannot unmarshal number 3000000000 into Go struct field ScaleSpec.spec.replicas of type int32');
    const str = await api.request('PATCH', path, { spec: { replicas: '3' } }, { 'content-type': 'application/merge-patch+json' });
    expect(str.status).toBe(422);
    const ok = await api.request('PATCH', path, { spec: { replicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
    expect(ok.status, ok.body).toBe(200);
    expect((await api.request('GET', '/apis/apps/v1/namespaces/default/deployments/big')).json.spec.replicas).toBe(2);
  });

  it('/status: ill-typed is 400, status.replicas -1 is 422 Invalid with causes, nothing stored', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/big/status';
    const current = (await api.request('GET', path)).json;
    const typed = await api.request('PUT', path, { ...current, status: { replicas: 'x' } });
    expect(typed.status).toBe(400);
    expect(typed.json.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentStatus.status.replicas of type int32');
    const put = await api.request('PUT', path, { ...current, status: { replicas: -1 } });
    expect(put.status, put.body).toBe(422);
    expect(put.json).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      details: { name: 'big', group: 'apps', kind: 'Deployment' },
    });
    // As upstream, the other (zero) counts are then greater than status.replicas too.
    expect(put.json.details.causes[0]).toEqual({ reason: 'FieldValueInvalid', field: 'status.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' });
    expect(put.json.details.causes.map((c: { field: string }) => c.field)).toEqual(['status.replicas', 'status.updatedReplicas', 'status.readyReplicas', 'status.availableReplicas']);
    expect(put.json.message.startsWith('Deployment.apps "big" is invalid: [status.replicas: Invalid value: -1: must be greater than or equal to 0, ')).toBe(true);
    const patch = await api.request('PATCH', path, { status: { replicas: -1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(patch.status).toBe(422);
    const rs = await api.request('PATCH', path, { status: { replicas: 1, readyReplicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
    expect(rs.status).toBe(422);
    expect(rs.json.message).toContain('status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas');
    const good = await api.request('PATCH', path, { status: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(good.status, good.body).toBe(200);
    expect((await api.request('GET', path)).json.status.replicas).toBe(1);
  });

  it('pod status and binding bodies are decoded too', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    expect((await api.request('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201);
    const status = await api.request('PATCH', '/api/v1/namespaces/default/pods/p/status', { status: { phase: 1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(status.status).toBe(422);
    expect(status.json.message).toContain('json: cannot unmarshal number into Go struct field PodStatus.status.phase of type string');
    const binding = await api.request('POST', '/api/v1/namespaces/default/pods/p/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: 'node-1' });
    expect(binding.status).toBe(400);
    expect(binding.json.message).toBe('Binding in version "v1" cannot be handled as a Binding: json: cannot unmarshal string into Go struct field Binding.target of type v1.ObjectReference');
    expect((await api.request('GET', '/api/v1/namespaces/default/pods/p')).json.spec.nodeName).toBeUndefined();
  });

  it('Secret data must be base64, ConfigMap data strings', async () => {
    const secret = await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b64' }, data: { k: 'not base64!' } });
    expect(secret.status).toBe(400);
    expect(secret.json.message).toBe('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
    const ok = await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b64' }, data: { k: 'YQ==' } });
    expect(ok.status, ok.body).toBe(201);
  });

  it('an ill-typed DeleteOptions body is 400 and deletes nothing', async () => {
    const r = await api.request('DELETE', '/api/v1/namespaces/default/configmaps/patched', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 'x' });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe('json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64');
    expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/patched')).status).toBe(200);
  });
});

describe('unknown fields', () => {
  it('are dropped with a Warning by default and not served back', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('unknown', { bogus: 1, metadata: { name: 'unknown', extra: { x: 1 } } }));
    expect(r.status, r.body).toBe(201);
    expect(String(r.headers.warning)).toBe('299 - "unknown field \\"metadata.extra\\"", 299 - "unknown field \\"bogus\\""');
    expect(r.json.bogus).toBeUndefined();
    const got = (await api.request('GET', '/api/v1/namespaces/default/configmaps/unknown')).json;
    expect(got.bogus).toBeUndefined();
    expect(got.metadata.extra).toBeUndefined();
    const patched = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/unknown', { other: 2 }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    expect(patched.json.other).toBeUndefined();
    expect(String(patched.headers.warning)).toContain('unknown field \\"other\\"');
  });

  it('are refused under fieldValidation=Strict', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', cm('strict', { bogus: 1 }));
    expect(r.status).toBe(400);
    expect(r.json.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"');
    expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/strict')).status).toBe(404);
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  a: b\nbogus: 1\n';
    const y = await api.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', yaml, { 'content-type': 'application/yaml' });
    expect(y.status).toBe(400);
    expect(y.json.message).toContain('strict decoding error: unknown field "bogus"');
  });
});

describe('objects stored malformed before decoding existed', () => {
  it('are skipped by informers, and the controllers keep working', async () => {
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    const errors: string[] = [];
    const client = new RestClient(loadKubeconfig(api.kubeconfig));
    const factory = new SharedInformerFactory(client, { logger: { error: (o) => errors.push((o as { object: string }).object) } });
    const cm = createControllerManager(validate({ ...defaults(), leaderElect: false, securePort: 0, controllers: ['garbage-collector-controller', 'replicaset-controller'] }), {
      client: new RestClient(loadKubeconfig(api.kubeconfig)),
      logger: silentLogger(),
    });
    try {
      const bad = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'legacy', namespace: 'default', uid: 'legacy-uid', ownerReferences: 'x', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
      await raw.put('/registry/pods/default/legacy').value(JSON.stringify(bad));
      const good = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'good' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
      expect((await api.request('POST', '/api/v1/namespaces/default/pods', good)).status).toBe(201);
      const informer = factory.forResource(findResource('', 'v1', 'pods')!);
      informer.addIndexer('owner', (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
      factory.start();
      expect(await factory.waitForCacheSync(AbortSignal.timeout(10_000))).toBe(true);
      expect(informer.lister.get('default', 'legacy')).toBeUndefined();
      expect(informer.lister.get('default', 'good')?.metadata.name).toBe('good');
      expect(errors).toContain('default/legacy');

      await cm.start();
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'after' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'after' } }, template: { metadata: { labels: { app: 'after' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      };
      expect((await api.request('POST', '/apis/apps/v1/namespaces/default/replicasets', rs)).status).toBe(201);
      await until('the ReplicaSet controller creates 2 pods', async () => {
        const pods = (await api.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dafter')).json;
        return pods.items.length === 2 || undefined;
      });
      // Deleting the owner: the garbage collector removes the dependents.
      expect((await api.request('DELETE', '/apis/apps/v1/namespaces/default/replicasets/after')).status).toBe(200);
      await until('the garbage collector deletes the pods', async () => {
        const pods = (await api.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dafter')).json;
        return pods.items.length === 0 || undefined;
      });
      // The malformed object can still be deleted; the informer carries on.
      expect((await api.request('DELETE', '/api/v1/namespaces/default/pods/legacy')).status).toBe(200);
      expect((await api.request('POST', '/api/v1/namespaces/default/pods', { ...good, metadata: { name: 'good-2' } })).status).toBe(201);
      await until('the informer sees a new pod', async () => informer.lister.get('default', 'good-2'));
      expect(informer.lister.get('default', 'legacy')).toBeUndefined();
    } finally {
      await cm.stop();
      await factory.shutdown();
      client.close();
      raw.close();
    }
  });
});

describe('the apiserver', () => {
  it('is alive and ready after all of it', async () => {
    expect((await api.request('GET', '/readyz')).status).toBe(200);
    const list = await api.request('GET', '/api/v1/namespaces/default/configmaps');
    expect(list.status).toBe(200);
  });
});
