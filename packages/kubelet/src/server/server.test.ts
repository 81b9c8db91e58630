import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate, type CertKeyPair } from '@kubelab/component-base';
import { FakeRuntimeService } from '../cri/fake-runtime.js';
import type { ExecRequest } from '../cri/runtime-service.js';
import { requestAttributes, WebhookKubeletAuthorizer, type KubeletAuthorizer, type KubeletRequestAttributes } from './auth.js';
import { containerIDForLogs, createKubeletServer, portForwardPorts, portForwardTarget, servingCertificate, type KubeletServer } from './server.js';

const NODE = 'node-a';
let dir: string;
let server: KubeletServer;
let admin: CertKeyPair;
let viewer: CertKeyPair;
let stranger: CertKeyPair;
const runtime = new FakeRuntimeService();
const asked: KubeletRequestAttributes[] = [];
/** Allows the admin (O=system:masters) everything, the viewer only nodes/proxy get. */
const authorizer: KubeletAuthorizer = {
  authorize: async (a) => {
    asked.push(a);
    const allowed = a.user.groups.includes('system:masters') || (a.user.name === 'viewer' && a.verb === 'get');
    return { allowed, reason: '' };
  },
};
let containerID: string;
let backend: NetServer;
let backendGot = '';
const execRequests: ExecRequest[] = [];
const portForwardRequests: [string, number[]][] = [];
let sandboxID: string;

const pod = (): Pod => ({
  metadata: { namespace: 'default', name: 'web', uid: 'uid-1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }, { name: 'side', image: 'busybox' }] },
  status: {
    containerStatuses: [
      { name: 'app', image: 'busybox', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${containerID}`, state: { running: { startedAt: '2026-12-03T10:00:00Z' } } },
      { name: 'side', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  },
});

function get(path: string, cert?: CertKeyPair, headers: Record<string, string> = {}): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port(), path, method: 'GET', rejectUnauthorized: false, headers, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
  const ca = await createCA({ commonName: 'test-ca' });
  admin = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client' });
  viewer = await issueCertificate(ca, { commonName: 'viewer', usage: 'client' });
  stranger = await issueCertificate(await createCA({ commonName: 'other-ca' }), { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  const logDir = join(dir, 'pods', 'default_web_uid-1', 'app');
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(logDir, '0.log'), '2026-12-03T10:00:00.5Z stdout F hello\n2026-12-03T10:00:01.5Z stderr F world\n');
  const sandbox = await runtime.runPodSandbox({ metadata: { name: 'web', namespace: 'default', uid: 'uid-1' }, labels: { 'io.kubernetes.pod.uid': 'uid-1' } });
  sandboxID = sandbox;
  containerID = await runtime.createContainer(
    sandbox,
    {
      metadata: { name: 'app' }, image: { image: 'busybox' }, logPath: join(logDir, '0.log'),
      labels: { 'io.kubernetes.pod.uid': 'uid-1', 'io.kubernetes.container.name': 'app' },
    },
    { metadata: { name: 'web', namespace: 'default', uid: 'uid-1' } },
  );
  await runtime.startContainer(containerID);
  runtime.exitContainer(containerID, 0);
  // A streaming server standing in for containerd's: it answers the upgrade and echoes what follows.
  backend = createNetServer((s) => {
    s.once('data', (d) => {
      backendGot = d.toString();
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      s.pipe(s);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const backendPort = (backend.address() as { port: number }).port;
  runtime.exec = async (req) => {
    execRequests.push(req);
    return `http://127.0.0.1:${backendPort}/exec/token-for-${req.containerId}`;
  };
  runtime.portForward = async (id, ports) => {
    portForwardRequests.push([id, ports]);
    return `http://127.0.0.1:${backendPort}/portforward/token-for-${id}`;
  };
  const cert = await servingCertificate({ rootDir: dir, nodeName: NODE, nodeIP: '127.0.0.1' });
  server = await createKubeletServer({
    nodeName: NODE, address: '127.0.0.1', port: 0, ...cert, clientCA: ca.certPem, anonymous: false, authorizer, pods: () => [pod()], runtime,
  });
});

afterAll(async () => {
  await server?.close();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the kubelet API', () => {
  it('makes a self-signed serving certificate once, in <root-dir>/pki', async () => {
    const again = await servingCertificate({ rootDir: dir, nodeName: NODE, nodeIP: '127.0.0.1' });
    const first = await servingCertificate({ rootDir: dir, nodeName: NODE, nodeIP: '127.0.0.1' });
    expect(again.certPem).toBe(first.certPem);
    expect(again.certPem).toContain('BEGIN CERTIFICATE');
  });

  it('refuses callers without a certificate from the client CA (anonymous off): 401', async () => {
    expect(await get('/healthz')).toEqual({ code: 401, body: 'Unauthorized\n' });
    expect((await get('/healthz', stranger)).code).toBe(401);
  });

  it('authorizes as upstream: node subresource proxy, log, stats, metrics by path', async () => {
    const u = { name: 'u', groups: [] };
    expect(requestAttributes(u, NODE, 'GET', '/containerLogs/a/b/c')).toMatchObject({ verb: 'get', name: NODE, subresource: 'proxy' });
    expect(requestAttributes(u, NODE, 'POST', '/exec/a/b/c')).toMatchObject({ verb: 'create', subresource: 'proxy' });
    expect(requestAttributes(u, NODE, 'GET', '/stats/summary').subresource).toBe('stats');
    expect(requestAttributes(u, NODE, 'GET', '/metrics/resource').subresource).toBe('metrics');
    expect(requestAttributes(u, NODE, 'GET', '/logs/syslog').subresource).toBe('log');
    expect(requestAttributes(u, NODE, 'GET', '/statsx').subresource).toBe('proxy');
    expect(await get('/healthz', admin)).toEqual({ code: 200, body: 'ok\n' });
    expect(asked.at(-1)).toMatchObject({ user: { name: 'kube-apiserver-kubelet-client' }, verb: 'get', subresource: 'proxy', path: '/healthz' });
  });

  it('answers 403 with the attributes when the authorizer says no', async () => {
    const denied = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port(), path: '/pods', method: 'DELETE', rejectUnauthorized: false, cert: viewer.certPem, key: viewer.keyPem },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(denied).toEqual({ code: 403, body: 'Forbidden (user=viewer, verb=delete, resource=nodes, subresource=proxy)\n' });
  });

  it('lists the pods bound to the node at /pods', async () => {
    const res = await get('/pods', viewer);
    expect(res.code).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'web' } }] });
  });

  it('serves a container log with its options', async () => {
    expect(await get('/containerLogs/default/web/app', admin)).toEqual({ code: 200, body: 'hello\nworld\n' });
    expect((await get('/containerLogs/default/web/app?tailLines=1', admin)).body).toBe('world\n');
    expect((await get('/containerLogs/default/web/app?timestamps=true&limitBytes=30', admin)).body).toBe('2026-12-03T10:00:00.5Z hello\n2');
    expect((await get('/containerLogs/default/web/app?follow=true', admin)).body).toBe('hello\nworld\n');
  });

  it("refuses what upstream refuses, with upstream's messages", async () => {
    expect(await get('/containerLogs/default/nope/app', admin)).toEqual({ code: 404, body: 'pod "nope" does not exist\n' });
    expect(await get('/containerLogs/default/web/nope', admin)).toEqual({ code: 404, body: 'container "nope" not found in pod "web"\n' });
    expect(await get('/containerLogs/default/web/side', admin)).toEqual({ code: 400, body: 'container "side" in pod "web" is waiting to start: ContainerCreating\n' });
    expect(await get('/containerLogs/default/web/app?previous=true', admin)).toEqual({
      code: 400, body: 'previous terminated container "app" in pod "web" not found\n',
    });
    expect((await get('/containerLogs/default/web/app?tailLines=-1', admin)).code).toBe(422);
  });

  it('picks the previous instance from lastState, and the terminated one when the next did not start', () => {
    const p = pod();
    p.status!.containerStatuses![0] = {
      ...p.status!.containerStatuses![0]!, containerID: undefined, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, containerID: 'containerd://old' } },
    };
    expect(containerIDForLogs(p, 'app', true)).toBe('old');
    expect(containerIDForLogs(p, 'app', false)).toBe('old');
  });

  it('proxies an exec upgrade to the runtime streaming URL, without the caller credentials', async () => {
    runtime.containers.get(containerID)!.state = 'CONTAINER_RUNNING';
    const sock = connect({ host: '127.0.0.1', port: server.port(), rejectUnauthorized: false, cert: admin.certPem, key: admin.keyPem });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.write(
      'POST /exec/default/web/app?command=cat&input=1&output=1 HTTP/1.1\r\nHost: node-a\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nAuthorization: Bearer secret\r\n\r\n',
    );
    let got = '';
    sock.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n') && !got.includes('ping')) sock.write('ping');
    });
    const deadline = Date.now() + 5000;
    while (!got.includes('ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    expect(got.endsWith('ping')).toBe(true);
    expect(backendGot).toMatch(new RegExp(`^POST /exec/token-for-${containerID} HTTP/1.1\r\n`));
    expect(backendGot).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    expect(backendGot).not.toContain('secret');
    expect(execRequests).toEqual([{ containerId: containerID, cmd: ['cat'], tty: false, stdin: true, stdout: true, stderr: false }]);
  });

  it('proxies a port-forward upgrade to the runtime streaming URL of the pod sandbox', async () => {
    const sock = connect({ host: '127.0.0.1', port: server.port(), rejectUnauthorized: false, cert: admin.certPem, key: admin.keyPem });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.write(
      'POST /portForward/default/web HTTP/1.1\r\nHost: node-a\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        'X-Stream-Protocol-Version: portforward.k8s.io\r\nAuthorization: Bearer secret\r\n\r\n',
    );
    let got = '';
    sock.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n') && !got.includes('ping')) sock.write('ping');
    });
    const deadline = Date.now() + 5000;
    while (!got.includes('ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    expect(got.endsWith('ping')).toBe(true);
    expect(backendGot).toMatch(new RegExp(`^POST /portforward/token-for-${sandboxID} HTTP/1.1\r\n`));
    expect(backendGot).toContain('X-Stream-Protocol-Version: portforward.k8s.io');
    expect(backendGot).not.toContain('secret');
    // SPDY clients name the ports in their streams, not in the request.
    expect(portForwardRequests).toEqual([[sandboxID, []]]);
    expect(await get('/portForward/default/web', admin)).toEqual({ code: 400, body: 'Upgrade request required\n' });
  });

  it('reads the port-forward path and a WebSocket request\'s ports as upstream', () => {
    expect(portForwardTarget('/portForward/default/web')).toEqual({ namespace: 'default', pod: 'web' });
    expect(portForwardTarget('/portForward/default/web/uid-1')).toEqual({ namespace: 'default', pod: 'web', uid: 'uid-1' });
    expect(portForwardTarget('/portForward/default')).toBeUndefined();
    expect(portForwardTarget('/portForward/default/web/uid/extra')).toBeUndefined();
    const ws = { headers: { upgrade: 'websocket' } } as never;
    expect(portForwardPorts(ws, new URLSearchParams('port=80&port=8080,9090'))).toEqual([80, 8080, 9090]);
    expect(() => portForwardPorts(ws, new URLSearchParams(''))).toThrow('query parameter "port" is required');
    expect(() => portForwardPorts(ws, new URLSearchParams('port=0'))).toThrow('unable to parse "0" as a port');
    expect(portForwardPorts({ headers: { upgrade: 'SPDY/3.1' } } as never, new URLSearchParams('port=x'))).toEqual([]);
  });

  it('asks the apiserver with a SubjectAccessReview for the node, and caches the answer', async () => {
    const posted: unknown[] = [];
    const webhook = new WebhookKubeletAuthorizer(async (_path, body) => {
      posted.push(body);
      return { status: { allowed: true } };
    });
    const attrs = requestAttributes({ name: 'kube-apiserver-kubelet-client', groups: ['system:authenticated'] }, NODE, 'GET', '/containerLogs/a/b/c');
    expect(await webhook.authorize(attrs)).toEqual({ allowed: true, reason: '' });
    await webhook.authorize(attrs);
    expect(posted).toEqual([
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'kube-apiserver-kubelet-client',
          groups: ['system:authenticated'],
          resourceAttributes: { namespace: '', verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: NODE },
        },
      },
    ]);
  });
});
