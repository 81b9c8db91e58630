// The kube-apiserver's self-defence and shutdown, as upstream's secure serving and filter chain: connections
// that send no request (or headers too slowly) are closed after the header timeout, requests past
// --request-timeout get a 504 Status, --max-mutating-requests-inflight answers 429 with Retry-After
// (watches and system:masters exempt), and SIGTERM ends open watches cleanly and exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { until } from '../fixtures/wait.js';

const TOKEN = 'limits-test-token-alice';
const HEADER_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 3000;
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let dir: string;

beforeAll(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'kubelab-limits-'));
  // alice is an ordinary user: only system:masters escape the in-flight limits.
  writeFileSync(join(dir, 'tokens.csv'), `${TOKEN},alice,uid-alice,"developers"\n`);
  api = await startApiServer({
    etcdEndpoint: etcd.endpoint,
    extraArgs: [
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      `--read-header-timeout=${HEADER_TIMEOUT_MS}ms`,
      `--request-timeout=${REQUEST_TIMEOUT_MS}ms`,
      '--max-requests-inflight=3',
      '--max-mutating-requests-inflight=1',
    ],
  });
});

afterAll(async () => {
  etcd?.kill('SIGCONT');
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

/**
 * One request on its own connection, as alice (token) or as the admin (client certificate). A `slowBody` is sent
 * in pieces, `pieceMs` apart, and not at all once an answer came; `hold` delays the last piece until it resolves.
 */
function call(
  inst: ApiServerInstance,
  method: string,
  path: string,
  opts: { as?: 'alice' | 'admin'; body?: unknown; slowBody?: { pieces: number; pieceMs: number; hold?: Promise<void> } } = {},
): Promise<Answer & { closed: Promise<void> }> {
  const started = Date.now();
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const admin = opts.as === 'admin';
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port: inst.port,
      method,
      path,
      agent: false,
      rejectUnauthorized: false,
      ...(admin ? { cert: inst.adminCert, key: inst.adminKey } : {}),
      headers: {
        accept: 'application/json',
        ...(admin ? {} : { authorization: `Bearer ${TOKEN}` }),
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
    });
    let answered = false;
    const closed = new Promise<void>((r) => req.once('close', () => r()));
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, ms: Date.now() - started, closed }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30s')));
    if (!payload) return void req.end();
    if (!opts.slowBody) return void req.end(payload);
    const { pieces, pieceMs, hold } = opts.slowBody;
    const size = Math.ceil(payload.length / pieces);
    void (async () => {
      for (let i = 0; i < pieces && !answered; i++) {
        if (i === pieces - 1 && hold) await hold;
        if (answered || req.destroyed) return;
        req.write(payload.subarray(i * size, (i + 1) * size));
        if (i < pieces - 1) await new Promise((r) => setTimeout(r, pieceMs));
      }
      if (!answered && !req.destroyed) req.end();
    })();
  });
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v'.repeat(200) } });

/** Resolves with how long after `start` the socket was closed by the server. */
function closedAfter(socket: net.Socket, start: number): Promise<number> {
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Date.now() - start));
  });
}

describe('connection timeouts', () => {
  it('closes idle TCP and idle TLS connections after the header timeout', async () => {
    const start = Date.now();
    const closes: Promise<number>[] = [];
    // 100 connections that never start TLS, 100 that complete the handshake and then send nothing.
    for (let i = 0; i < 100; i++) closes.push(closedAfter(net.connect(api.port, '127.0.0.1'), start));
    for (let i = 0; i < 100; i++) {
      // A TLS connection is timed from the end of its handshake.
      const s = tls.connect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false });
      closes.push(new Promise((r, reject) => {
        const early = () => reject(new Error('closed before the handshake completed'));
        s.once('close', early);
        s.once('secureConnect', () => {
          s.off('close', early);
          void closedAfter(s, Date.now()).then(r);
        });
      }));
    }
    const times = await Promise.all(closes);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS * 0.9);
    expect(Math.max(...times)).toBeLessThan(HEADER_TIMEOUT_MS + 3000);
    expect((await api.request('GET', '/readyz')).status).toBe(200);
  });

  it('cuts a slowloris sender whose headers do not complete within the header timeout, without an answer', async () => {
    const run = async (firstRequest: boolean) => {
      const s = tls.connect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false });
      await new Promise((r) => s.once('secureConnect', r));
      let received = '';
      s.on('data', (d) => (received += d));
      if (!firstRequest) {
        // A keep-alive connection: one complete request, then a slow one.
        s.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await until('the first answer', async () => received.includes('"gitVersion"'), 5000);
        received = '';
      }
      const start = Date.now();
      const closed = closedAfter(s, start);
      const header = 'GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100);
      let i = 0;
      const trickle = setInterval(() => s.writable && s.write(header[i++ % header.length]!), 100);
      const after = await closed;
      clearInterval(trickle);
      expect(after).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS * 0.9);
      expect(after).toBeLessThan(HEADER_TIMEOUT_MS + 3000);
      expect(received).toBe('');
    };
    await Promise.all([run(true), run(false)]);
  });
});

describe('request timeout', () => {
  const TIMEOUT_STATUS = {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Timeout',
    code: 504,
    message: 'Timeout: request did not complete within the allotted timeout',
  };

  it('answers a request body that does not arrive within --request-timeout with 504 and closes the connection', async () => {
    const r = await call(api, 'POST', CONFIGMAPS, { as: 'alice', body: configMap('slow-body'), slowBody: { pieces: 100, pieceMs: 200 } });
    expect(r.status).toBe(504);
    expect(r.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS * 0.9);
    expect(r.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
    expect(JSON.parse(r.body)).toMatchObject(TIMEOUT_STATUS);
    expect(r.headers.connection).toBe('close');
    await r.closed;
    expect((await api.request('GET', `${CONFIGMAPS}/slow-body`)).status).toBe(404);
  });

  it('answers 504 when etcd does not answer in time (?timeout= shortens it), and serves again once etcd is back', async () => {
    expect((await api.request('GET', '/api/v1/namespaces/default?timeout=bogus')).json).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'invalid timeout specified in the request URL - time: invalid duration "bogus"',
    });
    etcd.kill('SIGSTOP');
    try {
      const [full, short] = await Promise.all([
        call(api, 'GET', '/api/v1/namespaces/default', { as: 'admin' }),
        call(api, 'GET', '/api/v1/namespaces/kube-system?timeout=1s', { as: 'admin' }),
      ]);
      expect(full.status).toBe(504);
      expect(JSON.parse(full.body)).toMatchObject(TIMEOUT_STATUS);
      expect(full.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS * 0.9);
      expect(short.status).toBe(504);
      expect(short.ms).toBeLessThan(REQUEST_TIMEOUT_MS * 0.8);
    } finally {
      etcd.kill('SIGCONT');
    }
    await until('reads after etcd resumed', async () => (await api.request('GET', '/api/v1/namespaces/default')).status === 200, 20_000);
    const metrics = (await api.request('GET', '/metrics')).body;
    expect(metrics).toMatch(/apiserver_request_terminations_total\{[^}]*verb="GET"[^}]*resource="namespaces"[^}]*code="504"\} [1-9]/);
  });
});

describe('in-flight limits', () => {
  it('answers mutating requests beyond --max-mutating-requests-inflight with 429 and Retry-After; system:masters pass', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    // Holds the only mutating slot while its body arrives.
    const slow = call(api, 'POST', CONFIGMAPS, { as: 'alice', body: configMap('held'), slowBody: { pieces: 3, pieceMs: 100, hold } });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const refused = await Promise.all([1, 2, 3].map((i) => call(api, 'POST', CONFIGMAPS, { as: 'alice', body: configMap(`refused-${i}`) })));
      for (const r of refused) {
        expect(r.status).toBe(429);
        expect(r.headers['retry-after']).toBe('1');
        expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(r.body).toBe('Too many requests, please try again later.\n');
      }
      // Read-only requests have their own limit, and the admin (system:masters) is never refused.
      expect((await call(api, 'GET', CONFIGMAPS, { as: 'alice' })).status).toBe(200);
      expect((await call(api, 'POST', CONFIGMAPS, { as: 'admin', body: configMap('by-admin') })).status).toBe(201);
      // The gauge publishes the most requests in flight during the last second.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await api.request('GET', '/metrics')).body).toMatch(/apiserver_current_inflight_requests\{request_kind="mutating"\} 1\b/);
    } finally {
      release();
    }
    expect((await slow).status).toBe(201);
    expect((await call(api, 'POST', CONFIGMAPS, { as: 'alice', body: configMap('after') })).status).toBe(201);
    for (const name of ['refused-1', 'refused-2', 'refused-3']) expect((await api.request('GET', `${CONFIGMAPS}/${name}`)).status).toBe(404);
  });

  it('does not count watches against --max-requests-inflight', async () => {
    const watches = Array.from({ length: 5 }, () => openWatch(api, `${CONFIGMAPS}?watch=true`, 'alice'));
    try {
      await Promise.all(watches.map((w) => w.started));
      const lists = await Promise.all([1, 2].map(() => call(api, 'GET', CONFIGMAPS, { as: 'alice' })));
      expect(lists.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      for (const w of watches) w.req.destroy();
    }
  });
});

/** A watch on its own connection: `started` once the 200 arrived, `ended` with how the stream finished. */
function openWatch(inst: ApiServerInstance, path: string, as: 'alice' | 'admin') {
  let events = '';
  let startedResolve!: () => void;
  let startedReject!: (err: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    startedResolve = resolve;
    startedReject = reject;
  });
  started.catch(() => undefined);
  const req = https.request({
    host: '127.0.0.1',
    port: inst.port,
    path,
    agent: false,
    rejectUnauthorized: false,
    ...(as === 'admin' ? { cert: inst.adminCert, key: inst.adminKey } : { headers: { authorization: `Bearer ${TOKEN}` } }),
  });
  const ended = new Promise<'complete' | 'aborted'>((resolve, reject) => {
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        const err = new Error(`watch answered ${res.statusCode}`);
        startedReject(err);
        return reject(err);
      }
      startedResolve();
      res.on('data', (d) => (events += d));
      res.on('end', () => resolve(res.complete ? 'complete' : 'aborted'));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('aborted'));
    });
    req.on('error', reject);
  });
  ended.catch(() => undefined);
  req.end();
  return { req, started, ended, events: () => events };
}

describe('graceful shutdown', () => {
  it('on SIGTERM fails /readyz for --shutdown-delay-duration, ends open watches cleanly, finishes requests in flight and exits 0', async () => {
    const extraArgs = ['--shutdown-delay-duration=1s', `--token-auth-file=${join(dir, 'tokens.csv')}`];
    const victim = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs });
    try {
      const watch = openWatch(victim, `${CONFIGMAPS}?watch=true&allowWatchBookmarks=true`, 'admin');
      await watch.started;
      expect((await victim.request('POST', CONFIGMAPS, configMap('seen-by-watch'))).status).toBe(201);
      await until('the watch event', async () => watch.events().includes('seen-by-watch'), 5000);
      let release!: () => void;
      const hold = new Promise<void>((r) => (release = r));
      const inFlight = call(victim, 'POST', CONFIGMAPS, { as: 'alice', body: configMap('in-flight'), slowBody: { pieces: 2, pieceMs: 10, hold } });
      await new Promise((r) => setTimeout(r, 200));

      const t0 = Date.now();
      process.kill(victim.pid, 'SIGTERM');
      // During the delay: still serving, but not ready.
      await new Promise((r) => setTimeout(r, 200));
      const ready = await victim.request('GET', '/readyz?verbose');
      expect(ready.status).toBe(500);
      expect(ready.body).toContain('[-]shutdown failed: reason withheld');
      expect((await victim.request('GET', '/api/v1/namespaces/default')).status).toBe(200);

      // After the delay the watch stream ends with its final chunk, not a reset.
      expect(await watch.ended).toBe('complete');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      // The request in flight is still served.
      release();
      expect((await inFlight).status).toBe(201);
      await until('the apiserver process to exit', async () => victim.exitCode !== null, 5000);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(victim.exitCode).toBe(0);
      expect(victim.logs()).toContain('Shutdown complete');
    } finally {
      await victim.stop();
    }
  });
});
