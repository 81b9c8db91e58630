// Prototype pollution through the write paths (upstream has no counterpart: Go maps have no
// prototype). Request keys `__proto__`, `constructor`, `prototype` sent through create, update, every
// patch type, server-side apply, /scale and /status must stay data: never a 5xx, always a Status for
// errors, the apiserver keeps serving, and anonymous callers still cannot read kube-system secrets.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;

// What a polluted Object.prototype would lend every RBAC rule and role binding.
const GRANT = '{"apiGroups":["*"],"resources":["*"],"verbs":["*"],"nonResourceURLs":["*"],"subjects":[{"kind":"Group","name":"system:unauthenticated"}]}';

/** Fragments of objects, as JSON text (a JS literal `{__proto__: ...}` would set the prototype instead). */
const CORPUS: Record<string, string> = {
  'top-level __proto__': `{"__proto__":${GRANT}}`,
  'top-level constructor.prototype': `{"constructor":{"prototype":${GRANT}}}`,
  'metadata __proto__': `{"metadata":{"__proto__":${GRANT}}}`,
  'metadata constructor.prototype': `{"metadata":{"constructor":{"prototype":${GRANT}}}}`,
  'labels __proto__ object': `{"metadata":{"labels":{"__proto__":${GRANT}}}}`,
  'labels constructor.prototype': `{"metadata":{"labels":{"constructor":{"prototype":${GRANT}}}}}`,
  'annotations as data': '{"metadata":{"annotations":{"__proto__":"a","constructor":"b","prototype":"c"}}}',
  'annotations __proto__ object': `{"metadata":{"annotations":{"__proto__":${GRANT}}}}`,
  'data as data': '{"data":{"__proto__":"x","constructor":"y","prototype":"z","toString":"s"}}',
  'data __proto__ object': `{"data":{"__proto__":${GRANT}}}`,
  'spec __proto__': `{"spec":{"__proto__":${GRANT},"template":{"metadata":{"__proto__":${GRANT}}}}}`,
  'spec constructor.prototype': `{"spec":{"constructor":{"prototype":${GRANT}},"selector":{"matchLabels":{"__proto__":${GRANT}}}}}`,
  'toString and valueOf as data in scalar fields':
    '{"metadata":{"name":{"toString":"x","valueOf":"y"},"labels":{"toString":"x","valueOf":"y","hasOwnProperty":"z"}},"spec":{"replicas":{"toString":"x","valueOf":"y"}},"data":{"hasOwnProperty":"h","valueOf":"v"}}',
  'status __proto__': `{"status":{"__proto__":${GRANT},"conditions":[{"__proto__":${GRANT},"type":"Available","status":"True"}]}}`,
};

/** Strategic merge patch directives keyed by `__proto__` and `constructor`. */
const SMP_DIRECTIVES: Record<string, string> = {
  '$setElementOrder/__proto__': `{"$setElementOrder/__proto__":[${GRANT}]}`,
  '$setElementOrder/constructor': '{"$setElementOrder/constructor":[{"name":"x"}]}',
  '$deleteFromPrimitiveList/__proto__': '{"metadata":{"$deleteFromPrimitiveList/__proto__":["x"]}}',
  '$retainKeys __proto__': `{"spec":{"strategy":{"$retainKeys":["__proto__"],"__proto__":${GRANT}}}}`,
  '$patch in __proto__': '{"metadata":{"__proto__":{"$patch":"replace","apiGroups":["*"]}}}',
  'merge list item __proto__': `{"spec":{"template":{"spec":{"containers":[{"name":"web","__proto__":${GRANT}}]}}}}`,
};

const JSON_PATCHES: string[] = [
  `[{"op":"add","path":"/__proto__/apiGroups","value":["*"]}]`,
  `[{"op":"add","path":"/metadata/__proto__","value":${GRANT}}]`,
  `[{"op":"add","path":"/constructor/prototype/verbs","value":["*"]}]`,
  `[{"op":"add","path":"/metadata/constructor/prototype/verbs","value":["*"]}]`,
  '[{"op":"add","path":"/metadata/constructor/assign","value":1}]',
  '[{"op":"replace","path":"/metadata/toString","value":1}]',
  '[{"op":"remove","path":"/metadata/hasOwnProperty"}]',
  '[{"op":"test","path":"/metadata/constructor/name","value":"Object"}]',
  '[{"op":"copy","from":"/metadata/constructor","path":"/data/copied"}]',
  '[{"op":"move","from":"/metadata/__proto__","path":"/data/moved"}]',
  '[{"op":"add","path":"/data/constructor","value":"as-data"}]',
];

/** Deep merge of decoded JSON that keeps every key as an own property (the test's own safe merge). */
function withFragment(base: unknown, fragment: unknown): unknown {
  if (typeof fragment !== 'object' || fragment === null || Array.isArray(fragment)) return fragment;
  const out: Record<string, unknown> = typeof base === 'object' && base !== null && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(fragment)) {
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, { value: withFragment(prev, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { keep: 'me' } });
const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
});

function anonymous(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: api.port, path, method: 'GET', rejectUnauthorized: false, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type Reply = Awaited<ReturnType<ApiServerInstance['request']>>;

/** No 5xx, and every error is a Status. */
function expectHandled(r: Reply, what: string): void {
  expect(r.status, `${what}: ${r.body.slice(0, 300)}`).toBeLessThan(500);
  if (r.status >= 400) expect(r.json?.kind, `${what}: ${r.body.slice(0, 300)}`).toBe('Status');
}

/** The server still serves, and nothing was lent to anonymous callers. */
async function expectUnpolluted(what: string): Promise<void> {
  expect((await api.request('GET', '/healthz')).status, what).toBe(200);
  for (const path of ['/api/v1/namespaces/kube-system/secrets', '/api/v1/namespaces/kube-system/secrets/canary', '/api/v1/namespaces/default/configmaps']) {
    const r = await anonymous(path);
    expect([401, 403], `${what}: anonymous GET ${path} -> ${r.status}`).toContain(r.status);
    expect(r.body).not.toContain('c2VjcmV0');
  }
}

const PATCH = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC'] });
  const canary = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'canary', namespace: 'kube-system' }, data: { token: 'c2VjcmV0' } };
  expect((await api.request('POST', '/api/v1/namespaces/kube-system/secrets', canary)).status).toBe(201);
  expect((await api.request('POST', '/api/v1/namespaces/default/configmaps', configMap('victim'))).status).toBe(201);
  expect((await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('dep'))).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('the reported attack', () => {
  it('a strategic merge patch of a ConfigMap with __proto__ grants nothing and does not crash the apiserver', async () => {
    await expectUnpolluted('before');
    const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/victim', `{"__proto__":${GRANT}}`, { 'content-type': PATCH.strategic });
    expectHandled(r, 'strategic __proto__');
    await expectUnpolluted('right after');
    await new Promise((res) => setTimeout(res, 1500));
    await expectUnpolluted('1.5s after');
  });
});

describe('pollution payloads through every write path', () => {
  it.each(Object.entries(CORPUS))('%s', async (name, fragment) => {
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/^-|-$/g, '');
    const frag = JSON.parse(fragment) as unknown;
    const cmPath = '/api/v1/namespaces/default/configmaps';
    const depPath = '/apis/apps/v1/namespaces/default/deployments';

    // create: JSON, YAML (JSON text is YAML), and a Deployment
    expectHandled(await api.request('POST', cmPath, JSON.stringify(withFragment(configMap(`c-${slug}`), frag))), 'create json');
    expectHandled(await api.request('POST', cmPath, JSON.stringify(withFragment(configMap(`y-${slug}`), frag)), { 'content-type': 'application/yaml' }), 'create yaml');
    expectHandled(await api.request('POST', depPath, JSON.stringify(withFragment(deployment(`d-${slug}`), frag))), 'create deployment');

    // update
    const live = (await api.request('GET', `${cmPath}/victim`)).json;
    expectHandled(await api.request('PUT', `${cmPath}/victim`, JSON.stringify(withFragment(live, frag))), 'update');
    const liveDep = (await api.request('GET', `${depPath}/dep`)).json;
    expectHandled(await api.request('PUT', `${depPath}/dep`, JSON.stringify(withFragment(liveDep, frag))), 'update deployment');

    // patches of a ConfigMap and a Deployment, and of their /status and /scale
    for (const path of [`${cmPath}/victim`, `${depPath}/dep`, `${depPath}/dep/status`, `${depPath}/dep/scale`]) {
      expectHandled(await api.request('PATCH', path, fragment, { 'content-type': PATCH.merge }), `merge ${path}`);
      expectHandled(await api.request('PATCH', path, fragment, { 'content-type': PATCH.strategic }), `strategic ${path}`);
    }
    const liveStatus = (await api.request('GET', `${depPath}/dep/status`)).json;
    expectHandled(await api.request('PUT', `${depPath}/dep/status`, JSON.stringify(withFragment(liveStatus, frag))), 'update status');
    const scale = (await api.request('GET', `${depPath}/dep/scale`)).json;
    expectHandled(await api.request('PUT', `${depPath}/dep/scale`, JSON.stringify(withFragment(scale, frag))), 'update scale');

    // server-side apply (JSON text is YAML)
    const applied = JSON.stringify(withFragment(configMap(`a-${slug}`), frag));
    expectHandled(await api.request('PATCH', `${cmPath}/a-${slug}?fieldManager=pollution`, applied, { 'content-type': PATCH.apply }), 'apply create');
    expectHandled(await api.request('PATCH', `${cmPath}/victim?fieldManager=pollution&force=true`, JSON.stringify(withFragment(configMap('victim'), frag)), { 'content-type': PATCH.apply }), 'apply');

    await expectUnpolluted(name);
  });

  it.each(Object.entries(SMP_DIRECTIVES))('strategic merge patch directive %s', async (name, patch) => {
    for (const path of ['/api/v1/namespaces/default/configmaps/victim', '/apis/apps/v1/namespaces/default/deployments/dep']) {
      expectHandled(await api.request('PATCH', path, patch, { 'content-type': PATCH.strategic }), `${name} ${path}`);
    }
    await expectUnpolluted(name);
  });

  it.each(JSON_PATCHES)('json patch %s', async (patch) => {
    for (const path of ['/api/v1/namespaces/default/configmaps/victim', '/apis/apps/v1/namespaces/default/deployments/dep/scale']) {
      expectHandled(await api.request('PATCH', path, patch, { 'content-type': PATCH.json }), `${patch} ${path}`);
    }
    await expectUnpolluted(patch);
  });

  it('json patch pointers through inherited members fail as missing paths (422)', async () => {
    expect((await api.request('POST', '/api/v1/namespaces/default/configmaps', configMap('json-patched'))).status).toBe(201);
    for (const patch of JSON_PATCHES.slice(2, 9)) {
      const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/json-patched', patch, { 'content-type': PATCH.json });
      expect(r.status, patch).toBe(422);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Invalid' });
    }
  });

  it('YAML bodies with __proto__ mapping keys', async () => {
    const yaml = (name: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  __proto__:\n    apiGroups: ["*"]\n  annotations:\n    constructor: a\n` +
      `__proto__:\n  verbs: ["*"]\ndata:\n  __proto__: x\n  constructor: y\n`;
    const created = await api.request('POST', '/api/v1/namespaces/default/configmaps', yaml('yaml-proto'), { 'content-type': 'application/yaml' });
    expectHandled(created, 'create yaml');
    expect(created.status, created.body).toBe(201);
    expect(created.json.data).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'));
    const applied = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/yaml-apply?fieldManager=pollution', yaml('yaml-apply'), { 'content-type': PATCH.apply });
    expectHandled(applied, 'apply yaml');
    expect(applied.status, applied.body).toBe(201);
    expect(Object.keys(applied.json.data).sort()).toEqual(['__proto__', 'constructor']);
    await expectUnpolluted('yaml');
  });

  it('RBAC objects whose rules and subjects carry __proto__ grant nothing', async () => {
    const role = `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"proto","namespace":"kube-system"},"rules":[{"__proto__":${GRANT}}]}`;
    expectHandled(await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles', role), 'role');
    const rule = '{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}';
    const role2 = `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"proto2","namespace":"kube-system"},"rules":[${rule}]}`;
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles', role2)).status).toBe(201);
    const binding =
      '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"proto","namespace":"kube-system"},' +
      `"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"proto2"},"subjects":[{"__proto__":${GRANT},"kind":"User","name":"nobody"}]}`;
    expectHandled(await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings', binding), 'binding');
    const patch = `{"rules":[{"__proto__":${GRANT},"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`;
    for (const type of [PATCH.merge, PATCH.strategic]) {
      expectHandled(await api.request('PATCH', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/proto2', patch, { 'content-type': type }), type);
    }
    await expectUnpolluted('rbac');
  });
});

describe('keys are data', () => {
  it('ConfigMap data keys __proto__ and constructor survive create, every patch type and apply', async () => {
    const path = '/api/v1/namespaces/default/configmaps/keys';
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keys"},"data":{"__proto__":"p","constructor":"c"}}';
    const created = await api.request('POST', '/api/v1/namespaces/default/configmaps', body);
    expect(created.status, created.body).toBe(201);
    expect(created.json.data).toEqual(JSON.parse('{"__proto__":"p","constructor":"c"}'));

    let r = await api.request('PATCH', path, '{"data":{"__proto__":"p2","prototype":"q"}}', { 'content-type': PATCH.merge });
    expect(r.status, r.body).toBe(200);
    expect(r.json.data).toEqual(JSON.parse('{"__proto__":"p2","constructor":"c","prototype":"q"}'));

    r = await api.request('PATCH', path, '{"data":{"__proto__":null,"constructor":"c3"}}', { 'content-type': PATCH.strategic });
    expect(r.status, r.body).toBe(200);
    expect(r.json.data).toEqual({ constructor: 'c3', prototype: 'q' });

    r = await api.request('PATCH', path, '[{"op":"add","path":"/data/toString","value":"t"},{"op":"remove","path":"/data/constructor"},{"op":"add","path":"/data/__proto__","value":"j"}]', {
      'content-type': PATCH.json,
    });
    expect(r.status, r.body).toBe(200);
    expect(r.json.data).toEqual(JSON.parse('{"prototype":"q","toString":"t","__proto__":"j"}'));

    r = await api.request('PATCH', `${path}?fieldManager=keys&force=true`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\ndata:\n  __proto__: applied\n', {
      'content-type': PATCH.apply,
    });
    expect(r.status, r.body).toBe(200);
    expect(r.json.data).toEqual(JSON.parse('{"prototype":"q","toString":"t","__proto__":"applied"}'));
    const got = (await api.request('GET', path)).json;
    expect(Object.keys(got.data).sort()).toEqual(['__proto__', 'prototype', 'toString']);
  });
});

describe('other request-derived keys', () => {
  it('Secret stringData keys __proto__ and constructor become data keys', async () => {
    const body = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"string-data"},"stringData":{"__proto__":"p","constructor":"c"}}';
    const r = await api.request('POST', '/api/v1/namespaces/default/secrets', body);
    expect(r.status, r.body).toBe(201);
    expect(r.json.data).toEqual(JSON.parse('{"__proto__":"cA==","constructor":"Yw=="}'));
  });

  it('Impersonate-Extra headers named after prototype members are ordinary extra keys', async () => {
    const r = await api.request('GET', '/api/v1/namespaces/default/configmaps', undefined, {
      'impersonate-user': 'jane',
      'impersonate-extra-constructor': 'x',
      'impersonate-extra-__proto__': 'y',
      'impersonate-extra-tostring': 'z',
    });
    expectHandled(r, 'impersonation');
    expect(r.status).toBe(403);
    expect(r.json.message).toBe('configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "default"');
    const review = await api.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, {
      'impersonate-user': 'jane',
      'impersonate-group': 'system:masters',
      'impersonate-extra-constructor': 'x',
      'impersonate-extra-__proto__': 'y',
    });
    expect(review.status, review.body).toBe(201);
    expect(review.json.status.userInfo.extra).toEqual(JSON.parse('{"constructor":["x"],"__proto__":["y"]}'));
    await expectUnpolluted('impersonation');
  });
});

describe('selectors with prototype member names', () => {
  const list = async (query: string) => {
    const r = await api.request('GET', `/api/v1/namespaces/sel/configmaps?${query}`);
    return r;
  };
  const names = (r: Reply) => (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort();

  beforeAll(async () => {
    expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sel' } })).status).toBe(201);
    const cm = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'sel', labels } });
    expect((await api.request('POST', '/api/v1/namespaces/sel/configmaps', cm('plain', { app: 'plain' }))).status).toBe(201);
    expect((await api.request('POST', '/api/v1/namespaces/sel/configmaps', cm('ctor', { constructor: 'x' }))).status).toBe(201);
  });

  it('label selectors on constructor, toString and hasOwnProperty match only objects with that label', async () => {
    const cases: [string, string[]][] = [
      ['constructor', ['ctor']],
      ['constructor=x', ['ctor']],
      ['constructor==x', ['ctor']],
      ['constructor in (x,y)', ['ctor']],
      ['constructor!=x', ['plain']],
      ['!constructor', ['plain']],
      ['toString', []],
      ['hasOwnProperty', []],
      ['valueOf notin (a)', ['ctor', 'plain']],
      ['!toString', ['ctor', 'plain']],
      ['constructor>1', []],
    ];
    for (const [sel, want] of cases) {
      const r = await list(`labelSelector=${encodeURIComponent(sel)}`);
      expect(r.status, `${sel}: ${r.body}`).toBe(200);
      expect(names(r), sel).toEqual(want);
    }
  });

  it('a __proto__ label selector is refused as an invalid label key', async () => {
    for (const sel of ['__proto__', '__proto__=x', '!__proto__']) {
      const r = await list(`labelSelector=${encodeURIComponent(sel)}`);
      expect(r.status, `${sel}: ${r.body}`).toBe(400);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    }
  });

  it('field selectors on prototype member names are unknown fields, and metadata.name=constructor matches nothing', async () => {
    for (const sel of ['constructor=x', '__proto__=x', 'toString=x', 'metadata.constructor=x']) {
      const r = await list(`fieldSelector=${encodeURIComponent(sel)}`);
      expect(r.status, `${sel}: ${r.body}`).toBe(400);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    }
    for (const sel of ['metadata.name=constructor', 'metadata.name=__proto__']) {
      const r = await list(`fieldSelector=${encodeURIComponent(sel)}`);
      expect(r.status, `${sel}: ${r.body}`).toBe(200);
      expect(names(r), sel).toEqual([]);
    }
    await expectUnpolluted('selectors');
  });
});
