import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notFound, toStatusError, type KubeObject } from '@kubelab/api';
import { createCA, issueCertificate } from '@kubelab/component-base';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { containerFor, KubeletClient, kubeletURL, nodeConnectionInfo, type Connecter } from './kubelet-client.js';
import { kubeletStreamQuery, podExecREST } from './pod-exec.js';
import { podLogREST } from './pod-log.js';

const node = (port: number): Node => ({
  metadata: { name: 'node-a' },
  status: {
    addresses: [{ type: 'Hostname', address: 'node-a' }, { type: 'InternalIP', address: '127.0.0.1' }],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
  },
});
const PODS: Record<string, Pod> = {
  web: { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'node-a', containers: [{ name: 'app' }] } },
  two: { metadata: { name: 'two', namespace: 'default' }, spec: { nodeName: 'node-a', initContainers: [{ name: 'init' }], containers: [{ name: 'a' }, { name: 'b' }] } },
  pending: { metadata: { name: 'pending', namespace: 'default' }, spec: { containers: [{ name: 'app' }] } },
};

let kubelet: HttpsServer;
let api: HttpServer;
/** What the fake kubelet saw: path and the client certificate's CN. */
const seen: { path: string; cn: string }[] = [];

/** Serves a Connecter as the apiserver's handler does: errors before the connection is taken become Status. */
function serve(storage: Connecter): HttpServer {
  return createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, ns, name] = url.pathname.split('/');
    let hijacked = false;
    storage.connect(ns!, name!, url.searchParams, { req, res, hijack: () => (hijacked = true) }).catch((err) => {
      expect(hijacked).toBe(false);
      const st = toStatusError(err).status;
      res.writeHead(st.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(st));
    });
  });
}

function get(server: HttpServer, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const ca = await createCA({ commonName: 'ca' });
  const serving = await issueCertificate(ca, { commonName: 'node-a', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client' });
  kubelet = createHttpsServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const cert = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ path: req.url ?? '', cn: String(cert?.subject?.CN ?? '') });
    if (req.url?.includes('/side')) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('container "side" in pod "web" is waiting to start: ContainerCreating');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello\nworld\n');
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
  const port = (kubelet.address() as AddressInfo).port;
  const getPod = async (_ns: string, name: string) => {
    const p = PODS[name];
    if (!p) throw notFound({ group: '', resource: 'pods' }, name);
    return p as KubeObject;
  };
  const getNode = async () => node(port) as KubeObject;
  api = serve(podLogREST({ getPod, getNode, kubelet: new KubeletClient({ certPem: client.certPem, keyPem: client.keyPem, caPem: ca.certPem }) }));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  api?.close();
  kubelet?.close();
});

describe('pods/log', () => {
  it("streams the kubelet's /containerLogs for the pod's only container, as the apiserver's client", async () => {
    expect(await get(api, '/default/web/log?follow=true&tailLines=2&timestamps=true&pretty=true')).toEqual({ code: 200, body: 'hello\nworld\n' });
    expect(seen.at(-1)).toEqual({ path: '/containerLogs/default/web/app?follow=true&timestamps=true&tailLines=2', cn: 'kube-apiserver-kubelet-client' });
  });

  it("answers a kubelet's refusal as a Status", async () => {
    PODS.web!.spec!.containers.push({ name: 'side' });
    try {
      const r = await get(api, '/default/web/log?container=side');
      expect(r.code).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ reason: 'BadRequest', message: 'container "side" in pod "web" is waiting to start: ContainerCreating' });
    } finally {
      PODS.web!.spec!.containers.pop();
    }
  });

  it("refuses as upstream: no pod, no container name among several, a bad option; a pod on no node has an empty log", async () => {
    expect(JSON.parse((await get(api, '/default/nope/log')).body)).toMatchObject({ code: 404, message: 'pods "nope" not found' });
    expect(JSON.parse((await get(api, '/default/two/log')).body)).toMatchObject({
      code: 400, message: 'a container name must be specified for pod two, choose one of: [init a b]',
    });
    expect(JSON.parse((await get(api, '/default/two/log?container=c')).body)).toMatchObject({ code: 400, message: 'container c is not valid for pod two' });
    expect((await get(api, '/default/web/log?tailLines=-1')).code).toBe(422);
    expect(await get(api, '/default/pending/log')).toEqual({ code: 200, body: '' });
  });
});

describe('the kubelet client', () => {
  it("reaches the node's InternalIP on its daemon endpoint port, 10250 when none is reported", () => {
    expect(nodeConnectionInfo(node(10251))).toEqual({ host: '127.0.0.1', port: 10251 });
    expect(nodeConnectionInfo({ status: { addresses: [{ type: 'InternalIP', address: '172.30.0.11' }] } })).toEqual({ host: '172.30.0.11', port: 10250 });
    expect(() => nodeConnectionInfo({ status: {} })).toThrow('no preferred addresses found');
    expect(kubeletURL(node(10250), '/exec/default/web/app', new URLSearchParams('command=ls')).href).toBe('https://127.0.0.1:10250/exec/default/web/app?command=ls');
  });

  it('picks the only container, or the named one', () => {
    expect(containerFor(PODS.web!, null)).toBe('app');
    expect(containerFor(PODS.two!, 'init')).toBe('init');
  });
});

describe('pods/exec', () => {
  it("turns PodExecOptions into the kubelet's query", () => {
    const q = kubeletStreamQuery(new URLSearchParams('command=sh&command=-c&command=exit 3&stdin=true&stdout=true&stderr=false&tty=false&container=app'), 'exec');
    expect(q.toString()).toBe('input=1&output=1&command=sh&command=-c&command=exit+3');
    expect(kubeletStreamQuery(new URLSearchParams('stdout=1&tty=true&command=ls'), 'attach').toString()).toBe('output=1&tty=1');
  });

  it('refuses a session without streams or command, a pod on no node, and a request that is no upgrade', async () => {
    const getPod = async (_ns: string, name: string) => PODS[name] as KubeObject;
    const exec = serve(podExecREST({ getPod, getNode: async () => node(1) as KubeObject, kubelet: new KubeletClient() }));
    await new Promise<void>((r) => exec.listen(0, '127.0.0.1', () => r()));
    try {
      expect(JSON.parse((await get(exec, '/default/web/exec?command=ls')).body).message).toBe('you must specify at least 1 of stdin, stdout, stderr');
      expect(JSON.parse((await get(exec, '/default/web/exec?stdout=true')).body).message).toBe('you must specify at least one command for the container');
      expect(JSON.parse((await get(exec, '/default/pending/exec?stdout=true&command=ls')).body).message).toBe('pod pending does not have a host assigned');
      expect(JSON.parse((await get(exec, '/default/web/exec?stdout=true&command=ls')).body)).toMatchObject({ code: 400, message: 'Upgrade request required' });
    } finally {
      exec.close();
    }
  });
});
