// End to end (upstream: kubeadm join with token discovery, reduced): a one-node lab prints its join command
// (`hack/lab token`); "another machine" (a node in its own network namespace, with its own state dir) runs
// `hack/join` with it. A wrong CA pin fails with kubeadm's message and starts nothing; the right one joins: the node
// is Ready, a pod pinned to it runs and answers a pod on the lab's node by IP; `hack/join reset` stops the kubelet,
// kube-proxy and containerd and removes the network namespace. Needs root (CI runs as root); skipped otherwise.
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/apiserver.js';
import { alive, isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
let joinState: string;
// Index 62 (172.30.0.72): clear of this lab's node (58 + 1) and of bench/kubelet's index 60.
const JOIN_INDEX = 62;
const joined = `jn${process.pid % 1000}-vm`;
let command: { server: string; token: string; pin: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function hackJoin(args: string[], timeout = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      join(ROOT, 'hack/join'),
      args,
      {
        cwd: ROOT,
        timeout,
        env: { ...process.env, KUBELAB_JOIN_STATE: joinState, KUBELAB_CLUSTER_CIDR: lab.env.KUBELAB_CLUSTER_CIDR, KUBELAB_CLUSTER_DNS: '' },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A GET with no credentials and no trust in the server's certificate (what a joiner can do before discovery). */
function anonymousGet(server: string, path: string): Promise<{ status: number; body: string }> {
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, rejectUnauthorized: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const joinArgs = (pin: string) => [command.server, '--token', command.token, '--discovery-token-ca-cert-hash', pin, '--node-name', joined, '--node-index', String(JOIN_INDEX)];

describe.skipIf(!isRoot)('a node on another machine joins with hack/join', () => {
  beforeAll(async () => {
    lab = await startLab({ prefix: `jl${process.pid % 1000}-`, indexBase: 58, clusterCIDR: '10.244.40.0/21', nodes: 1, clusterDNS: false });
    joinState = mkdtempSync(join(tmpdir(), 'kubelab-join-'));
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    await hackJoin(['reset'], 120_000);
    rmSync(joinState, { recursive: true, force: true });
    await lab.down();
  }, 240_000);

  it('hack/lab token prints the join command, with the CA public-key pin', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(join(ROOT, 'hack/lab'), ['token'], { cwd: ROOT, env: lab.env, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    const m = /^hack\/join (172\.30\.0\.1:\d+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(out);
    expect(m, out).not.toBeNull();
    command = { server: m![1]!, token: m![2]!, pin: m![3]! };
    // The pin is the CA's: sha256 of its DER SubjectPublicKeyInfo, as kubeadm computes it.
    const spki = new X509Certificate(readFileSync(join(lab.state, 'pki/ca.crt'))).publicKey.export({ type: 'spki', format: 'der' });
    expect(command.pin).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
    // cluster-info is readable by anyone (kubeadm's bootstrap-signer-clusterinfo binding) and carries the token's JWS.
    const anon = await anonymousGet(command.server, '/api/v1/namespaces/kube-public/configmaps/cluster-info');
    expect(anon.status).toBe(200);
    const cm = JSON.parse(anon.body) as { data: Record<string, string> };
    expect(cm.data.kubeconfig).toContain(`server: https://${command.server}`);
    expect(Object.keys(cm.data)).toContain(`jws-kubeconfig-${command.token.split('.')[0]}`);
    // ... and nothing else of kube-public.
    expect((await anonymousGet(command.server, '/api/v1/namespaces/kube-public/configmaps')).status).toBe(403);
  });

  it('refuses a wrong CA pin with a clear message and starts nothing', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const r = await hackJoin(joinArgs(wrong), 120_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/);
    expect(existsSync(`/run/netns/${joined}`)).toBe(false);
    expect(existsSync(`/run/kubelab/${joined}`)).toBe(false);
    expect(existsSync(join(joinState, 'run/kubelet.pid'))).toBe(false);
    // A token the cluster did not sign cluster-info for fails discovery as well (kubeadm's JWS check).
    const unsigned = await hackJoin([command.server, '--token', 'abcdef.0123456789abcdef', '--discovery-token-ca-cert-hash', command.pin, '--node-name', joined, '--node-index', String(JOIN_INDEX)], 120_000);
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toContain('there is no JWS signed token in the cluster-info ConfigMap');
    expect(existsSync(`/run/netns/${joined}`)).toBe(false);
    expect((await lab.k(['get', 'node', joined])).stderr).toMatch(/NotFound/);
  });

  it('joins with the right pin: the node is Ready and its pods answer pods on the other node by IP', async () => {
    const r = await hackJoin(joinArgs(command.pin));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('This node has joined the cluster');
    const nodes = (await lab.k(['get', 'nodes'])).stdout;
    expect(nodes).toMatch(new RegExp(`^${joined}\\s+Ready\\s`, 'm'));
    expect(nodes).toMatch(new RegExp(`^${lab.nodes[0]}\\s+Ready\\s`, 'm'));
    // Its kubelet's credentials came from TLS bootstrap: an approved CSR for system:node:<name>.
    const csrs = JSON.parse((await lab.k(['get', 'csr', '-o', 'json'])).stdout) as { items: { spec: { username: string }; status: { certificate?: string } }[] };
    expect(csrs.items.some((c) => c.spec.username.startsWith('system:bootstrap:') && c.status.certificate)).toBe(true);
    expect((await lab.k(['get', 'node', joined, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).stdout).toBe(`172.30.0.${10 + JOIN_INDEX}`);

    const pod = (name: string, node: string, container: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: ${name} } }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 0
  containers: [${container}]
`;
    expect((await lab.k(['apply', '-f', '-'], pod('web', joined, '{ name: web, image: nginx, ports: [{ containerPort: 80 }] }'))).code).toBe(0);
    expect((await lab.k(['apply', '-f', '-'], pod('client', lab.nodes[0]!, "{ name: sh, image: busybox, command: [sleep, '3600'] }"))).code).toBe(0);
    const podIP = await until(
      'web Running on the joined node',
      async () => {
        const p = JSON.parse((await lab.k(['get', 'pod', 'web', '-o', 'json'])).stdout);
        return p.status.phase === 'Running' && p.status.podIP;
      },
      120_000,
    );
    expect(podIP.startsWith('10.244.4')).toBe(true);
    await until('client Running', async () => (await lab.k(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 120_000);
    const page = await until(
      'the joined node pod answering by IP',
      async () => {
        const e = await lab.k(['exec', 'client', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${podIP} 80`]);
        return e.code === 0 && e.stdout.includes('HTTP/1.1 200') && e.stdout;
      },
      60_000,
    );
    expect(page).toMatch(/nginx/i);
    // kube-proxy on the joined node, with the node's credentials, programs Services: a ClusterIP answers from the node.
    const svc = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 8080, targetPort: 80 }] }
`;
    expect((await lab.k(['apply', '-f', '-'], svc)).code).toBe(0);
    const clusterIP = (await lab.k(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    await until(
      'the Service answering on the joined node',
      () =>
        new Promise<boolean>((resolve) =>
          execFile('nsenter', [`--net=/run/netns/${joined}`, 'curl', '-fsS', '-m', '3', `http://${clusterIP}:8080/`], (err, stdout) => resolve(!err && /nginx/i.test(stdout))),
        ),
      60_000,
    );
    await lab.k(['delete', 'service', 'web']);
    await lab.k(['delete', 'pod', 'web', 'client', '--grace-period=0', '--force']);
  }, 420_000);

  it('hack/join reset stops its processes and removes the node network namespace', async () => {
    const pids = ['kubelet', 'kube-proxy'].map((c) => Number(readFileSync(join(joinState, 'run', `${c}.pid`), 'utf8')));
    pids.push(Number(readFileSync(`/run/kubelab/${joined}/containerd.pid`, 'utf8')));
    expect(pids.every(alive)).toBe(true);
    const r = await hackJoin(['reset'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(`/run/netns/${joined}`)).toBe(false);
    expect(existsSync(`/run/kubelab/${joined}`)).toBe(false);
    expect(existsSync(join(joinState, 'kubelet.conf'))).toBe(false);
    // The lab's own node is untouched; the joined one goes NotReady until deleted (kubeadm reset keeps the Node).
    expect((await lab.k(['get', 'node', lab.nodes[0]!])).stdout).toMatch(/\sReady\s/);
    expect((await hackJoin(['reset'], 60_000)).stdout).toContain('nothing to reset');
    expect((await lab.k(['delete', 'node', joined])).code).toBe(0);
  }, 180_000);
});
