// The REST API directly (https with the admin certificate): bad input, concurrency, paging,
// allocation, watch semantics, restarts and etcd outages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { watchEvents } from '../fixtures/watch.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;

const cm = (name: string, data: Record<string, string> = { a: '1' }, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--watch-bookmark-interval=1s'] });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('bad input gets a Status, never a crash', () => {
  it('malformed JSON and YAML are 400', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', '{"kind": "ConfigMap", ');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400 });
    const y = await api.request('POST', '/api/v1/namespaces/default/configmaps', 'metadata: [unclosed\n', { 'content-type': 'application/yaml' });
    expect(y.status).toBe(400);
    expect(y.json.reason).toBe('BadRequest');
  });

  it('accepts YAML bodies', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n', { 'content-type': 'application/yaml' });
    expect(r.status).toBe(201);
    expect(r.json.data).toEqual({ k: 'v' });
  });

  it('a kind or apiVersion that does not match the path is 400', async () => {
    const kind = await api.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
    expect(kind.status).toBe(400);
    const version = await api.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(version.status).toBe(400);
    expect(version.json.message).toBe('the API version in the data (apps/v1) does not match the expected API version (v1)');
  });

  it('a name in the body that differs from the URL is 400', async () => {
    await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('named'));
    const r = await api.request('PUT', '/api/v1/namespaces/default/configmaps/named', cm('other'));
    expect(r.status).toBe(400);
    expect(r.json.message).toBe('the name of the object (other) does not match the name on the URL (named)');
  });

  it('an invalid object is 422 Invalid with field causes', async () => {
    const r = await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: -1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    expect(r.status).toBe(422);
    expect(r.json.reason).toBe('Invalid');
    expect(r.json.message).toBe('Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(r.json.details).toMatchObject({ name: 'web', group: 'apps', kind: 'Deployment', causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas' }] });
  });

  it('unknown resources and paths are 404', async () => {
    expect((await api.request('GET', '/api/v1/namespaces/default/widgets')).status).toBe(404);
    expect((await api.request('GET', '/apis/example.com/v1/things')).status).toBe(404);
    const r = await api.request('GET', '/nope');
    expect(r.status).toBe(404);
    expect(r.json.kind).toBe('Status');
  });

  it('an oversized body is 413', async () => {
    const big = JSON.stringify(cm('big', { blob: 'x'.repeat(3 * 1024 * 1024 + 10) }));
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', big);
    expect(r.status).toBe(413);
    expect(r.json.reason).toBe('RequestEntityTooLarge');
  });

  it('a stale resourceVersion on update is 409 Conflict', async () => {
    const created = (await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('cas'))).json;
    const first = await api.request('PUT', '/api/v1/namespaces/default/configmaps/cas', { ...created, data: { a: '2' } });
    expect(first.status).toBe(200);
    const stale = await api.request('PUT', '/api/v1/namespaces/default/configmaps/cas', { ...created, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe('Conflict');
    expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/cas')).json.data).toEqual({ a: '2' });
  });

  it('generateName, uid, creationTimestamp and generation are set by the server', async () => {
    const r = await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { generateName: 'gen-', uid: 'client-set' },
      spec: { selector: { matchLabels: { app: 'g' } }, template: { metadata: { labels: { app: 'g' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    expect(r.status).toBe(201);
    expect(r.json.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(r.json.metadata.uid).not.toBe('client-set');
    expect(r.json.metadata.generation).toBe(1);
    expect(r.json.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    const path = `/apis/apps/v1/namespaces/default/deployments/${r.json.metadata.name}`;
    const scaled = await api.request('PATCH', path, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    expect(scaled.json.metadata.generation).toBe(2);
    const labelled = await api.request('PATCH', path, { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(labelled.json.metadata.generation).toBe(2);
  });
});

describe('status subresource', () => {
  it('main resource updates keep status; /status updates keep spec', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'st' },
      spec: { replicas: 2, selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      status: { replicas: 99 },
    };
    const created = (await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', d)).json;
    expect(created.status).toBeUndefined();
    const st = await api.request('PUT', '/apis/apps/v1/namespaces/default/deployments/st/status', { ...created, spec: { ...created.spec, replicas: 7 }, status: { replicas: 2, readyReplicas: 1 } });
    expect(st.status).toBe(200);
    expect(st.json.spec.replicas).toBe(2);
    expect(st.json.status).toEqual({ replicas: 2, readyReplicas: 1 });
    const main = await api.request('PUT', '/apis/apps/v1/namespaces/default/deployments/st', { ...st.json, status: { replicas: 0 } });
    expect(main.json.status).toEqual({ replicas: 2, readyReplicas: 1 });
  });
});

describe('finalizers and deletion', () => {
  it('an object with a finalizer stays, with deletionTimestamp, until the finalizer is removed', async () => {
    const created = (await api.request('POST', '/api/v1/namespaces/default/configmaps', { ...cm('fin'), metadata: { name: 'fin', finalizers: ['example.com/keep'] } })).json;
    const del = await api.request('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(del.status).toBe(200);
    expect(del.json.metadata.deletionTimestamp).toBeTruthy();
    const still = await api.request('GET', '/api/v1/namespaces/default/configmaps/fin');
    expect(still.status).toBe(200);
    const cleared = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/fin', [{ op: 'remove', path: '/metadata/finalizers' }], { 'content-type': 'application/json-patch+json' });
    expect(cleared.status).toBe(200);
    expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
    void created;
  });

  it('a bound pod is deleted gracefully; grace 0 removes it', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await api.request('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201);
    const del = await api.request('DELETE', '/api/v1/namespaces/default/pods/bound');
    expect(del.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await api.request('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(200);
    const force = await api.request('DELETE', '/api/v1/namespaces/default/pods/bound', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    expect(force.status).toBe(200);
    expect((await api.request('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(404);
  });

  it('pods/binding assigns a node once', async () => {
    await api.request('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tobind' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const b = await api.request('POST', '/api/v1/namespaces/default/pods/tobind/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'node-a' } });
    expect(b.status).toBe(201);
    const pod = (await api.request('GET', '/api/v1/namespaces/default/pods/tobind')).json;
    expect(pod.spec.nodeName).toBe('node-a');
    expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    const again = await api.request('POST', '/api/v1/namespaces/default/pods/tobind/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'node-b' } });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('pod tobind is already assigned to node "node-a"');
  });
});

describe('list paging and selectors', () => {
  it('pages with limit/continue at one consistent revision', async () => {
    for (let i = 0; i < 7; i++) await api.request('POST', '/api/v1/namespaces/default/configmaps', cm(`page-${i}`, { i: String(i) }, { paging: 'yes' }));
    const first = (await api.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=paging%3Dyes&limit=3')).json;
    expect(first.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(['page-0', 'page-1', 'page-2']);
    expect(first.metadata.continue).toBeTruthy();
    // A write between pages does not show up in later pages of the same list.
    await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('page-9', {}, { paging: 'yes' }));
    const names: string[] = first.items.map((c: { metadata: { name: string } }) => c.metadata.name);
    let cont = first.metadata.continue;
    while (cont) {
      const page = (await api.request('GET', `/api/v1/namespaces/default/configmaps?labelSelector=paging%3Dyes&limit=3&continue=${encodeURIComponent(cont)}`)).json;
      expect(page.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      names.push(...page.items.map((c: { metadata: { name: string } }) => c.metadata.name));
      cont = page.metadata.continue;
    }
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
  });

  it('a bad label selector is 400', async () => {
    const r = await api.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=' + encodeURIComponent('a in (b'));
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe('BadRequest');
  });
});

describe('ClusterIP and NodePort allocation', () => {
  const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec } });

  it('allocates distinct IPs and ports and rejects ones in use', async () => {
    const a = (await api.request('POST', '/api/v1/namespaces/default/services', svc('a', { type: 'NodePort' }))).json;
    const b = (await api.request('POST', '/api/v1/namespaces/default/services', svc('b', { type: 'NodePort' }))).json;
    expect(a.spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
    expect(a.spec.clusterIP).not.toBe(b.spec.clusterIP);
    expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
    expect(a.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(a.spec.ports[0].nodePort).not.toBe(b.spec.ports[0].nodePort);
    expect(a.spec.ports[0].targetPort).toBe(80);

    const ipTaken = await api.request('POST', '/api/v1/namespaces/default/services', svc('c', { clusterIP: a.spec.clusterIP }));
    expect(ipTaken.status).toBe(422);
    expect(ipTaken.json.message).toContain(`failed to allocate IP ${a.spec.clusterIP}: provided IP is already allocated`);
    const portTaken = await api.request('POST', '/api/v1/namespaces/default/services', svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] }));
    expect(portTaken.status).toBe(422);
    expect(portTaken.json.message).toContain('spec.ports[0].nodePort: Invalid value');
    expect(portTaken.json.message).toContain('provided port is already allocated');
    const outOfRange = await api.request('POST', '/api/v1/namespaces/default/services', svc('e', { clusterIP: '192.168.0.1' }));
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.json.message).toContain('The range of valid IPs is 10.96.0.0/12');

    // Deleting a service frees its IP and port for others.
    await api.request('DELETE', '/api/v1/namespaces/default/services/a');
    const reuse = await api.request('POST', '/api/v1/namespaces/default/services', svc('f', { clusterIP: a.spec.clusterIP, type: 'NodePort', ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] }));
    expect(reuse.status, reuse.body).toBe(201);
  });

  it('two apiservers on one etcd never hand out the same IP', async () => {
    const second = await startApiServer({ etcdEndpoint: etcd.endpoint, pkiDir: api.pkiDir });
    try {
      const creates: Promise<{ json: { spec: { clusterIP: string } }; status: number }>[] = [];
      for (let i = 0; i < 20; i++) {
        const server = i % 2 ? api : second;
        creates.push(server.request('POST', '/api/v1/namespaces/default/services', svc(`race-${i}`, {})));
      }
      const results = await Promise.all(creates);
      expect(results.every((r) => r.status === 201)).toBe(true);
      const ips = results.map((r) => r.json.spec.clusterIP);
      expect(new Set(ips).size).toBe(20);
    } finally {
      await second.stop();
    }
  });
});

describe('watch', () => {
  it('resumes from a resourceVersion without missing or repeating events', async () => {
    const base = (await api.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=w%3D1')).json.metadata.resourceVersion;
    const path = '/api/v1/namespaces/default/configmaps?labelSelector=w%3D1&watch=true';
    const first = watchEvents(api, `${path}&resourceVersion=${base}`);
    for (let i = 0; i < 3; i++) await api.request('POST', '/api/v1/namespaces/default/configmaps', cm(`w-${i}`, {}, { w: '1' }));
    const seen = await first.take(3);
    first.stop();
    const lastRV = seen[2]!.object.metadata.resourceVersion;
    // Changes while no watch is open.
    await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('w-3', {}, { w: '1' }));
    await api.request('DELETE', '/api/v1/namespaces/default/configmaps/w-0');
    const second = watchEvents(api, `${path}&resourceVersion=${lastRV}`);
    const resumed = await second.take(2);
    second.stop();
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w-0', 'ADDED w-1', 'ADDED w-2']);
    expect(resumed.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w-3', 'DELETED w-0']);
    expect(Number(resumed[1]!.object.metadata.resourceVersion)).toBeGreaterThan(Number(resumed[0]!.object.metadata.resourceVersion));
  });

  it('sends bookmarks when asked', async () => {
    const rv = (await api.request('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion;
    const w = watchEvents(api, `/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}&labelSelector=none%3Dmatch`);
    const [bm] = await w.take(1, 10_000);
    w.stop();
    expect(bm!.type).toBe('BOOKMARK');
    expect(bm!.object.kind).toBe('ConfigMap');
    expect(Number(bm!.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
  });

  it('a watch from "" starts with the current objects as ADDED', async () => {
    const w = watchEvents(api, '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=paging%3Dyes');
    const events = await w.take(8);
    w.stop();
    expect(events.every((e) => e.type === 'ADDED')).toBe(true);
  });
});

describe('durability', () => {
  it('a restart of the apiserver loses nothing', async () => {
    await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('durable', { keep: 'me' }));
    const before = (await api.request('GET', '/api/v1/namespaces/default/configmaps')).json.items.length;
    await api.restart();
    const after = (await api.request('GET', '/api/v1/namespaces/default/configmaps')).json;
    expect(after.items.length).toBe(before);
    expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/durable')).json.data).toEqual({ keep: 'me' });
  });

  it('etcd down gives a 5xx Status; the server recovers when etcd is back', async () => {
    etcd.kill('SIGSTOP');
    try {
      const r = await api.request('GET', '/api/v1/namespaces/default/configmaps/durable');
      // Served from the watch cache or failing fast; a write must fail with a Status.
      const w = await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('while-down'));
      expect(w.status).toBeGreaterThanOrEqual(500);
      expect(w.json.kind).toBe('Status');
      void r;
      const ready = await api.request('GET', '/readyz');
      expect(ready.status).toBe(500);
    } finally {
      etcd.kill('SIGCONT');
    }
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = (await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('after-outage'))).status === 201;
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ok).toBe(true);
    expect((await api.request('GET', '/readyz')).status).toBe(200);
  });
});

describe('health, version and metrics', () => {
  it('serves /version, /livez, /readyz?verbose and upstream metric names', async () => {
    expect((await api.request('GET', '/version')).json.gitVersion).toMatch(/^v1\.32/);
    expect((await api.request('GET', '/livez')).body).toBe('ok');
    expect((await api.request('GET', '/readyz?verbose')).body).toContain('[+]etcd ok');
    const m = (await api.request('GET', '/metrics')).body;
    expect(m).toMatch(/apiserver_request_total\{verb="GET",dry_run="",group="",version="v1",resource="configmaps",subresource="",scope="resource",component="apiserver",code="200"\} \d+/);
    expect(m).toContain('apiserver_request_duration_seconds_bucket');
  });
});

describe('events in two API versions', () => {
  it('an Event created through core/v1 is read through events.k8s.io/v1, and back', async () => {
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'pod-a.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'pod-a', namespace: 'default' },
      reason: 'Testing',
      message: 'written as core/v1',
      type: 'Normal',
      source: { component: 'tester' },
      count: 1,
    };
    expect((await api.request('POST', '/api/v1/namespaces/default/events', ev)).status).toBe(201);
    const v1 = (await api.request('GET', '/apis/events.k8s.io/v1/namespaces/default/events/pod-a.1')).json;
    expect(v1).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', regarding: { name: 'pod-a' }, note: 'written as core/v1', deprecatedCount: 1 });
    const created = await api.request('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'pod-a.2', namespace: 'default' },
      regarding: { kind: 'Pod', name: 'pod-a', namespace: 'default' },
      reason: 'Testing',
      note: 'written as events.k8s.io/v1',
      type: 'Normal',
      action: 'Test',
      eventTime: '2026-11-23T10:00:00.000000Z',
      reportingController: 'example.com/tester',
      reportingInstance: 'tester-1',
    });
    expect(created.status, created.body).toBe(201);
    const core = (await api.request('GET', '/api/v1/namespaces/default/events/pod-a.2')).json;
    expect(core).toMatchObject({ apiVersion: 'v1', involvedObject: { name: 'pod-a' }, message: 'written as events.k8s.io/v1', reportingComponent: 'example.com/tester' });
    const list = (await api.request('GET', '/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3Dpod-a')).json;
    expect(list.items.map((e: { note: string }) => e.note).sort()).toEqual(['written as core/v1', 'written as events.k8s.io/v1']);
  });
});
