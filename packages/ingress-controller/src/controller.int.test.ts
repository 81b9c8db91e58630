// The ingress controller in-process against a real apiserver + etcd, Ingresses made with the real
// kubectl. Backends are HTTP servers this test runs on 127.0.0.1: EndpointSlices may not name loopback
// addresses, so the slices name documentation addresses (192.0.2.x) that the controller's dialTarget
// maps to those servers. Everything else (informers, class selection, routing, TLS by SNI, status,
// 404/503, metrics) is the real path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { findResource } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { createCA, issueCertificate, silentLogger } from '@kubelab/component-base';
import { startEtcd, type EtcdInstance } from '../../../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../../../test/fixtures/apiserver.js';
import { kubectl } from '../../../test/fixtures/kubectl.js';
import { freePort } from '../../../test/fixtures/ports.js';
import { until } from '../../../test/fixtures/wait.js';
import { defaults, validate } from './config.js';
import { createIngressController, type IngressController } from './controller.js';

const NS = 'ing-int';
let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let controller: IngressController;
const backends = new Map<string, http.Server>();
const dialMap = new Map<string, number>();
const upgradedSockets = new Set<Duplex>();

const k = async (...args: string[]) => {
  const r = await kubectl(api.kubeconfig, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** A backend answering `<name> <path> xff=<X-Forwarded-For> proto=<X-Forwarded-Proto>`. */
async function startBackend(name: string): Promise<number> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${name} ${req.url} host=${req.headers.host} xff=${req.headers['x-forwarded-for']} proto=${req.headers['x-forwarded-proto']}`);
  });
  // WebSocket-style upgrades: 101, then an echo of whatever the client sends, prefixed with the backend's name.
  server.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
    socket.on('data', (d) => socket.write(`${name}:${d}`));
    upgradedSockets.add(socket);
    socket.on('close', () => upgradedSockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  backends.set(name, server);
  return (server.address() as AddressInfo).port;
}

/** A Service and its EndpointSlice: each of `ips` (192.0.2.x addresses) serves targetPort 8080. */
async function serviceWithEndpoint(name: string, ips: string | string[], ready: boolean) {
  await client.resource(findResource('', 'v1', 'services')!, NS).create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: name } },
  });
  await client.resource(findResource('discovery.k8s.io', 'v1', 'endpointslices')!, NS).create({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [ips].flat().map((ip) => ({ addresses: [ip], conditions: { ready } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
}

function get(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: controller.ports().http, path, headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function getTLS(servername: string, path: string): Promise<{ status: number; body: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: controller.ports().https, path, servername, headers: { Host: servername }, rejectUnauthorized: false, agent: false },
      (res) => {
        const subject = (res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '';
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, subject: String(subject) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  await k('create', 'namespace', NS);
  dialMap.set('192.0.2.1', await startBackend('alpha'));
  dialMap.set('192.0.2.2', await startBackend('beta'));
  dialMap.set('192.0.2.3', await startBackend('gamma'));
  await serviceWithEndpoint('alpha', '192.0.2.1', true);
  await serviceWithEndpoint('beta', '192.0.2.2', true);
  await serviceWithEndpoint('gamma', '192.0.2.3', false); // never ready: 503
  dialMap.set('192.0.2.4', await freePort()); // nothing listens there: connections are refused
  await serviceWithEndpoint('delta', ['192.0.2.4', '192.0.2.1'], true);
  const classYaml = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kubelab
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: kubelab.io/ingress-controller
`;
  const r = await kubectl(api.kubeconfig, ['apply', '-f', '-'], { input: classYaml });
  expect(r.code, r.stderr).toBe(0);

  const config = validate({ ...defaults(), kubeconfig: api.kubeconfig, bindAddress: '127.0.0.1', httpPort: 0, httpsPort: 0, healthzPort: 0, publishStatusAddress: ['172.30.0.99'] });
  controller = createIngressController(config, {
    logger: silentLogger(),
    dialTarget: (u) => (dialMap.has(u.ip) ? { ip: '127.0.0.1', port: dialMap.get(u.ip)! } : u),
  });
  await controller.start();
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  for (const s of upgradedSockets) s.destroy();
  for (const s of backends.values()) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('ingress controller', () => {
  it('kubectl create ingress: routes by host and path, 404 when nothing matches', async () => {
    await k('-n', NS, 'create', 'ingress', 'web', '--class=kubelab', '--rule=a.example/*=alpha:80', '--rule=b.example/b=beta:80', '--rule=/gone=gamma:80');
    const a = await until('a.example routed', async () => {
      const r = await get('a.example', '/anything?x=1');
      return r.status === 200 ? r : undefined;
    });
    expect(a.body).toMatch(/^alpha \/anything\?x=1 host=a\.example xff=127\.0\.0\.1 proto=http$/);
    expect((await get('b.example', '/b')).body).toMatch(/^beta \/b /);
    // Exact /b (kubectl's rule without '*'): not /b/c, and other hosts get 404.
    expect((await get('b.example', '/b/c')).status).toBe(404);
    const missing = await get('c.example', '/');
    expect(missing).toEqual({ status: 404, body: 'default backend - 404\n' });
    // A Service without ready endpoints: 503.
    expect((await get('any.example', '/gone')).status).toBe(503);
  });

  it('prefix paths for any host, longest match, then the default backend', async () => {
    const manifest = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'paths', namespace: NS },
      spec: {
        defaultBackend: { service: { name: 'beta', port: { name: 'http' } } },
        rules: [
          {
            http: {
              paths: [
                { path: '/a', pathType: 'Prefix', backend: { service: { name: 'alpha', port: { number: 80 } } } },
                { path: '/a/b', pathType: 'Prefix', backend: { service: { name: 'beta', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    };
    const r = await kubectl(api.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    expect(r.code, r.stderr).toBe(0);
    await until('paths routed', async () => (await get('x.example', '/a/x')).body.startsWith('alpha'));
    expect((await get('x.example', '/a')).body).toMatch(/^alpha \/a /);
    expect((await get('x.example', '/a/b/c')).body).toMatch(/^beta \/a\/b\/c /);
    expect((await get('x.example', '/ab')).body).toMatch(/^beta \/ab /); // not a prefix element-wise: the default backend
  });

  it('ignores Ingresses of another class', async () => {
    const r = await kubectl(api.kubeconfig, ['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'other' }, spec: { controller: 'example.com/other' } }),
    });
    expect(r.code, r.stderr).toBe(0);
    await k('-n', NS, 'create', 'ingress', 'foreign', '--class=other', '--rule=foreign.example/*=alpha:80');
    await new Promise((res) => setTimeout(res, 500));
    expect((await get('foreign.example', '/')).body).toMatch(/^beta/); // the default backend, not alpha
  });

  it('serves TLS from the Ingress Secret by SNI, the fake certificate otherwise', async () => {
    const ca = await createCA({ commonName: 'test-ca' });
    const cert = await issueCertificate(ca, { commonName: 'a.example', dnsNames: ['a.example'], usage: 'server' });
    const dir = mkdtempSync(join(tmpdir(), 'ingress-int-'));
    writeFileSync(join(dir, 'tls.crt'), cert.certPem);
    writeFileSync(join(dir, 'tls.key'), cert.keyPem);
    await k('-n', NS, 'create', 'secret', 'tls', 'a-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`);
    await k('-n', NS, 'create', 'ingress', 'secure', '--rule=a.example/secure=alpha:80,tls=a-tls');
    const res = await until('TLS for a.example', async () => {
      const r = await getTLS('a.example', '/secure');
      return r.status === 200 && r.subject === 'a.example' ? r : undefined;
    });
    expect(res.body).toMatch(/^alpha \/secure host=a\.example xff=127\.0\.0\.1 proto=https$/);
    const other = await getTLS('nosuch.example', '/');
    expect(other.subject).toBe('Kubernetes Ingress Controller Fake Certificate');
  });

  it('publishes its address in status; kubectl get ingress shows upstream columns', async () => {
    const out = await until('ADDRESS in kubectl get ingress', async () => {
      const o = await k('-n', NS, 'get', 'ingress');
      const web = o.split('\n').find((l) => l.startsWith('web '));
      const secure = o.split('\n').find((l) => l.startsWith('secure '));
      return web?.includes('172.30.0.99') && secure?.includes('172.30.0.99') ? o : undefined;
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/);
    expect(lines.find((l) => l.startsWith('web '))).toMatch(/^web\s+kubelab\s+a\.example,b\.example\s+172\.30\.0\.99\s+80\s+\d+s$/);
    // Created without a class: the DefaultIngressClass admission gave it the default one.
    expect(lines.find((l) => l.startsWith('secure '))).toMatch(/^secure\s+kubelab\s+a\.example\s+172\.30\.0\.99\s+80, 443\s+\d+s$/);
    // Another class' Ingress is left alone.
    expect(lines.find((l) => l.startsWith('foreign '))).toMatch(/^foreign\s+other\s+foreign\.example\s+80\s+/);
    expect(await k('get', 'ingressclass')).toMatch(/kubelab\s+kubelab\.io\/ingress-controller\s+<none>\s+\d+s/);
    const described = await k('-n', NS, 'describe', 'ingress', 'web');
    expect(described).toMatch(/^Ingress Class:\s+kubelab$/m);
    expect(described).toMatch(/^Address:\s+172\.30\.0\.99$/m);
    expect(described).toMatch(/^\s+a\.example\s*$/m);
    expect(described).toMatch(/^\s+\/\s+alpha:80 \(/m);
    expect(described).toMatch(/Normal\s+Sync\s+\S+\s+kubelab-ingress-controller\s+Scheduled for sync/);
  });

  it('tries the next endpoint when one refuses the connection', async () => {
    await k('-n', NS, 'create', 'ingress', 'retry', '--rule=retry.example/*=delta:80');
    // Until then the default backend (beta, from the 'paths' Ingress) answers.
    await until('retry.example routed', async () => (await get('retry.example', '/')).body.startsWith('alpha'));
    for (let i = 0; i < 4; i++) expect((await get('retry.example', `/r${i}`)).body).toMatch(new RegExp(`^alpha /r${i} `));
  });

  it('proxies upgraded connections (WebSocket) to the routed backend', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: controller.ports().http,
        path: '/ws',
        headers: { Host: 'a.example', Connection: 'Upgrade', Upgrade: 'websocket' },
        agent: false,
      });
      req.on('upgrade', (res, socket) => {
        expect(res.statusCode).toBe(101);
        socket.once('data', (d) => {
          socket.destroy();
          resolve(String(d));
        });
        socket.write('ping');
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('alpha:ping');
  });

  it('refuses invalid Ingresses with upstream messages', async () => {
    const bad = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'bad', namespace: NS },
      spec: { rules: [{ host: '10.0.0.1', http: { paths: [{ path: '/x', backend: { service: { name: 'alpha', port: { number: 80 } } } }] } }] },
    };
    const r = await kubectl(api.kubeconfig, ['create', '-f', '-'], { input: JSON.stringify(bad) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The Ingress "bad" is invalid');
    expect(r.stderr).toContain('spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address');
    expect(r.stderr).toContain('spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified');
  });

  it('serves /healthz and /metrics', async () => {
    const base = `http://127.0.0.1:${controller.ports().healthz}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/ingress_controller_requests\{namespace="ing-int",ingress="web",service="alpha",status="200",method="GET",scheme="http"\} \d+/);
    expect(metrics).toMatch(/ingress_controller_requests\{namespace="ing-int",ingress="web",service="gamma",status="503"/);
  });
});
