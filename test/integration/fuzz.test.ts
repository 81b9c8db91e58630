// The apiserver under seeded random requests, a bounded slice of `npm run fuzz:apiserver` (upstream has no
// single counterpart: the spirit of apimachinery's fuzzer and the apiserver filter tests): the process stays up,
// answers no 5xx, and every error is a Status whose code is the HTTP status.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { alive, runFuzz, type FuzzReport } from '../fixtures/fuzz.js';

const SEED = 20261202;
const REQUESTS = 1500;

let etcd: EtcdInstance;
let api: ApiServerInstance;
let report: FuzzReport;

/** One line per failure class: its count and the first request that showed it. */
function describeFailures(kinds: string[]): string[] {
  return Object.entries(report.failures)
    .filter(([key]) => kinds.some((k) => key.startsWith(`${k} `)))
    .map(([key, { count, examples }]) => {
      const e = examples[0]!;
      return `${count}x ${key} | #${e.request.i} ${e.request.method} ${e.request.path.slice(0, 120)} ct=${e.request.headers['content-type'] ?? '-'} -> ${e.response.status} ${(e.response.error ?? e.response.body).slice(0, 160)}`;
    });
}

describe('apiserver fuzz', () => {
  beforeAll(async () => {
    etcd = await startEtcd();
    api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC'] });
    report = await runFuzz({
      target: { port: api.port, ca: readFileSync(join(api.pkiDir, 'ca.crt')), adminCert: api.adminCert, adminKey: api.adminKey, pid: api.pid },
      seed: SEED,
      requests: REQUESTS,
      concurrency: 4,
      deadline: Date.now() + 240_000,
      requestTimeoutMs: 20_000,
    });
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    await etcd?.stop();
  });

  it('sends every request within its time bound', () => {
    expect(report.timedOut).toBe(false);
    expect(report.requests).toBe(REQUESTS);
  });

  it('keeps the apiserver process running and healthy', async () => {
    expect(report.crashes).toBe(0);
    expect(alive(api.pid)).toBe(true);
    const healthz = await api.request('GET', '/healthz');
    expect(healthz.status).toBe(200);
    expect(healthz.body).toBe('ok');
  });

  it('answers no request with a 5xx', () => {
    expect(describeFailures(['5xx'])).toEqual([]);
  });

  it('answers every error with a Status whose code is the HTTP status', () => {
    expect(describeFailures(['non-status-error', 'status-mismatch'])).toEqual([]);
  });

  it('answers every success with a well-formed body (JSON, watch events)', () => {
    expect(describeFailures(['bad-success-body'])).toEqual([]);
  });

  it('answers every request (no hangs, no dropped connections)', () => {
    expect(describeFailures(['no-response', 'transport'])).toEqual([]);
  });
});
