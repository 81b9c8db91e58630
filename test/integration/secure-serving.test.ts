// The secure ports of kube-scheduler and kube-controller-manager authenticate and authorize callers
// through the kube-apiserver (TokenReview / SubjectAccessReview), as upstream: health endpoints are
// open to anyone, /metrics needs a caller RBAC allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import { join } from 'node:path';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createScheduler, defaults as schedulerDefaults, validate as schedulerConfig, type Scheduler } from '@kubelab/scheduler';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { freePort } from '../fixtures/ports.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let scheduler: Scheduler;
let cm: ControllerManager;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC'] });
  scheduler = createScheduler(schedulerConfig({ ...schedulerDefaults(), kubeconfig: api.kubeconfig, leaderElect: false, securePort: await freePort(), bindAddress: '127.0.0.1' }));
  await scheduler.start();
  const config = validate({ ...defaults(), leaderElect: false, controllers: [], securePort: await freePort(), bindAddress: '127.0.0.1', clientCAFile: join(api.pkiDir, 'ca.crt') });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
});

afterAll(async () => {
  await scheduler?.stop();
  await cm?.stop();
  await api?.stop();
  await etcd?.stop();
});

function get(port: number, path: string, opts: { cert?: Buffer; key?: Buffer; token?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        rejectUnauthorized: false,
        cert: opts.cert,
        key: opts.key,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.each([
  ['kube-scheduler', () => scheduler.port()!],
  ['kube-controller-manager', () => cm.securePort()!],
])('%s secure port', (_name, port) => {
  it('answers /healthz, /livez and /readyz to anonymous callers', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await get(port(), p);
      expect(r.status, p).toBe(200);
      expect(r.body).toBe('ok');
    }
  });

  it('refuses /metrics to an anonymous caller with upstream\'s 403', async () => {
    const r = await get(port(), '/metrics');
    expect(r.status).toBe(403);
    const status = JSON.parse(r.body);
    expect(status).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(status.message).toBe('forbidden: User "system:anonymous" cannot get path "/metrics"');
    expect(r.body).not.toContain('# HELP');
  });

  it('answers 401 to a bearer token the apiserver does not know', async () => {
    const r = await get(port(), '/metrics', { token: 'abcdef.0123456789abcdef' });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'Unauthorized', code: 401 });
  });

  it('serves /metrics to the admin client certificate', async () => {
    const r = await get(port(), '/metrics', { cert: api.adminCert, key: api.adminKey });
    expect(r.status).toBe(200);
    expect(r.body).toContain('# HELP');
  });

  it('is not reachable over plain http', async () => {
    const http = await import('node:http');
    const status = await new Promise<number | string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: port(), path: '/metrics', agent: false }, (res) => resolve(res.statusCode!));
      req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
    });
    expect(status).not.toBe(200);
  });
});
