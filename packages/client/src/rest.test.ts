import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findKind, isGone, isNotFound, notFound, StatusError } from '@kubelab/api';
import { RestClient } from './rest.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
let respond: (req: Seen, res: http.ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      respond(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const json = (res: http.ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const deployments = findKind('apps/v1', 'Deployment')!;
const nodes = findKind('v1', 'Node')!;

describe('RestClient', () => {
  it('sends JSON with Accept, bearer token and user agent, to the resource path', async () => {
    seen.length = 0;
    respond = (req, res) => json(res, 201, { ...JSON.parse(req.body), metadata: { ...JSON.parse(req.body).metadata, uid: 'u1' } });
    const c = new RestClient({ server: base, token: 't0k', userAgent: 'test/1' });
    const created = await c.resourceFor('apps/v1', 'Deployment', 'default').create({ metadata: { name: 'web' } }, { fieldManager: 'me' });
    expect(created.metadata.uid).toBe('u1');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/apis/apps/v1/namespaces/default/deployments?fieldManager=me' });
    expect(seen[0]!.headers).toMatchObject({ accept: 'application/json', 'content-type': 'application/json', authorization: 'Bearer t0k', 'user-agent': 'test/1' });
    c.close();
  });

  it('uses the patch content type for each patch kind', async () => {
    seen.length = 0;
    respond = (_req, res) => json(res, 200, { metadata: { name: 'web' } });
    const c = new RestClient({ server: base });
    const rc = c.resource(deployments, 'default');
    await rc.patch('web', { spec: { replicas: 2 } }, 'merge');
    await rc.patch('web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'json');
    await rc.patch('web', { spec: {} }, 'strategic', { subresource: 'status' });
    await rc.patch('web', { apiVersion: 'apps/v1', kind: 'Deployment' }, 'apply', { fieldManager: 'kubectl', force: true });
    expect(seen.map((s) => [s.url, s.headers['content-type']])).toEqual([
      ['/apis/apps/v1/namespaces/default/deployments/web', 'application/merge-patch+json'],
      ['/apis/apps/v1/namespaces/default/deployments/web', 'application/json-patch+json'],
      ['/apis/apps/v1/namespaces/default/deployments/web/status', 'application/strategic-merge-patch+json'],
      ['/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl&force=true', 'application/apply-patch+yaml'],
    ]);
    c.close();
  });

  it('lists with selectors and paging, and deletes with DeleteOptions in the body', async () => {
    seen.length = 0;
    respond = (_req, res) => json(res, 200, { kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [] });
    const c = new RestClient({ server: base });
    await c.resource(nodes).list({ labelSelector: 'a=b,c!=d', limit: 500, continue: 'tok' });
    await c.resource(nodes).delete('n1', { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
    expect(seen[0]!.url).toBe('/api/v1/nodes?labelSelector=a%3Db%2Cc%21%3Dd&limit=500&continue=tok');
    expect(seen[1]).toMatchObject({ method: 'DELETE', url: '/api/v1/nodes/n1' });
    expect(JSON.parse(seen[1]!.body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
    c.close();
  });

  it('turns a Status body into the matching StatusError', async () => {
    respond = (_req, res) => json(res, 404, notFound({ group: 'apps', resource: 'deployments' }, 'web').status);
    const c = new RestClient({ server: base });
    const err = await c.resource(deployments, 'default').get('web').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect(isNotFound(err)).toBe(true);
    expect((err as StatusError).message).toBe('deployments.apps "web" not found');
    c.close();
  });

  it('turns a non-Status error body into a StatusError for the HTTP code', async () => {
    respond = (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found');
    };
    const c = new RestClient({ server: base });
    const err = (await c.request({ path: '/nope' }).catch((e: unknown) => e)) as StatusError;
    expect(err).toBeInstanceOf(StatusError);
    expect([err.code, err.reason, err.message]).toEqual([404, 'NotFound', 'the server could not find the requested resource']);
    respond = (_req, res) => {
      res.writeHead(409);
      res.end();
    };
    const post = (await c.request({ method: 'POST', path: '/x', body: {} }).catch((e: unknown) => e)) as StatusError;
    expect([post.code, post.reason]).toEqual([409, 'AlreadyExists']);
    c.close();
  });

  it('rejects network errors with the original error', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = new RestClient({ server: `http://127.0.0.1:${port}` });
    const err = (await c.request({ path: '/api' }).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err).not.toBeInstanceOf(StatusError);
    expect(err.code).toBe('ECONNREFUSED');
    c.close();
  });

  it('streams a watch and surfaces an ERROR event as a StatusError', async () => {
    seen.length = 0;
    respond = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      const line1 = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'n1', resourceVersion: '5' } } }) + '\n';
      res.write(line1.slice(0, 10));
      setTimeout(() => {
        res.write(line1.slice(10));
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } }) + '\n');
      }, 10);
    };
    const c = new RestClient({ server: base });
    const w = await c.resource(nodes).watch({ resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 30, labelSelector: 'x=y' });
    expect(seen[0]!.url).toBe('/api/v1/nodes?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=30&labelSelector=x%3Dy');
    const names: string[] = [];
    const err = await (async () => {
      for await (const ev of w) names.push(`${ev.type} ${ev.object.metadata.name}`);
    })().catch((e: unknown) => e);
    expect(names).toEqual(['ADDED n1']);
    expect(isGone(err)).toBe(true);
    c.close();
  });

  it('stop() ends a watch that is waiting for events', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'n1' } } }) + '\n');
    };
    const c = new RestClient({ server: base });
    const w = await c.resource(nodes).watch();
    const got: string[] = [];
    for await (const ev of w) {
      got.push(ev.object.metadata.name!);
      setTimeout(() => w.stop(), 10);
    }
    expect(got).toEqual(['n1']);
    c.close();
  });

  it('limits the request rate with a token bucket', async () => {
    respond = (_req, res) => json(res, 200, {});
    const c = new RestClient({ server: base, qps: 20, burst: 1 });
    const start = Date.now();
    await Promise.all([1, 2, 3].map(() => c.request({ path: '/api' })));
    expect(Date.now() - start).toBeGreaterThanOrEqual(90);
    c.close();
  });
});

describe('request deadline (timeoutMs)', () => {
  it('fails a request the server does not answer in time, and leaves watches unbounded', async () => {
    respond = (req, res) => {
      if (req.url.includes('watch=true')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        setTimeout(() => res.end(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'late' } } }) + '\n'), 300);
        return;
      }
      setTimeout(() => json(res, 200, {}), 1_000);
    };
    const c = new RestClient({ server: base, timeoutMs: 100 });
    const started = Date.now();
    await expect(c.request({ path: '/api' })).rejects.toThrow(/timeout|aborted/i);
    expect(Date.now() - started).toBeLessThan(900);
    // A watch outlives the deadline: its event arrives after 300 ms.
    const w = await c.resource(nodes).watch();
    const got: string[] = [];
    for await (const ev of w) got.push(ev.object.metadata.name!);
    expect(got).toEqual(['late']);
    c.close();
  });
});

describe('connection deadlines', () => {
  it('fails a request whose TLS handshake never completes after 10 s, as client-go does', async () => {
    // A TCP server that accepts and then says nothing: the handshake hangs (a peer gone silent, a stale DNAT).
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const accepted = new Promise<void>((r) => silent.once('connection', () => r()));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new RestClient({ server: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`, insecureSkipTLSVerify: true });
      const pending = client.request({ path: '/version' });
      pending.catch(() => undefined);
      await accepted;
      await new Promise((r) => setImmediate(r));
      vi.advanceTimersByTime(9_999);
      vi.advanceTimersByTime(1);
      await expect(pending).rejects.toThrow(/TLS handshake timeout/);
      client.close();
    } finally {
      vi.useRealTimers();
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
