import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHTTP2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriError } from '../cri/remote.js';
import type { ExecSyncResponse } from '../cri/runtime-service.js';
import { doExecProbe } from './exec.js';
import { decodeHealthCheckResponse, doGRPCProbe, encodeHealthCheckRequest } from './grpc.js';
import { doHTTPProbe, httpGetRequest, PROBE_USER_AGENT } from './http.js';
import { resolveContainerPort } from './probe.js';
import { doTCPProbe } from './tcp.js';

let server: Server;
let port: number;
let lastHeaders: IncomingHttpHeaders = {};
const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

beforeAll(async () => {
  server = createServer((req, res) => {
    lastHeaders = req.headers;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') return void res.end('ok');
    if (url.pathname === '/fail') return void res.writeHead(500).end('secret body');
    if (url.pathname === '/slow') return void setTimeout(() => res.end('late'), 1500);
    if (url.pathname === '/redirect-local') return void res.writeHead(302, { location: '/healthz' }).end();
    if (url.pathname === '/redirect-remote') return void res.writeHead(302, { location: `http://localhost:${port}/healthz` }).end('moved');
    if (url.pathname === '/loop') return void res.writeHead(301, { location: '/loop' }).end();
    if (url.pathname === '/big') return void res.end('x'.repeat(100_000));
    res.writeHead(404).end();
  });
  port = await listen(server);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const container = { name: 'app', ports: [{ name: 'http', containerPort: 8080 }] };

describe('httpGet probes', () => {
  const probe = (path: string, extra: object = {}, timeoutMs = 1000) => {
    const { url, headers } = httpGetRequest({ path, port, ...extra }, container, '127.0.0.1');
    return doHTTPProbe(url, headers, timeoutMs);
  };

  it('2xx succeeds with the body; upstream User-Agent and Accept by default', async () => {
    expect(await probe('/healthz')).toEqual({ result: 'Success', output: 'ok' });
    expect(PROBE_USER_AGENT).toBe('kube-probe/1.32');
    expect(lastHeaders).toMatchObject({ 'user-agent': 'kube-probe/1.32', accept: '*/*', host: `127.0.0.1:${port}` });
    expect(lastHeaders.connection).toBe('close');
  });

  it('sends the probe headers (Host, User-Agent and Accept overridden; an empty Accept removed)', async () => {
    await probe('healthz', { httpHeaders: [{ name: 'host', value: 'example.test' }, { name: 'x-custom', value: 'a' }, { name: 'User-Agent', value: 'mine' }] });
    expect(lastHeaders).toMatchObject({ host: 'example.test', 'x-custom': 'a', 'user-agent': 'mine', accept: '*/*' });
    await probe('/healthz', { httpHeaders: [{ name: 'Accept', value: '' }] });
    expect(lastHeaders.accept).toBeUndefined();
  });

  it('a status >= 400 fails without the body; a refused connection and a timeout fail with Go-style messages', async () => {
    expect(await probe('/fail')).toEqual({ result: 'Failure', output: 'HTTP probe failed with statuscode: 500' });
    expect(await probe('/slow', {}, 200)).toEqual({
      result: 'Failure', output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    const closed = createServer();
    const free = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const { url, headers } = httpGetRequest({ path: '/', port: free }, container, '127.0.0.1');
    expect(await doHTTPProbe(url, headers, 1000)).toEqual({
      result: 'Failure', output: `Get "http://127.0.0.1:${free}/": dial tcp 127.0.0.1:${free}: connect: connection refused`,
    });
  });

  it('follows redirects on the same host, stops at another host (a warning), and gives up after 10', async () => {
    expect(await probe('/redirect-local')).toEqual({ result: 'Success', output: 'ok' });
    expect(await probe('/redirect-remote')).toEqual({ result: 'Warning', output: 'Probe terminated redirects, Response body: moved' });
    expect(await probe('/loop')).toEqual({ result: 'Failure', output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects` });
  });

  it('reads at most 10 KiB of the body', async () => {
    const r = await probe('/big');
    expect(r.result).toBe('Success');
    expect(r.output).toHaveLength(10 * 1024);
  });

  it('uses the host and scheme of the probe, the pod IP otherwise, and resolves named ports', () => {
    expect(httpGetRequest({ port: 'http', path: '/x?y=1' }, container, '10.244.1.5').url.href).toBe('http://10.244.1.5:8080/x?y=1');
    expect(httpGetRequest({ port: 8443, scheme: 'HTTPS', host: 'fd00::1' }, container, '10.244.1.5').url.href).toBe('https://[fd00::1]:8443/');
    expect(resolveContainerPort('8081', container)).toBe(8081);
    expect(() => resolveContainerPort('metrics', container)).toThrow('port metrics not found');
    expect(() => resolveContainerPort(70000, container)).toThrow('invalid port number: 70000');
  });
});

describe('tcpSocket probes', () => {
  it('succeeds when the port accepts, fails with the dial error otherwise', async () => {
    expect(await doTCPProbe('127.0.0.1', port, 1000)).toEqual({ result: 'Success', output: '' });
    const closed = createServer();
    const free = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await doTCPProbe('127.0.0.1', free, 1000)).toEqual({ result: 'Failure', output: `dial tcp 127.0.0.1:${free}: connect: connection refused` });
  });
});

describe('exec probes', () => {
  const runtime = (res: ExecSyncResponse | Error) => ({
    calls: [] as unknown[][],
    async execSync(id: string, cmd: string[], timeout: number) {
      this.calls.push([id, cmd, timeout]);
      if (res instanceof Error) throw res;
      return res;
    },
  });

  it('exit 0 succeeds; another code fails with stdout and stderr; the probe timeout goes to ExecSync', async () => {
    const ok = runtime({ stdout: Buffer.from('fine\n'), stderr: Buffer.alloc(0), exitCode: 0 });
    expect(await doExecProbe(ok, 'c1', ['cat', '/tmp/healthy'], 3)).toEqual({ result: 'Success', output: 'fine\n' });
    expect(ok.calls).toEqual([['c1', ['cat', '/tmp/healthy'], 3]]);
    const bad = runtime({ stdout: Buffer.from('out '), stderr: Buffer.from('cat: /tmp/healthy: No such file or directory\n'), exitCode: 1 });
    expect(await doExecProbe(bad, 'c1', ['cat', '/tmp/healthy'], 1)).toEqual({ result: 'Failure', output: 'out cat: /tmp/healthy: No such file or directory\n' });
  });

  it('a timeout fails with upstream message; other runtime errors are errors', async () => {
    const slow = runtime(new CriError('ExecSync', grpc.status.DEADLINE_EXCEEDED, 'timeout 1s exceeded'));
    expect(await doExecProbe(slow, 'c1', ['sleep', '5'], 1)).toEqual({ result: 'Failure', output: 'command "sleep 5" timed out' });
    await expect(doExecProbe(runtime(new CriError('ExecSync', grpc.status.NOT_FOUND, 'no such container')), 'c1', ['true'], 1)).rejects.toThrow('NOT_FOUND');
  });
});

describe('grpc probes', () => {
  it('encodes the health check messages', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckRequest('db')).toEqual(Buffer.from([0x0a, 2, 0x64, 0x62]));
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 1]))).toBe(1);
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
  });

  it('SERVING succeeds; other statuses, an unimplemented service and no server fail', async () => {
    const statuses: Record<string, number> = { web: 1, db: 2 };
    const s = new grpc.Server();
    s.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
          requestSerialize: encodeHealthCheckRequest, requestDeserialize: (b: Buffer) => (b.length ? b.subarray(2).toString() : ''),
          responseSerialize: (n: number) => Buffer.from(n ? [0x08, n] : []), responseDeserialize: decodeHealthCheckResponse,
        },
      },
      { Check: (call: grpc.ServerUnaryCall<string, number>, cb: grpc.sendUnaryData<number>) => cb(null, statuses[call.request] ?? 3) },
    );
    const gport = await new Promise<number>((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      expect(await doGRPCProbe('127.0.0.1', gport, 'web', 2000)).toEqual({ result: 'Success', output: 'service healthy' });
      expect(await doGRPCProbe('127.0.0.1', gport, 'db', 2000)).toEqual({ result: 'Failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
      expect(await doGRPCProbe('127.0.0.1', gport, 'cache', 2000)).toEqual({ result: 'Failure', output: 'service unhealthy (responded with "SERVICE_UNKNOWN")' });
    } finally {
      s.forceShutdown();
    }
    const r = await doGRPCProbe('127.0.0.1', port, '', 1000);
    expect(r.result).toBe('Failure');
    const none = await doGRPCProbe('127.0.0.1', 1, '', 300);
    expect(none).toEqual({ result: 'Failure', output: 'timeout: failed to connect service "127.0.0.1:1" within 300ms: context deadline exceeded' });
  });

  it('sends an empty HealthCheckRequest for the default service, with the kube-probe User-Agent', async () => {
    // A bare HTTP/2 endpoint: grpc-js's own server does not take a zero-length request message.
    const seen: { path?: string; ua?: string; body?: Buffer } = {};
    const h2 = createHTTP2Server();
    h2.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        Object.assign(seen, { path: headers[':path'], ua: headers['user-agent'], body: Buffer.concat(chunks) });
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 1]));
      });
    });
    const hport = await listen(h2 as unknown as Server);
    try {
      expect(await doGRPCProbe('127.0.0.1', hport, '', 2000)).toEqual({ result: 'Success', output: 'service healthy' });
    } finally {
      h2.close();
    }
    expect(seen.path).toBe('/grpc.health.v1.Health/Check');
    expect(seen.ua).toMatch(/^kube-probe\/1\.32 /);
    expect(seen.body).toEqual(Buffer.from([0, 0, 0, 0, 0]));
  });
});
