// The compose lab end to end (upstream: kind's and kubeadm's HA smoke tests): `hack/compose up` builds what is missing and
// starts etcd x3, two apiservers, schedulers and controller-managers x2 and the registry; the host's kubectl works through
// .kubelab/compose/kubeconfig; the lab survives losing one etcd member and one apiserver; `down` leaves nothing behind.
// Run with `npm run test:compose` (needs root: it starts dockerd when none answers).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../fixtures/kubectl.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const kubeconfig = `${root}/.kubelab/compose/kubeconfig`;
// Host ports of their own, so a `hack/lab up` on 6443 on the same machine does not collide with the test.
const env = { ...process.env, KUBELAB_COMPOSE_APISERVER_PORT: '26443', KUBELAB_COMPOSE_REGISTRY_PORT: '25000' };
const k = (args: string[], input?: string) => kubectl(kubeconfig, args, { input });

interface RunResult {
  code: number;
  output: string;
  seconds: number;
}

/** Runs a command from the repository root with the test's environment, output collected (stdout and stderr). */
function run(cmd: string, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const compose = (args: string[]) => run('bash', ['-c', 'if command -v docker-compose >/dev/null; then exec docker-compose "$@"; else exec docker compose "$@"; fi', 'compose', '-p', 'kubelab', '-f', 'compose.yaml', ...args]);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function json(args: string[]) {
  const r = await k([...args, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const timings: string[] = [];
let downDone = false;

beforeAll(async () => {
  const up = await run('hack/compose', ['up'], 900_000);
  expect(up.code, up.output).toBe(0);
  timings.push(`first up ${up.seconds.toFixed(1)}s (${/apiserver ready: \S+/.exec(up.output)?.[0] ?? '?'})`);
});

afterAll(async () => {
  console.log(`compose lab timings: ${timings.join('; ')}`);
  // A failed test left the lab up: take it down all the same.
  if (!downDone) await run('hack/compose', ['down']);
});

describe('hack/compose', () => {
  it('serves /readyz to the host kubectl on 127.0.0.1', async () => {
    const cfg = await run('kubectl', ['--kubeconfig', kubeconfig, 'config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}']);
    expect(cfg.output).toBe('https://127.0.0.1:26443');
    const r = await k(['get', '--raw', '/readyz']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('reports the three etcd members healthy and both apiservers in the kubernetes Endpoints', async () => {
    const cs = await json(['get', 'componentstatuses']);
    const etcd = cs.items.filter((c: { metadata: { name: string } }) => c.metadata.name.startsWith('etcd-'));
    expect(etcd.map((c: { metadata: { name: string } }) => c.metadata.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    for (const c of etcd) expect(c.conditions[0]).toMatchObject({ type: 'Healthy', status: 'True' });
    const ep = await json(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    expect(ep.subsets[0].addresses.map((a: { ip: string }) => a.ip).sort()).toEqual(['172.28.0.11', '172.28.0.12']);
    expect(ep.subsets[0].ports[0].port).toBe(6443);
  });

  it('elects one scheduler and one controller-manager on their Leases', async () => {
    const scheduler = await json(['get', 'lease', 'kube-scheduler', '-n', 'kube-system']);
    expect(scheduler.spec.holderIdentity).toMatch(/^scheduler-[12]/);
    const cm = await json(['get', 'lease', 'kube-controller-manager', '-n', 'kube-system']);
    expect(cm.spec.holderIdentity).toMatch(/^controller-manager-[12]/);
  });

  it('is idempotent: a second up rebuilds no unchanged image and keeps the cluster', async () => {
    const uid = (await json(['get', 'namespace', 'kube-system'])).metadata.uid;
    const again = await run('hack/compose', ['up']);
    expect(again.code, again.output).toBe(0);
    // Only the control-plane image follows packages/*/src (rebuilt when a source changed in between); the rest stays.
    for (const image of ['kubelab/debian', 'kubelab/node-base', 'kubelab/etcd', 'kubelab/registry']) expect(again.output).not.toContain(`building ${image}`);
    expect(again.output).not.toContain('debootstrap');
    timings.push(`second up ${again.seconds.toFixed(1)}s`);
    expect((await json(['get', 'namespace', 'kube-system'])).metadata.uid).toBe(uid);
  });

  const webPods = async (n: number) => {
    const list = await json(['get', 'pods', '-l', 'app=web']);
    return list.items.length === n ? list.items : undefined;
  };

  it('runs a Deployment to Pending pods (no nodes yet)', async () => {
    const created = await k(['create', 'deployment', 'web', '--image=registry:5000/nginx:1.25', '--replicas=2']);
    expect(created.code, created.stderr).toBe(0);
    for (const p of await until('2 web pods', () => webPods(2))) expect(p.status.phase).toBe('Pending');
  });

  it('keeps working with one apiserver stopped: the controllers reach the other through the kube-apiserver alias', async () => {
    const stop = await compose(['stop', 'apiserver-2']);
    expect(stop.code, stop.output).toBe(0);
    const r = await k(['get', '--raw', '/readyz']);
    expect(r.code, r.stderr).toBe(0);
    const scaled = await k(['scale', 'deployment', 'web', '--replicas=3']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await until('3 web pods without apiserver-2', () => webPods(3), 90_000);
  });

  it('keeps working with one etcd member stopped (a quorum of 2 of 3 remains)', async () => {
    const stop = await compose(['stop', 'etcd-3']);
    expect(stop.code, stop.output).toBe(0);
    // Every request, not just some: the apiserver's etcd client has to move off the stopped member.
    for (let i = 0; i < 10; i++) {
      const ready = await k(['get', '--raw', '/readyz']);
      expect(ready.code, ready.stderr).toBe(0);
      const got = await k(['get', 'deployment', 'web', '-o', 'name']);
      expect(got.code, got.stderr).toBe(0);
    }
    const scaled = await k(['scale', 'deployment', 'web', '--replicas=4']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await until('4 web pods without etcd-3', () => webPods(4), 90_000);
    const cs = await json(['get', 'componentstatuses']);
    const health = Object.fromEntries(cs.items.map((c: { metadata: { name: string }; conditions: { status: string }[] }) => [c.metadata.name, c.conditions[0].status]));
    expect(health).toMatchObject({ 'etcd-0': 'True', 'etcd-1': 'True', 'etcd-2': 'False' });
  });
});

describe('hack/compose down', () => {
  it('removes the containers, volumes and network, and a second down is a no-op', async () => {
    const down = await run('hack/compose', ['down']);
    expect(down.code, down.output).toBe(0);
    downDone = true;
    timings.push(`down ${down.seconds.toFixed(1)}s`);
    expect(existsSync(kubeconfig)).toBe(false);
    // Checked without the engine (down stops the dockerd up started): no volume directory, no bridge on the lab's subnet.
    for (const v of ['pki', 'etcd-1', 'etcd-2', 'etcd-3', 'registry']) expect(existsSync(`/var/lib/docker/volumes/kubelab_${v}`), v).toBe(false);
    const addrs = await run('ip', ['-o', '-4', 'addr', 'show']);
    expect(addrs.output).not.toContain('172.28.0.1/24');
    const ps = await run('docker', ['ps', '-a', '--filter', 'label=com.docker.compose.project=kubelab', '--format', '{{.Names}}']);
    if (ps.code === 0) expect(ps.output.trim()).toBe('');
    const again = await run('hack/compose', ['down']);
    expect(again.code, again.output).toBe(0);
  });
});
