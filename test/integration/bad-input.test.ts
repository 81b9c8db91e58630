// Hostile input at the HTTP level (upstream: the apiserver's decoders, negotiation and request-info): deep
// nesting, oversized bodies, unsupported content types, dot segments and fragments in paths, bad query integers.
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;

const NS = 'bad';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const configMap = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, ...extra });
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status).toBe(201);
  expect((await api.request('POST', CM, configMap('cm'))).status).toBe(201);
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

/** The apiserver process is alive and healthy, the namespace untouched and the ConfigMap still there. */
async function expectIntact() {
  expect(() => process.kill(api.pid, 0)).not.toThrow();
  const health = await api.request('GET', '/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toBe('ok');
  const ns = await api.request('GET', `/api/v1/namespaces/${NS}`);
  expect(ns.json.status.phase).toBe('Active');
  expect(ns.json.metadata.deletionTimestamp).toBeUndefined();
  expect((await api.request('GET', `${CM}/cm`)).status).toBe(200);
}

function expectStatus(r: { status: number; json: any; body: string }, code: number, message?: RegExp) {
  expect(r.status, r.body.slice(0, 300)).toBe(code);
  expect(r.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  if (message) expect(r.json.message).toMatch(message);
}

describe('deep nesting', () => {
  const TOO_DEEP = /max depth/;
  // Every way a body reaches a decoder: create, update, the four patch types, DeleteOptions.
  const writes: [string, string, string][] = [
    ['POST', CM, 'application/json'],
    ['PUT', `${CM}/cm`, 'application/json'],
    ['PATCH', `${CM}/cm`, 'application/merge-patch+json'],
    ['PATCH', `${CM}/cm`, 'application/strategic-merge-patch+json'],
    ['PATCH', `${CM}/cm`, 'application/json-patch+json'],
    ['PATCH', `${CM}/cm?fieldManager=t`, 'application/apply-patch+yaml'],
    ['DELETE', `${CM}/cm?dryRun=All`, 'application/json'],
    ['POST', CM, 'application/yaml'],
    ['PUT', `${CM}/cm`, 'application/yaml'],
  ];

  it.each([1_000, 10_000, 100_000])('refuses JSON and YAML %i levels deep on every verb with a 400', async (depth) => {
    const json = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"x":${nested(depth)}}`;
    const patch = `[{"op":"add","path":"/data/x","value":${nested(depth)}}]`;
    for (const [method, path, type] of writes) {
      const body = type === 'application/json-patch+json' ? patch : json;
      expectStatus(await api.request(method, path, body, { 'content-type': type }), 400, TOO_DEEP);
    }
    await expectIntact();
  });

  it('refuses YAML nested by indentation and by compact sequences', async () => {
    let block = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\nx:\n';
    for (let i = 1; i <= 1500; i++) block += `${' '.repeat(i)}k:\n`;
    block += `${' '.repeat(1501)}v\n`;
    const seq = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\nx:\n${'- '.repeat(50_000)}a\n`;
    for (const body of [block, seq]) {
      expectStatus(await api.request('POST', CM, body, { 'content-type': 'application/yaml' }), 400, TOO_DEEP);
      expectStatus(await api.request('PATCH', `${CM}/cm?fieldManager=t`, body.replace('name: y', 'name: cm'), { 'content-type': 'application/apply-patch+yaml' }), 400, TOO_DEEP);
    }
    // Aliases expand: each level holds the previous one 400 deep, so the document is far deeper than its text.
    let aliases = `a0: &a0 ${nested(400)}\n`;
    for (let i = 1; i < 5; i++) aliases += `a${i}: &a${i} ${'['.repeat(400)}*a${i - 1}${']'.repeat(400)}\n`;
    const doc = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n${aliases}`;
    expectStatus(await api.request('POST', CM, doc, { 'content-type': 'application/yaml' }), 400, TOO_DEEP);
    await expectIntact();
  });

  it('survives 30 deep bodies at once', async () => {
    const bodies = Array.from({ length: 30 }, (_, i) => {
      const depth = [1_000, 10_000, 100_000][i % 3]!;
      const yaml = i % 2 === 1;
      return api.request('POST', CM, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c${i}"},"x":${nested(depth)}}`, {
        'content-type': yaml ? 'application/yaml' : 'application/json',
      });
    });
    for (const r of await Promise.all(bodies)) expectStatus(r, 400, TOO_DEEP);
    await expectIntact();
  });

  it('answers nesting just within the limit without a 5xx, wherever it lands', async () => {
    const depth = 499; // inside an object: 500 levels in all
    // managedFields[].fieldsV1 is free-form: 4 levels above it (object, metadata, the list, its item), 496 in it.
    const fieldsV1 = JSON.parse(`{"f:data":${'{"f:x":'.repeat(494)}{}${'}'.repeat(494)}}`);
    const managed = [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1 }];
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"edge","managedFields":${JSON.stringify(managed)}},"x":${nested(depth)}}`;
    const results: { what: string; status: number; body: string }[] = [];
    const record = async (what: string, method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const r = await api.request(method, path, body, headers);
      results.push({ what, status: r.status, body: r.body.slice(0, 200) });
      return r;
    };
    await record('create json', 'POST', CM, deep, { 'content-type': 'application/json' });
    await record('create yaml', 'POST', CM, deep.replace('"edge"', '"edge-yaml"'), { 'content-type': 'application/yaml' });
    await record('update', 'PUT', `${CM}/edge`, deep, { 'content-type': 'application/json' });
    await record('merge patch', 'PATCH', `${CM}/edge`, `{"x":${nested(depth)}}`, { 'content-type': 'application/merge-patch+json' });
    await record('strategic patch', 'PATCH', `${CM}/edge`, `{"x":${nested(depth)}}`, { 'content-type': 'application/strategic-merge-patch+json' });
    await record('json patch', 'PATCH', `${CM}/edge`, `[{"op":"add","path":"/x","value":${nested(depth - 1)}}]`, { 'content-type': 'application/json-patch+json' });
    await record('apply', 'PATCH', `${CM}/edge-apply?fieldManager=t`, deep.replace('"edge"', '"edge-apply"'), { 'content-type': 'application/apply-patch+yaml' });
    await record('get yaml', 'GET', `${CM}/edge`, undefined, { accept: 'application/yaml' });
    await record('list yaml', 'GET', CM, undefined, { accept: 'application/yaml' });
    await record('list table', 'GET', CM, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    await record('delete options', 'DELETE', `${CM}/edge?dryRun=All`, `{"kind":"DeleteOptions","apiVersion":"v1","x":${nested(depth)}}`, { 'content-type': 'application/json' });
    for (const r of results) expect(r.status, `${r.what}: ${r.body}`).toBeLessThan(500);
    expect(results.find((r) => r.what === 'create json'), JSON.stringify(results)).toMatchObject({ status: 201 });
    await expectIntact();
  });
});

describe('body size', () => {
  it('refuses a body over 3 MiB with 413, with or without a Content-Length', async () => {
    const big = JSON.stringify(configMap('big', { data: { a: 'x'.repeat(3 * 1024 * 1024) } }));
    expectStatus(await api.request('POST', CM, big), 413, /^Request entity too large: limit is 3145728$/);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: api.port, method: 'POST', path: CM, rejectUnauthorized: false, cert: api.adminCert, key: api.adminKey, headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      // No Content-Length: the limit is enforced while reading.
      for (let i = 0; i < 4; i++) req.write(i === 0 ? big.slice(0, 1024 * 1024) : 'x'.repeat(1024 * 1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ kind: 'Status', code: 413, reason: 'RequestEntityTooLarge' });
    expect((await api.request('GET', `${CM}/big`)).status).toBe(404);
    await expectIntact();
  });
});

describe('content types', () => {
  const body = JSON.stringify(configMap('ct'));
  const accepted = (...types: string[]) => new RegExp(`^the body of the request was in an unknown format - accepted media types include: ${types.join(', ').replace(/[+.]/g, '\\$&')}$`);
  const BODY_TYPES = accepted('application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf');
  const PATCH_TYPES = accepted('application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml');
  const unsupported = ['text/plain', 'application/xml', 'image/png', 'garbage', 'application/json, text/plain', ';;;', 'application/merge-patch+json', 'application/json; charset'];

  it.each(unsupported)('refuses %j on create, update and delete with 415', async (type) => {
    expectStatus(await api.request('POST', CM, body, { 'content-type': type }), 415, BODY_TYPES);
    expectStatus(await api.request('PUT', `${CM}/cm`, JSON.stringify(configMap('cm')), { 'content-type': type }), 415, BODY_TYPES);
    expectStatus(await api.request('DELETE', `${CM}/cm`, '{"kind":"DeleteOptions","apiVersion":"v1"}', { 'content-type': type }), 415, BODY_TYPES);
    expect((await api.request('GET', `${CM}/ct`)).status).toBe(404);
  });

  const notPatchTypes = ['text/plain', 'application/json', 'application/yaml', 'garbage', 'application/merge-patch+json, text/plain', ''];
  it.each(notPatchTypes)('refuses patch type %j with 415', async (type) => {
    expectStatus(await api.request('PATCH', `${CM}/cm`, '{"data":{"a":"patched"}}', { 'content-type': type }), 415, PATCH_TYPES);
    expect((await api.request('GET', `${CM}/cm`)).json.data.a).toBe('b');
  });

  it('takes parameters, and a body without a Content-Type as JSON, as upstream', async () => {
    expect((await api.request('POST', CM, JSON.stringify(configMap('ct1')), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
    expect((await api.request('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ct2\n', { 'content-type': 'Application/YAML;charset="utf-8"' })).status).toBe(201);
    expect((await api.request('POST', CM, JSON.stringify(configMap('ct3')), { 'content-type': '' })).status).toBe(201);
    expect((await api.request('PATCH', `${CM}/ct1`, '{"data":{"a":"c"}}', { 'content-type': 'application/merge-patch+json; charset=utf-8' })).status).toBe(200);
    expectStatus(await api.request('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata: [\n', { 'content-type': 'application/yaml' }), 400, /error converting YAML to JSON/);
    await expectIntact();
  });
});

describe('paths', () => {
  it.each([
    ['..', /may not be '\.\.'/],
    ['%2e%2e', /may not be '\.\.'/],
    ['%2E%2E', /may not be '\.\.'/],
    ['.', /may not be '\.'/],
    ['%2e', /may not be '\.'/],
    ['a%25b', /may not contain '%'/],
  ])('refuses the name %s with 400 on every verb, namespaced and cluster-scoped', async (name, message) => {
    for (const method of ['GET', 'DELETE', 'PUT', 'PATCH']) {
      const body = method === 'PUT' ? JSON.stringify(configMap(name)) : method === 'PATCH' ? '{}' : undefined;
      const headers: Record<string, string> = method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
      expectStatus(await api.request(method, `${CM}/${name}`, body, headers), 400, message);
      expectStatus(await api.request(method, `/api/v1/namespaces/${name}`, body, headers), 400, message);
      expectStatus(await api.request(method, `/api/v1/nodes/${name}`, body, headers), 400, message);
    }
    expectStatus(await api.request('GET', `/apis/apps/v1/namespaces/${NS}/deployments/${name}/scale`), 400, message);
    await expectIntact();
  });

  it('does not resolve dot segments into another object', async () => {
    // The name is "..", never the Namespace two levels up.
    expectStatus(await api.request('GET', `${CM}/../..`), 400, /may not be '\.\.'/);
    expectStatus(await api.request('DELETE', `${CM}/%2e%2e/%2e%2e`), 400, /may not be '\.\.'/);
    expectStatus(await api.request('DELETE', `/api/v1/namespaces/${NS}/..`), 404);
    await expectIntact();
  });

  it('does not drop the query at a # (it is part of the path or of the value, as in Go)', async () => {
    // The name is "cm#": nothing of that name exists, and the real ConfigMap stays.
    expectStatus(await api.request('DELETE', `${CM}/cm#?dryRun=All`), 404, /"cm#" not found/);
    // The dryRun value is "All#x", which is not a valid value: nothing is deleted.
    expectStatus(await api.request('DELETE', `${CM}/cm?dryRun=All#x`), 422, /dryRun: Unsupported value: \[\]string\{"All#x"\}: supported values: "All"/);
    expectStatus(await api.request('POST', `${CM}?dryRun=All#x`, JSON.stringify(configMap('frag'))), 400, /Invalid dryRun value: "All#x"/);
    expectStatus(await api.request('DELETE', `/api/v1/namespaces/${NS}#?dryRun=All`), 404);
    await expectIntact();
  });

  it('treats %2F as a separator, keeps empty segments and finds nothing through them', async () => {
    expectStatus(await api.request('DELETE', `${CM}/cm%2Fx`), 404);
    expectStatus(await api.request('DELETE', `/api/v1/namespaces/${NS}//configmaps/cm`), 404);
    expectStatus(await api.request('DELETE', `/api/v1//namespaces/${NS}`), 404);
    expectStatus(await api.request('GET', `${CM}/cm%00`), 404);
    await expectIntact();
  });

  it('answers a raw NUL or a malformed escape in the request line without harm', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false, cert: api.adminCert, key: api.adminKey }, () => {
        socket.write(`DELETE ${CM}/cm\0x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expectStatus(await api.request('GET', `${CM}/a%zzb`), 400);
    await expectIntact();
  });
});

describe('query parameters', () => {
  /** Opens a watch and reports whether the server ended it within `ms`. */
  const watchEnds = (query: string, ms: number) =>
    new Promise<{ status: number; ended: boolean; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: api.port, method: 'GET', path: `${CM}?watch=true&${query}`, rejectUnauthorized: false, cert: api.adminCert, key: api.adminKey },
        (res) => {
          let body = '';
          const timer = setTimeout(() => {
            req.destroy();
            resolve({ status: res.statusCode!, ended: false, body });
          }, ms);
          res.on('data', (c) => (body += c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode!, ended: true, body });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('keeps a watch with a huge timeoutSeconds open, and ends one with a negative one at once', async () => {
    for (const t of ['3000000', '2147484', '9223372036854775807', '0']) {
      const w = await watchEnds(`timeoutSeconds=${t}`, 1500);
      expect(w.status, t).toBe(200);
      expect(w.ended, t).toBe(false);
    }
    const negative = await watchEnds('timeoutSeconds=-1', 5000);
    expect(negative).toMatchObject({ status: 200, ended: true });
    await expectIntact();
  });

  it.each([
    ['timeoutSeconds', 'abc', /invalid syntax/],
    ['timeoutSeconds', '1e3', /invalid syntax/],
    ['timeoutSeconds', '0x10', /invalid syntax/],
    ['timeoutSeconds', '99999999999999999999', /value out of range/],
    ['limit', 'abc', /invalid syntax/],
    ['limit', '1.5', /invalid syntax/],
  ])('refuses %s=%s with 400', async (name, value, message) => {
    const watch = name === 'timeoutSeconds' ? 'watch=true&' : '';
    expectStatus(await api.request('GET', `${CM}?${watch}${name}=${value}`), 400, message);
  });

  it('lists with a negative or a huge limit, and refuses a malformed grace period', async () => {
    expect((await api.request('GET', `${CM}?limit=-1`)).json.kind).toBe('ConfigMapList');
    expect((await api.request('GET', `${CM}?limit=9223372036854775807`)).json.kind).toBe('ConfigMapList');
    expectStatus(await api.request('DELETE', `${CM}/cm?gracePeriodSeconds=abc`), 400, /invalid syntax/);
    expectStatus(await api.request('DELETE', `${CM}/cm?gracePeriodSeconds=99999999999999999999`), 400, /value out of range/);
    await expectIntact();
  });
});
