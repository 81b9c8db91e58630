// End to end (upstream: test/e2e/network/service.go and dns.go, reduced): `hack/lab up` with two nodes runs
// kube-proxy in each node and the cluster DNS as kube-system pods; the real kubectl then checks what the seed
// notes do with Services from inside pods: names resolve, a ClusterIP spreads over every replica, pods reach
// each other across nodes, a NodePort answers on every node, and a Service with no endpoints refuses at once.
// Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
const timings: Record<string, number> = {};

interface PodInfo {
  name: string;
  ip: string;
  node: string;
}

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: other }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: kuard
        image: gcr.io/kuar-demo/kuard-amd64:blue
        ports: [{ containerPort: 8080, name: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-headless }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web-np }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: other }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: nginx, image: nginx, ports: [{ containerPort: 80 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: other }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: ext }
spec:
  type: ExternalName
  externalName: web.other.svc.cluster.local
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers: [{ name: nginx, image: nginx, ports: [{ containerPort: 80 }] }]
`;

/** A busybox pod pinned to a node, created after the Services (so it gets their environment variables). */
const client = (name: string, node: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  nodeSelector: { kubernetes.io/hostname: ${node} }
  terminationGracePeriodSeconds: 0
  containers: [{ name: sh, image: busybox, command: [sleep, '3600'] }]
`;

/** `kubectl exec POD -- sh -c SCRIPT`: stdout, or the failure with stderr. */
async function sh(pod: string, script: string): Promise<string> {
  const r = await lab.k(['exec', pod, '--', 'sh', '-c', script]);
  if (r.code !== 0) throw new Error(`kubectl exec ${pod} -- sh -c '${script}' exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function pods(selector: string, namespace = 'default'): Promise<PodInfo[]> {
  const r = await lab.k(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
  type P = { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } };
  return (JSON.parse(r.stdout) as { items: P[] }).items
    .filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '' }));
}

const clusterIP = async (svc: string, namespace = 'default') =>
  (await lab.k(['get', 'svc', svc, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;

/**
 * `kubectl exec POD -- nslookup NAME`, as upstream's DNS debugging page runs it. The image's nslookup applies
 * resolv.conf's search list as busybox 1.28's did (hack/images/README.md), so `nslookup kubernetes.default` resolves.
 */
async function nslookup(pod: string, name: string): Promise<string> {
  const r = await lab.k(['exec', pod, '--', 'nslookup', name]);
  if (r.code !== 0) throw new Error(`kubectl exec ${pod} -- nslookup ${name} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** busybox nslookup's answer addresses (after the first "Name:" line; the server's own address comes first). */
function addresses(output: string): string[] {
  const at = output.indexOf('Name:');
  if (at < 0) return [];
  return [...new Set([...output.slice(at).matchAll(/^Address(?: \d+)?:\s+([0-9.]+)$/gm)].map((m) => m[1]!))].sort();
}

const HTTP_GET = `printf 'GET / HTTP/1.0\\r\\n\\r\\n'`;

describe.skipIf(!isRoot)('services and cluster DNS on a two-node lab', () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `svc${process.pid % 1000}-`, indexBase: 100, clusterCIDR: '10.244.96.0/19', nodes: 2 });
    timings['hack/lab up --nodes 2 (with kube-proxy and DNS)'] = Date.now() - began;
    const applied = await lab.k(['apply', '-f', '-'], MANIFESTS);
    expect(applied.stderr).toBe('');
    await until('3 ready web pods', async () => (await pods('app=web')).length === 3, 120_000);
    await until('the other web pod and 2 db pods ready', async () => (await pods('app=web', 'other')).length === 1 && (await pods('app=db')).length === 2, 120_000);
    const [a, b] = lab.nodes;
    expect((await lab.k(['apply', '-f', '-'], client('client-a', a!) + '---' + client('client-b', b!))).stderr).toBe('');
    await until('both clients ready', async () => (await pods('!app')).length === 2, 120_000);
    timings['workloads ready'] = Date.now() - began;
  }, 600_000);

  afterAll(async () => {
    if (!lab) return;
    console.log(`services e2e timings (ms): ${JSON.stringify(timings)}\n${lab.upOutput}`);
    const { first } = await lab.down();
    expect(first).toContain(`stopped kube-proxy on ${lab.nodes[0]}`);
  }, 180_000);

  it('shows the cluster DNS pods Running and Ready in kube-system, behind the kube-dns Service at 10.96.0.10', async () => {
    const r = await lab.k(['get', 'po', '-n', 'kube-system']);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('coredns-'));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^coredns-\S+\s+1\/1\s+Running\s+0\s/);
    const svc = await lab.k(['get', 'svc', 'kube-dns', '-n', 'kube-system']);
    expect(svc.stdout).toMatch(/^kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP\s/m);
  });

  it('resolves kubernetes.default, web and web.other from a pod through the search path', async () => {
    const resolv = await sh('client-a', 'cat /etc/resolv.conf');
    expect(resolv).toContain('nameserver 10.96.0.10');
    expect(resolv).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(addresses(await nslookup('client-a', 'kubernetes.default'))).toEqual(['10.96.0.1']);
    expect(addresses(await nslookup('client-a', 'web'))).toEqual([await clusterIP('web')]);
    expect(addresses(await nslookup('client-b', 'web.other'))).toEqual([await clusterIP('web', 'other')]);
    expect(addresses(await nslookup('client-b', 'web.default.svc.cluster.local'))).toEqual([await clusterIP('web')]);
  });

  it('spreads connections to web:80 over all 3 replicas, from pods on both nodes', async () => {
    const names = (await pods('app=web')).map((p) => p.name).sort();
    for (const c of ['client-a', 'client-b']) {
      const out = await sh(c, `for i in $(seq 1 30); do ${HTTP_GET} | nc -w 3 web 80 | grep -o 'Hostname: <b>[^<]*'; done`);
      const seen = [...new Set(out.split('\n').filter(Boolean).map((l) => l.replace('Hostname: <b>', '')))].sort();
      expect(seen).toEqual(names);
    }
  });

  it('reaches a pod on the other node by its IP', async () => {
    for (const [from, node] of [['client-a', lab.nodes[0]], ['client-b', lab.nodes[1]]] as const) {
      const remote = (await pods('app=web')).find((p) => p.node !== node) ?? (await pods('app=db')).find((p) => p.node !== node);
      expect(remote, `a ready pod off ${node}`).toBeDefined();
      expect(await sh(from, `${HTTP_GET} | nc -w 3 ${remote!.ip} 8080 | head -n 1`)).toMatch(/^HTTP\/1\.[01] 200/);
    }
  });

  it('answers a headless Service with every ready pod, and a StatefulSet pod by its stable name', async () => {
    const webIPs = (await pods('app=web')).map((p) => p.ip).sort();
    expect(addresses(await nslookup('client-a', 'web-headless'))).toEqual(webIPs);
    const db0 = (await pods('app=db')).find((p) => p.name === 'db-0')!;
    expect(addresses(await nslookup('client-b', 'db-0.db.default.svc.cluster.local'))).toEqual([db0.ip]);
  });

  it('answers an ExternalName Service with a CNAME to its external name', async () => {
    const out = await nslookup('client-a', 'ext');
    expect(out).toContain('canonical name = web.other.svc.cluster.local');
    expect(addresses(out)).toEqual([await clusterIP('web', 'other')]);
  });

  it('sets the environment variables of Services that existed when the pod started', async () => {
    const env = await sh('client-a', 'env');
    expect(env).toContain(`WEB_SERVICE_HOST=${await clusterIP('web')}\n`);
    expect(env).toContain('WEB_SERVICE_PORT=80\n');
    expect(env).toContain('WEB_SERVICE_PORT_HTTP=80\n');
    expect(env).toContain('KUBERNETES_SERVICE_HOST=10.96.0.1\n');
  });

  it('answers a NodePort on every node, from the host and from a pod', async () => {
    for (const node of lab.nodes) {
      const ip = lab.nodeIP(node);
      const res = await until(`NodePort 30080 on ${ip}`, async () => {
        const r = await fetch(`http://${ip}:30080/`, { signal: AbortSignal.timeout(3000) });
        return r.ok && (await r.text());
      }, 20_000);
      expect(res).toContain('Hostname:');
      expect(await sh('client-a', `${HTTP_GET} | nc -w 3 ${ip} 30080 | head -n 1`)).toMatch(/^HTTP\/1\.[01] 200/);
    }
  });

  it('refuses connections at once when the Service has no endpoints (scaled to 0)', async () => {
    expect((await lab.k(['scale', 'deployment', 'web', '--replicas=0'])).stderr).toBe('');
    await until('no web endpoints', async () => (await lab.k(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets}'])).stdout === '', 60_000);
    const out = await until('kube-proxy to reject', async () => {
      const r = await lab.k(['exec', 'client-a', '--', 'sh', '-c', `${HTTP_GET} | nc -w 5 web 80; echo "exit=$?"`]);
      return /refused/i.test(r.stdout + r.stderr) && r.stdout + r.stderr;
    }, 30_000);
    expect(out).toMatch(/exit=1/);
  });
});
