// End to end (upstream: test/e2e/kubectl/kubectl.go's logs and exec cases, reduced): `hack/lab up` with one node,
// then the real kubectl reads container logs (all, --tail, -f until the container exits, --previous after a
// restart) and runs commands in a container (output, exit codes, stdin) through the apiserver's pods/log and
// pods/exec, which reach the node's kubelet on :10250 with the apiserver's client certificate; the kubelet reads
// the CRI log files and proxies exec to containerd's streaming server; kubectl's WebSocket (v5.channel.k8s.io) is
// translated to SPDY by the apiserver. kubectl port-forward (pod/ and svc/) goes through pods/portforward to the
// kubelet's /portForward and containerd's, over kubectl's SPDY-in-WebSocket tunnel and over plain SPDY.
// `hack/lab down` at the end.
// Needs root (CI runs as root); skipped otherwise.
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../fixtures/kubectl.js';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { freePort } from '../fixtures/ports.js';
import { until } from '../fixtures/wait.js';

// Names, addresses and pod CIDR of their own, clear of a developer's `hack/lab up`, of the other e2e files and of the
// CRI tests' nodes (index 200-239).
const INDEX_BASE = 140;
const CLUSTER_CIDR = '10.244.64.0/18';
let lab: Lab;
let NODE: string;
let state: string;
const k = (args: string[], input?: string, timeoutMs = 60_000) => lab.k(args, input, timeoutMs);

const POD = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 1, ...spec } });

async function phaseOf(name: string): Promise<string> {
  return (await k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
}

/** GET http://127.0.0.1:port/ (bounded). */
function getLocal(port: number): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/**
 * Runs `kubectl port-forward TARGET PORT:80` until it listens, fetches the page through it twice (two
 * connections over one session), then kills it by PID.
 */
async function portForward(target: string, env: Record<string, string> = {}): Promise<{ pages: { code: number; body: string }[]; stdout: string; stderr: string }> {
  const port = await freePort();
  const child = spawn('kubectl', ['--kubeconfig', join(state, 'kubeconfig'), '-v=4', 'port-forward', target, `${port}:80`, '--address', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const deadline = Date.now() + 20_000;
    while (!stdout.includes(`Forwarding from 127.0.0.1:${port} -> 80`)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`kubectl port-forward did not listen:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const pages = [await getLocal(port), await getLocal(port)];
    return { pages, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }
}

describe.skipIf(!isRoot)('kubectl logs and exec on a one-node lab', () => {
  beforeAll(async () => {
    // No cluster DNS: these pods resolve nothing.
    lab = await startLab({ prefix: `le${process.pid % 1000}-`, indexBase: INDEX_BASE, clusterCIDR: CLUSTER_CIDR, nodes: 1, clusterDNS: false });
    NODE = lab.nodes[0]!;
    state = lab.state;
    // containerd copies stdout and stderr through pipes of their own: lines of the two written at once may be
    // logged in either order, hence the pause before the stderr line.
    const pods = [
      POD('talker', { containers: [{ name: 'talker', image: 'busybox', command: ['sh', '-c', 'echo first; echo second; sleep 1; echo third >&2; exec sleep 3600'] }] }),
      POD('counter', {
        restartPolicy: 'Never',
        containers: [{ name: 'counter', image: 'busybox', command: ['sh', '-c', 'sleep 2; for i in 1 2 3 4 5; do echo tick $i; sleep 1; done'] }],
      }),
      POD('crasher', { containers: [{ name: 'crasher', image: 'busybox', command: ['sh', '-c', 'echo run at $(date +%s); sleep 1; exit 1'] }] }),
      POD('two', {
        containers: [
          { name: 'a', image: 'busybox', command: ['sleep', '3600'] },
          { name: 'b', image: 'busybox', command: ['sleep', '3600'] },
        ],
      }),
      JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
      }),
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } }),
    ];
    const created = await k(['create', '-f', '-'], pods.join('\n'));
    expect(created.stderr).toBe('');
    await until(
      'the pods running',
      async () => (await phaseOf('talker')) === 'Running' && (await phaseOf('two')) === 'Running' && (await phaseOf('web')) === 'Running',
      120_000,
    );
  }, 480_000);

  afterAll(async () => {
    await lab?.down();
  }, 180_000);

  it("reports the kubelet's port in the Node status and serves pods/log in discovery", async () => {
    const port = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']);
    expect(port.stdout).toBe('10250');
    const discovery = JSON.parse((await k(['get', '--raw', '/api/v1'])).stdout) as { resources: { name: string; verbs: string[] }[] };
    expect(discovery.resources.find((r) => r.name === 'pods/log')?.verbs).toEqual(['get']);
    expect(discovery.resources.find((r) => r.name === 'pods/exec')?.verbs).toEqual(['create', 'get']);
    expect(discovery.resources.find((r) => r.name === 'pods/portforward')?.verbs).toEqual(['create', 'get']);
  });

  it("authenticates and authorizes callers of the kubelet's API through the apiserver", async () => {
    const ip = (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).stdout;
    const kubelet = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: ip, port: 10250, path, rejectUnauthorized: false, headers, timeout: 10_000 }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await kubelet('/pods')).toEqual({ code: 401, body: 'Unauthorized\n' });
    // A service account's token is valid (TokenReview) but grants no nodes/proxy (SubjectAccessReview).
    const token = (await k(['create', 'token', 'default'])).stdout.trim();
    expect(await kubelet('/pods', { Authorization: `Bearer ${token}` })).toEqual({
      code: 403, body: 'Forbidden (user=system:serviceaccount:default:default, verb=get, resource=nodes, subresource=proxy)\n',
    });
    expect(await kubelet('/pods', { Authorization: 'Bearer not-a-token' })).toEqual({ code: 401, body: 'Unauthorized\n' });
  });

  it('prints the logs of a container, both streams, and the last lines with --tail', async () => {
    const all = await until('the log written', async () => {
      const r = await k(['logs', 'talker']);
      return r.stdout.split('\n').length >= 4 && r;
    });
    expect(all.stdout).toBe('first\nsecond\nthird\n');
    expect((await k(['logs', 'talker', '--tail=1'])).stdout).toBe('third\n');
    const ts = (await k(['logs', 'talker', '--timestamps', '--limit-bytes=100'])).stdout;
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z first\n/);
  });

  it('follows a log with -f until the container exits', async () => {
    await until('counter running', async () => (await phaseOf('counter')) === 'Running', 60_000);
    const began = Date.now();
    const r = await k(['logs', '-f', 'counter'], undefined, 30_000);
    expect(r.stdout).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    expect(r.code).toBe(0);
    // It waited for the lines to come (about a second apart) rather than printing what was there.
    expect(Date.now() - began).toBeGreaterThan(2000);
  });

  it('reads the previous instance of a restarted container with --previous', async () => {
    await until('crasher restarted', async () => {
      const r = await k(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}']);
      return r.stdout === '1';
    }, 90_000);
    const previous = await k(['logs', 'crasher', '--previous']);
    expect(previous.stdout).toMatch(/^run at \d+\n$/);
    // A container that never restarted has no previous instance.
    const none = await k(['logs', 'talker', '--previous']);
    expect(none.stderr).toContain('Error from server (BadRequest): previous terminated container "talker" in pod "talker" not found');
  });

  it("refuses as upstream: no pod, no container name for a pod with several, a container that is not there", async () => {
    expect((await k(['logs', 'nope'])).stderr).toContain('pods "nope" not found');
    const missing = await k(['get', '--raw', '/api/v1/namespaces/default/pods/nope/log']);
    expect(missing.stderr).toContain('Error from server (NotFound): pods "nope" not found');
    const raw = await k(['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
    expect(raw.stderr).toContain('a container name must be specified for pod two, choose one of: [a b]');
    expect((await k(['logs', 'two', '-c', 'c'])).stderr).toContain('container c is not valid for pod two');
    const wrong = await k(['get', '--raw', '/api/v1/namespaces/default/pods/two/log?container=c']);
    expect(wrong.stderr).toContain('Error from server (BadRequest): container c is not valid for pod two');
  });

  it('runs a command in a container with kubectl exec', async () => {
    const r = await k(['exec', 'talker', '--', 'cat', '/etc/hostname']);
    expect(r.stdout).toBe('talker\n');
    expect(r.code).toBe(0);
    const named = await k(['exec', 'two', '-c', 'b', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(named.stdout).toBe('out\n');
    expect(named.stderr).toContain('err\n');
  });

  it("speaks kubectl's WebSocket v5 (translated to SPDY for the kubelet), and SPDY/3.1 for clients that ask for it", async () => {
    const ws = await k(['-v=7', 'exec', 'talker', '--', 'echo', 'over websocket']);
    expect(ws.stdout).toBe('over websocket\n');
    expect(ws.stderr).toContain('The subprotocol is v5.channel.k8s.io');
    expect(ws.stderr).not.toContain('RemoteCommand fallback');
    const spdy = await kubectl(join(state, 'kubeconfig'), ['exec', '-i', 'talker', '--', 'sh', '-c', 'cat; exit 4'], {
      input: 'over spdy\n', timeoutMs: 30_000, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    });
    expect(spdy.stdout).toBe('over spdy\n');
    expect(spdy.code).toBe(4);
  });

  it('returns the exit code of the command', async () => {
    const r = await k(['exec', 'talker', '--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('command terminated with exit code 3');
  });

  it('passes stdin with -i, and its end', async () => {
    const head = await k(['exec', '-i', 'talker', '--', 'head', '-n', '1'], 'hello\nworld\n');
    expect(head.stdout).toBe('hello\n');
    const cat = await k(['exec', '-i', 'talker', '--', 'wc', '-l'], 'a\nb\nc\n', 30_000);
    expect(cat.stdout.trim()).toBe('3');
    expect(cat.code).toBe(0);
  });

  it('copies files into a container and back with kubectl cp (tar over exec)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-cp-'));
    try {
      const text = `copied at ${Date.now()}\n`.repeat(200);
      writeFileSync(join(dir, 'in.txt'), text);
      const up = await k(['cp', join(dir, 'in.txt'), 'talker:/tmp/in.txt']);
      expect(up.code).toBe(0);
      expect((await k(['exec', 'talker', '--', 'wc', '-c', '/tmp/in.txt'])).stdout.trim()).toBe(`${text.length} /tmp/in.txt`);
      await k(['exec', 'talker', '--', 'sh', '-c', 'mkdir -p /tmp/out && echo from the pod > /tmp/out/made.txt']);
      const down = await k(['cp', 'talker:/tmp/out', join(dir, 'out')]);
      expect(down.code).toBe(0);
      expect(readFileSync(join(dir, 'out', 'made.txt'), 'utf8')).toBe('from the pod\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attaches to the output of a running container until it exits', async () => {
    const ticker = POD('ticker', {
      restartPolicy: 'Never',
      containers: [{ name: 'ticker', image: 'busybox', command: ['sh', '-c', 'sleep 3; for i in 1 2 3 4 5; do echo tick $i; sleep 1; done'] }],
    });
    expect((await k(['create', '-f', '-'], ticker)).stderr).toBe('');
    await until('ticker running', async () => (await phaseOf('ticker')) === 'Running', 60_000);
    const r = await k(['attach', 'ticker'], undefined, 30_000);
    expect(r.stdout).toMatch(/tick 5\n$/);
    expect(r.code).toBe(0);
  });

  it("forwards a local port to a pod with kubectl port-forward, over kubectl's SPDY-in-WebSocket tunnel", async () => {
    const r = await portForward('pod/web');
    for (const page of r.pages) {
      expect(page.code).toBe(200);
      expect(page.body).toContain('Welcome to nginx!');
    }
    // The tunnel was taken: kubectl (-v=4) logs its WebSocket upgrade and no fallback to a SPDY upgrade.
    expect(r.stderr).toContain('Before WebSocket Upgrade Connection');
    expect(r.stderr).not.toMatch(/fallback/i);
  });

  it('forwards to the pod behind a Service (svc/NAME), over the tunnel and over plain SPDY', async () => {
    const tunnel = await portForward('svc/web');
    expect(tunnel.pages.map((p) => p.code)).toEqual([200, 200]);
    expect(tunnel.pages[0]!.body).toContain('Welcome to nginx!');
    expect(tunnel.stderr).not.toMatch(/fallback/i);
    const spdy = await portForward('pod/web', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    expect(spdy.stderr).not.toContain('WebSocket');
    expect(spdy.pages.map((p) => p.code)).toEqual([200, 200]);
    expect(spdy.pages[1]!.body).toContain('Welcome to nginx!');
    const spdySvc = await portForward('svc/web', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    expect(spdySvc.pages[0]!.body).toContain('Welcome to nginx!');
  });

  it('refuses a port-forward to a pod that does not exist', async () => {
    const r = await k(['port-forward', 'pod/nope', '18080:80'], undefined, 20_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pods "nope" not found');
  });
});
