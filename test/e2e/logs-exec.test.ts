// End to end (upstream: test/e2e/kubectl/kubectl.go's logs and exec cases, reduced): `hack/lab up` with one node,
// then the real kubectl reads container logs (all, --tail, -f until the container exits, --previous after a
// restart) and runs commands in a container (output, exit codes, stdin) through the apiserver's pods/log and
// pods/exec, which reach the node's kubelet on :10250 with the apiserver's client certificate; the kubelet reads
// the CRI log files and proxies exec to containerd's streaming server; kubectl's WebSocket (v5.channel.k8s.io) is
// translated to SPDY by the apiserver. `hack/lab down` at the end.
// Needs root (CI runs as root); skipped otherwise.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';
import { freePort } from '../fixtures/ports.js';
import { until } from '../fixtures/wait.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
// Names, addresses and pod CIDR of their own, clear of a developer's `hack/lab up`, of pods.test.ts (index 120..,
// 10.244.128.0/17) and of the CRI tests' nodes (index 200-239).
const PREFIX = `le${process.pid % 1000}-`;
const INDEX_BASE = 140;
const CLUSTER_CIDR = '10.244.64.0/18';
const NODE = `${PREFIX}1`;

let state: string;
let env: NodeJS.ProcessEnv | undefined;
const k = (args: string[], input?: string, timeoutMs = 60_000) => kubectl(join(state, 'kubeconfig'), args, { input, timeoutMs });

const POD = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 1, ...spec } });

async function phaseOf(name: string): Promise<string> {
  return (await k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
}

describe.skipIf(!isRoot)('kubectl logs and exec on a one-node lab', () => {
  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'kubelab-e2e-logs-'));
    const apiPort = await freePort();
    let etcdPort: number;
    do etcdPort = await freePort();
    while (etcdPort + 1 === apiPort);
    env = {
      ...process.env,
      KUBELAB_STATE: state,
      KUBELAB_APISERVER_PORT: String(apiPort),
      KUBELAB_ETCD_PORT: String(etcdPort),
      KUBELAB_SCHEDULER_PORT: String(await freePort()),
      KUBELAB_CONTROLLER_MANAGER_PORT: String(await freePort()),
      KUBELAB_NODE_PREFIX: PREFIX,
      KUBELAB_NODE_INDEX_BASE: String(INDEX_BASE),
      KUBELAB_CLUSTER_CIDR: CLUSTER_CIDR,
      // No cluster DNS: these pods resolve nothing.
      KUBELAB_CLUSTER_DNS: '',
    };
    try {
      await run(join(ROOT, 'hack/lab'), ['up', '--nodes', '1'], { cwd: ROOT, env, timeout: 400_000 });
    } catch (err) {
      const log = (f: string) => {
        try {
          return `--- ${f}\n${readFileSync(join(state, 'logs', f), 'utf8').slice(-3000)}`;
        } catch {
          return '';
        }
      };
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`hack/lab up failed: ${e.message}\n${e.stdout}\n${e.stderr}\n${log(`kubelet-${NODE}.log`)}\n${log('apiserver.log')}`);
    }
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
    ];
    const created = await k(['create', '-f', '-'], pods.join('\n'));
    expect(created.stderr).toBe('');
    await until('the pods running', async () => (await phaseOf('talker')) === 'Running' && (await phaseOf('two')) === 'Running', 120_000);
  }, 480_000);

  afterAll(async () => {
    if (!env) return;
    try {
      await run(join(ROOT, 'hack/lab'), ['down'], { cwd: ROOT, env, timeout: 120_000 });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 180_000);

  it("reports the kubelet's port in the Node status and serves pods/log in discovery", async () => {
    const port = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']);
    expect(port.stdout).toBe('10250');
    const discovery = JSON.parse((await k(['get', '--raw', '/api/v1'])).stdout) as { resources: { name: string; verbs: string[] }[] };
    expect(discovery.resources.find((r) => r.name === 'pods/log')?.verbs).toEqual(['get']);
    expect(discovery.resources.find((r) => r.name === 'pods/exec')?.verbs).toEqual(['create', 'get']);
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
});
