// Counterpart of cri-tools' critest (k8s.io/cri-tools/pkg/validate): the CRI client against a real
// containerd in a node made by hack/lib/node.sh, with the offline images of hack/images.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteRuntime } from './remote.js';
import type { ContainerConfig, PodSandboxConfig } from './runtime-service.js';

/** A process that exists and is not a zombie (kill -0 succeeds on a zombie that nobody has reaped yet). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const run = promisify(execFile);
const nodeScript = fileURLToPath(new URL('../../../../hack/lib/node.sh', import.meta.url));
const isRoot = process.getuid?.() === 0;
const hasContainerd = spawnSync('sh', ['-c', 'command -v containerd'], { stdio: 'ignore' }).status === 0;

// A node of its own: index 200-239 (IP 172.30.0.210-249) and pod CIDR 10.244.200-239.0/24 stay clear of hack/lab's nodes.
const slot = process.pid % 40;
const NODE = `kl-cri-${process.pid}`;
const INDEX = 200 + slot;
const POD_NET = `10.244.${200 + slot}`;
const socket = `/run/kubelab/${NODE}/containerd.sock`;

/** Runs cmd with input on stdin, resolves to its stdout. */
function runInput(cmd: string, args: string[], input: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
    });
    child.stdin.end(input);
  });
}

/** Polls fn until it returns a value, at most attempts times. */
async function eventually<T>(fn: () => Promise<T | undefined>, attempts = 40, delayMs = 250): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`condition not met after ${attempts} attempts${last ? `: ${String(last)}` : ''}`);
}

function sandboxConfig(name: string, uid: string): PodSandboxConfig {
  const logDirectory = `/var/log/kubelab/${NODE}/pods/default_${name}_${uid}`;
  mkdirSync(logDirectory, { recursive: true });
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory,
    labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid },
    linux: {
      cgroupParent: `/kubelab/${NODE}/kubepods/pod${uid}`,
      securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
}

function containerConfig(sandbox: PodSandboxConfig, name: string, image: string, command?: string[]): ContainerConfig {
  mkdirSync(`${sandbox.logDirectory}/${name}`, { recursive: true });
  return {
    metadata: { name, attempt: 0 },
    image: { image },
    command,
    logPath: `${name}/0.log`,
    labels: { 'io.kubernetes.container.name': name },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

/** The network namespace file containerd made for a sandbox (from its verbose status). */
async function sandboxNetns(cri: RemoteRuntime, id: string): Promise<string> {
  const info = JSON.parse((await cri.podSandboxStatus(id, true)).info.info ?? '{}');
  const ns = (info.runtimeSpec?.linux?.namespaces ?? []).find((n: { type: string }) => n.type === 'network');
  return ns?.path ?? '';
}

const mountsOf = (prefix: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(prefix));

describe.skipIf(!isRoot || !hasContainerd)('CRI client against containerd in a netns node', () => {
  let cri: RemoteRuntime;
  const timings: Record<string, number> = {};
  const time = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      timings[label] = Math.round(performance.now() - start);
    }
  };

  beforeAll(async () => {
    await time('node up', () => run(nodeScript, ['up', NODE, String(INDEX)]));
    await run(nodeScript, ['cni', NODE, `${POD_NET}.0/24`]);
    cri = new RemoteRuntime({ endpoint: socket, timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    cri?.close();
    await run(nodeScript, ['down', NODE]);
    console.log(`CRI timings (ms) on node ${NODE}: ${JSON.stringify(timings)}`);
  }, 60_000);

  it('reports the runtime version and a ready network once the CNI config is written', async () => {
    const v = await cri.version();
    expect(v).toMatchObject({ version: '0.1.0', runtimeName: 'containerd', runtimeApiVersion: 'v1' });
    const conditions = await eventually(async () => {
      const c = (await cri.status()).status?.conditions ?? [];
      return c.every((x) => x.status) ? c : undefined;
    });
    expect(conditions.map((c) => c.type).sort()).toEqual(['NetworkReady', 'RuntimeReady']);
  });

  it('finds the imported images and pulls them from the offline registry', async () => {
    const status = await cri.imageStatus({ image: 'busybox' });
    expect(status.image?.repoTags).toContain('docker.io/library/busybox:latest');
    const ref = await time('PullImage busybox', () => cri.pullImage({ image: 'busybox' }));
    expect(ref).toBe(status.image?.id);
    const kuard = await cri.imageStatus({ image: 'gcr.io/kuar-demo/kuard-amd64:blue' });
    expect(kuard.image?.repoTags).toContain('gcr.io/kuar-demo/kuard-amd64:blue');
    await expect(cri.pullImage({ image: 'docker.io/library/no-such-image:1' })).rejects.toThrow(/not found/);
    expect((await cri.imageStatus({ image: 'docker.io/library/no-such-image:1' })).image).toBeNull();
  });

  it('runs pods: sandbox IP in the pod CIDR, logs, exec, HTTP between pods and from the node; then cleans up', async () => {
    const uid1 = `uid-shell-${process.pid}`;
    const shellSandbox = sandboxConfig('shell', uid1);
    const sandbox1 = await time('RunPodSandbox', () => cri.runPodSandbox(shellSandbox));
    const netns1 = await sandboxNetns(cri, sandbox1);
    expect(netns1).toMatch(/^\/var\/run\/netns\/cni-/);

    const status1 = await cri.podSandboxStatus(sandbox1);
    expect(status1.status?.state).toBe('SANDBOX_READY');
    expect(status1.status?.network?.ip).toMatch(new RegExp(`^${POD_NET.replace(/\./g, '\\.')}\\.\\d+$`));

    const shellConfig = containerConfig(shellSandbox, 'shell', 'busybox', ['sh', '-c', 'echo hello; sleep 3600']);
    const shell = await time('CreateContainer+StartContainer', async () => {
      const id = await cri.createContainer(sandbox1, shellConfig, shellSandbox);
      await cri.startContainer(id);
      return id;
    });
    const running = await cri.containerStatus(shell);
    expect(running.status?.state).toBe('CONTAINER_RUNNING');
    expect(running.status?.logPath).toBe(`${shellSandbox.logDirectory}/shell/0.log`);
    const log = await eventually(async () => {
      const text = existsSync(running.status!.logPath) ? readFileSync(running.status!.logPath, 'utf8') : '';
      return text.includes('hello') ? text : undefined;
    });
    expect(log).toMatch(/^\S+ stdout F hello$/m); // the CRI log format
    const exec = await cri.execSync(shell, ['cat', '/etc/hostname'], 10);
    expect(exec.exitCode).toBe(0);
    expect(exec.stdout.toString().trim()).toBe('shell');
    const failing = await cri.execSync(shell, ['sh', '-c', 'echo oops >&2; exit 3'], 10);
    expect(failing).toMatchObject({ exitCode: 3 });
    expect(failing.stderr.toString()).toBe('oops\n');
    // The container has its own PID namespace (mode CONTAINER): its command (sh exec'd sleep) is PID 1, not pause.
    expect((await cri.execSync(shell, ['cat', '/proc/1/cmdline'], 10)).stdout.toString()).toBe('sleep\u00003600\u0000');

    const uid2 = `uid-web-${process.pid}`;
    const webSandbox = sandboxConfig('web', uid2);
    const sandbox2 = await cri.runPodSandbox(webSandbox);
    const web = await cri.createContainer(sandbox2, containerConfig(webSandbox, 'web', 'nginx:1.25'), webSandbox);
    await cri.startContainer(web);
    const webIp = (await cri.podSandboxStatus(sandbox2)).status?.network?.ip ?? '';
    expect(webIp.startsWith(`${POD_NET}.`)).toBe(true);
    expect(webIp).not.toBe(status1.status?.network?.ip);

    const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${webIp} 80`;
    const fromPod = await eventually(async () => {
      const r = await cri.execSync(shell, ['sh', '-c', request], 10);
      return r.stdout.toString().includes('Welcome to nginx!') ? r.stdout.toString() : undefined;
    });
    expect(fromPod).toMatch(/^HTTP\/1\.[01] 200 OK/);
    const fromNode = await runInput('nsenter', [`--net=/run/netns/${NODE}`, 'busybox', 'nc', '-w', '3', webIp, '80'], 'GET / HTTP/1.0\r\n\r\n');
    expect(fromNode).toMatch(/^HTTP\/1\.[01] 200 OK[\s\S]*Welcome to nginx!/);

    const listed = await cri.listContainers({ podSandboxId: sandbox1 });
    expect(listed.map((c) => [c.id, c.state, c.metadata?.name])).toEqual([[shell, 'CONTAINER_RUNNING', 'shell']]);
    const stats = await cri.containerStats(shell);
    expect(stats?.memory?.workingSetBytes?.value).toBeGreaterThan(0);

    // sleep ignores SIGTERM as PID 1: StopContainer kills it after the timeout.
    await time('StopContainer (1s grace)', () => cri.stopContainer(shell, 1));
    const exited = await cri.containerStatus(shell);
    expect(exited.status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
    await cri.removeContainer(shell);
    await cri.stopContainer(web, 5);
    expect((await cri.containerStatus(web)).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0 });
    await cri.removeContainer(web);
    const netns2 = await sandboxNetns(cri, sandbox2);
    for (const id of [sandbox1, sandbox2]) {
      await cri.stopPodSandbox(id);
      await cri.removePodSandbox(id);
    }

    expect(await cri.listContainers()).toEqual([]);
    expect(await cri.listPodSandbox()).toEqual([]);
    for (const ns of [netns1, netns2]) {
      expect(existsSync(ns)).toBe(false);
      expect(mountsOf(ns)).toEqual([]);
    }
    expect(mountsOf(`/run/kubelab/${NODE}/`)).toEqual([]);
    expect(mountsOf(`/var/lib/kubelab/${NODE}/`)).toEqual([]);
  });

  /** Runs a one-container pod; resolves when the container runs, with its pod IP. */
  async function startPod(name: string, image: string, memoryLimitInBytes?: number) {
    const uid = `uid-${name}-${process.pid}`;
    const sandboxCfg = sandboxConfig(name, uid);
    const sandboxId = await cri.runPodSandbox(sandboxCfg);
    const config = containerConfig(sandboxCfg, name, image);
    if (memoryLimitInBytes) config.linux = { ...config.linux, resources: { memoryLimitInBytes } };
    const containerId = await cri.createContainer(sandboxId, config, sandboxCfg);
    await cri.startContainer(containerId);
    const ip = (await cri.podSandboxStatus(sandboxId)).status?.network?.ip ?? '';
    return { sandboxId, containerId, ip };
  }

  async function removePod(pod: { sandboxId: string; containerId: string }) {
    await cri.removeContainer(pod.containerId);
    await cri.stopPodSandbox(pod.sandboxId);
    await cri.removePodSandbox(pod.sandboxId);
  }

  /** GET from the host (routed to the node's pod CIDR by `node.sh cni`), retried until the server answers. */
  const get = (url: string) =>
    eventually(async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return { status: res.status, body: await res.text() };
    });

  it('runs every offline image: web stand-ins answer, kuard probes toggle, a memory hog is OOMKilled', async () => {
    const httpd = await startPod('httpd', 'httpd');
    const demo = await startPod('k8s-demo', 'wardviaene/k8s-demo');
    const echo = await startPod('echo', 'gcr.io/google_containers/echoserver:1.4');
    const kuard = await startPod('kuard', 'gcr.io/kuar-demo/kuard-amd64:blue', 64 * 1024 * 1024);

    expect(await get(`http://${httpd.ip}/`)).toMatchObject({ status: 200, body: expect.stringContaining('It works!') });
    expect(await get(`http://${demo.ip}:3000/`)).toEqual({ status: 200, body: 'Hello World!' });
    const echoed = await get(`http://${echo.ip}:8080/some/path?x=1`);
    expect(echoed.body).toContain('real path=/some/path');
    expect(echoed.body).toContain('query=x=1');

    const k = `http://${kuard.ip}:8080`;
    const page = await get(`${k}/`);
    expect(page.body).toContain('Hostname: <b>kuard</b>');
    expect(page.body).toContain('KUARD_VERSION=blue');
    expect(await get(`${k}/healthy`)).toEqual({ status: 200, body: 'ok' });
    await get(`${k}/-/liveness/fail?count=2`);
    expect((await get(`${k}/healthy`)).status).toBe(500);
    expect((await get(`${k}/healthy`)).status).toBe(500);
    expect((await get(`${k}/healthy`)).status).toBe(200);
    await get(`${k}/-/readiness/fail`);
    expect((await get(`${k}/ready`)).status).toBe(503);
    expect((await get(`${k}/ready`)).status).toBe(503);
    await get(`${k}/-/readiness/pass`);
    expect((await get(`${k}/ready`)).status).toBe(200);
    expect((await get(`${k}/nope`)).status).toBe(404);

    // The web stand-ins stop on SIGTERM at once (exit 0), rather than waiting out the grace period.
    const stopStart = performance.now();
    await cri.stopContainer(httpd.containerId, 10);
    expect(performance.now() - stopStart).toBeLessThan(3000);
    expect((await cri.containerStatus(httpd.containerId)).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0 });

    expect((await get(`${k}/-/mem/alloc?mb=256`)).status).toBe(200);
    const oom = await eventually(async () => {
      const st = (await cri.containerStatus(kuard.containerId)).status;
      return st?.state === 'CONTAINER_EXITED' ? st : undefined;
    });
    expect(oom).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });

    for (const pod of [httpd, demo, echo, kuard]) {
      await cri.stopContainer(pod.containerId, 5);
      await removePod(pod);
    }
    expect(await cri.listPodSandbox()).toEqual([]);
  });

  it('node down removes the node, running pods included: processes, mounts, netns, veth, cgroups, directories', async () => {
    const left = await startPod('left-running', 'nginx:1.7.9');
    const leftNetns = await sandboxNetns(cri, left.sandboxId);
    const leftPid = Number(JSON.parse((await cri.containerStatus(left.containerId, true)).info.info ?? '{}').pid);
    expect(leftPid).toBeGreaterThan(0);
    expect(existsSync(leftNetns)).toBe(true);

    const env = Object.fromEntries(
      (await run(nodeScript, ['env', NODE])).stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const pid = Number(readFileSync(`/run/kubelab/${NODE}/containerd.pid`, 'utf8'));
    await time('node down', () => run(nodeScript, ['down', NODE]));
    expect(running(pid)).toBe(false);
    expect(running(leftPid)).toBe(false);
    expect(existsSync(leftNetns)).toBe(false);
    expect(mountsOf(leftNetns)).toEqual([]);
    expect(existsSync(`/run/netns/${NODE}`)).toBe(false);
    expect(spawnSync('ip', ['link', 'show', env.NODE_VETH], { stdio: 'ignore' }).status).not.toBe(0);
    for (const dir of [`/run/kubelab/${NODE}`, `/var/lib/kubelab/${NODE}`, `/etc/kubelab/${NODE}`, `/var/log/kubelab/${NODE}`]) {
      expect(existsSync(dir)).toBe(false);
      expect(mountsOf(dir)).toEqual([]);
    }
    expect(existsSync(`/sys/fs/cgroup/memory/kubelab/${NODE}`) || existsSync(`/sys/fs/cgroup/kubelab/${NODE}`)).toBe(false);
    // A second down is a no-op.
    await run(nodeScript, ['down', NODE]);
  });
});
