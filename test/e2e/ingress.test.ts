// End to end: Ingress through Kubelab's built-in ingress controller. `hack/lab up` deploys it as a kube-system
// DaemonSet answering on every node's ports 80 and 443 (hostPort), with the default IngressClass `kubelab`.
// Two Deployments behind two Services; an Ingress routes /a and /b on any host and a host rule; the test process
// sends HTTP to each node's address on the lab bridge (Host header set) and gets the right backend; the Ingress
// shows the nodes' addresses; a TLS Secret made by `kubectl create secret tls` answers on 443 for its host (SNI).
// Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createCA, issueCertificate, type CertKeyPair } from '@kubelab/component-base';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
let ca: CertKeyPair;
let dir: string;
const timings: Record<string, number> = {};

/** The echoserver answers every path with the request it saw and its pod's hostname. */
const backend = (name: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
      - name: echo
        image: registry.k8s.io/echoserver:1.4
        ports: [{ containerPort: 8080, name: http }]
        readinessProbe: { httpGet: { path: /ready, port: http }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

const INGRESS = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  rules:
  - http:
      paths:
      - { path: /a, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }
      - { path: /b, pathType: Prefix, backend: { service: { name: beta, port: { name: http } } } }
  - host: beta.example
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: beta, port: { number: 80 } } } }
`;

interface Reply {
  status: number;
  body: string;
  subject?: string;
}

function get(ip: string, host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path, headers: { Host: host }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** HTTPS with SNI, verified against the test's CA. */
function getTLS(ip: string, servername: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: ip, port: 443, path, servername, headers: { Host: servername }, ca: ca.certPem, agent: false, timeout: 5000 }, (res) => {
      const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, subject }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const hostnameOf = (body: string) => /^hostname=(\S+)$/m.exec(body)?.[1] ?? '';
const pathOf = (body: string) => /^real path=(\S*)$/m.exec(body)?.[1] ?? '';

describe.skipIf(!isRoot)('Ingress through the built-in ingress controller on a two-node lab', () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `ing${process.pid % 1000}-`, indexBase: 40, clusterCIDR: '10.244.16.0/21', nodes: 2, clusterDNS: false, ingress: true });
    timings['hack/lab up --nodes 2 (with the ingress controller)'] = Date.now() - began;
    const applied = await lab.k(['apply', '-f', '-'], `${backend('alpha')}---${backend('beta')}---${INGRESS}`);
    expect(applied.stderr).toBe('');
    await until(
      'alpha and beta ready',
      async () => {
        const r = await lab.k(['get', 'deploy', 'alpha', 'beta', '-o', 'jsonpath={.items[*].status.readyReplicas}']);
        return r.stdout.trim() === '1 1';
      },
      120_000,
    );
    timings['backends ready'] = Date.now() - began;
    ca = await createCA({ commonName: 'ingress-e2e-ca' });
    dir = mkdtempSync(join(tmpdir(), 'kubelab-ingress-e2e-'));
  }, 600_000);

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (!lab) return;
    console.log(`ingress e2e timings (ms): ${JSON.stringify(timings)}\n${lab.upOutput}`);
    await lab.down();
  }, 180_000);

  it('runs the controller on every node and serves the default IngressClass kubelab', async () => {
    const ds = await lab.k(['get', 'pods', '-n', 'kube-system', '-l', 'app.kubernetes.io/name=kubelab-ingress-controller', '-o', 'wide']);
    const lines = ds.stdout.split('\n').filter((l) => l.startsWith('ingress-controller-'));
    expect(lines).toHaveLength(2);
    for (const node of lab.nodes) expect(lines.some((l) => /\s1\/1\s+Running\s/.test(l) && l.includes(node)), ds.stdout).toBe(true);
    const classes = await lab.k(['get', 'ingressclass']);
    expect(classes.stdout).toMatch(/^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE$/m);
    expect(classes.stdout).toMatch(/^kubelab\s+kubelab\.io\/ingress-controller\s+<none>\s+\S+$/m);
  });

  it('routes /a and /b on any host, and the beta.example host, from every node port 80', async () => {
    for (const node of lab.nodes) {
      const ip = lab.nodeIP(node);
      const a = await until(`/a via ${ip}`, async () => {
        const r = await get(ip, 'whatever.example', '/a/x?q=1').catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      }, 60_000);
      expect(hostnameOf(a.body)).toMatch(/^alpha-/);
      expect(pathOf(a.body)).toBe('/a/x');
      const b = await get(ip, 'whatever.example', '/b');
      expect(b.status).toBe(200);
      expect(hostnameOf(b.body)).toMatch(/^beta-/);
      const host = await get(ip, 'beta.example', '/anything');
      expect(hostnameOf(host.body)).toMatch(/^beta-/);
      expect(pathOf(host.body)).toBe('/anything');
      expect(await get(ip, 'whatever.example', '/c')).toEqual({ status: 404, body: 'default backend - 404\n' });
    }
  });

  it('shows both node addresses in kubectl get ingress', async () => {
    const [n1, n2] = lab.nodes.map((n) => lab.nodeIP(n));
    const out = await until('ADDRESS of web', async () => {
      const r = await lab.k(['get', 'ingress', 'web']);
      return r.stdout.includes(`${n1},${n2}`) ? r.stdout : undefined;
    }, 60_000);
    expect(out).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/m);
    // CLASS: created without one, the Ingress got the default IngressClass from the DefaultIngressClass admission.
    expect(out).toMatch(new RegExp(`^web\\s+kubelab\\s+beta\\.example\\s+${n1!.replaceAll('.', '\\.')},${n2!.replaceAll('.', '\\.')}\\s+80\\s+\\S+$`, 'm'));
  });

  it('answers HTTPS on 443 with the certificate of a kubectl create secret tls Secret, chosen by SNI', async () => {
    const cert = await issueCertificate(ca, { commonName: 'secure.example', dnsNames: ['secure.example'], usage: 'server' });
    writeFileSync(join(dir, 'tls.crt'), cert.certPem);
    writeFileSync(join(dir, 'tls.key'), cert.keyPem);
    const secret = await lab.k(['create', 'secret', 'tls', 'secure-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
    expect(secret.stderr).toBe('');
    const ing = await lab.k(['create', 'ingress', 'secure', '--class=kubelab', '--rule=secure.example/*=alpha:80,tls=secure-tls']);
    expect(ing.stdout).toBe('ingress.networking.k8s.io/secure created\n');
    for (const node of lab.nodes) {
      const ip = lab.nodeIP(node);
      const r = await until(`HTTPS via ${ip}`, async () => {
        const res = await getTLS(ip, 'secure.example', '/hello').catch(() => undefined);
        return res?.status === 200 ? res : undefined;
      }, 30_000);
      expect(r.subject).toBe('secure.example');
      expect(hostnameOf(r.body)).toMatch(/^alpha-/);
      expect(pathOf(r.body)).toBe('/hello');
    }
    const listed = await until('PORTS 80, 443', async () => {
      const r = await lab.k(['get', 'ingress', 'secure']);
      return /\d+\.\d+\.\d+\.\d+/.test(r.stdout) ? r.stdout : undefined;
    }, 60_000);
    expect(listed).toMatch(/^secure\s+kubelab\s+secure\.example\s+\S+\s+80, 443\s+\S+$/m);
  });

  it('answers 503 when the backend has no ready endpoints', async () => {
    expect((await lab.k(['scale', 'deployment', 'beta', '--replicas=0'])).stderr).toBe('');
    const ip = lab.nodeIP(lab.nodes[0]!);
    const r = await until('503 for /b', async () => {
      const res = await get(ip, 'whatever.example', '/b');
      return res.status === 503 ? res : undefined;
    }, 60_000);
    expect(r.body).toBe('503 Service Temporarily Unavailable\n');
    expect(hostnameOf((await get(ip, 'whatever.example', '/a')).body)).toMatch(/^alpha-/);
  });
});
