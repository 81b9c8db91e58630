// The kubelet against a real apiserver (Node,RBAC and NodeRestriction, the node's own certificate) over the
// fake CRI runtime: it registers its node and learns the pod CIDR, runs the pods bound to it, reports a
// container that exits through the relist, and finishes a deletion; what kubectl shows. No root needed
// (test/e2e runs the same against containerd in network namespaces).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeconfig, issueCertificate, loadCA, silentLogger } from '@kubelab/component-base';
import { startApiServer, type ApiServerInstance } from '../../../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../../../test/fixtures/etcd.js';
import { kubectl } from '../../../test/fixtures/kubectl.js';
import { freePort } from '../../../test/fixtures/ports.js';
import { until } from '../../../test/fixtures/wait.js';
import { configFromFlags } from './config.js';
import { FakeImageService, FakeRuntimeService } from './cri/fake-runtime.js';
import { createKubelet, type Kubelet } from './kubelet.js';

const NODE = 'int-node-1';
let etcd: EtcdInstance;
let api: ApiServerInstance;
let dir: string;
let kubelet: Kubelet;
let config: ReturnType<typeof configFromFlags>;
const runtime = new FakeRuntimeService();
const images = new FakeImageService({ images: ['nginx:latest', 'busybox:latest', 'registry.k8s.io/pause:3.10'] });
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction'] });
  dir = mkdtempSync(join(tmpdir(), 'kubelet-int-'));
  const ca = await loadCA(api.pkiDir);
  const user = `system:node:${NODE}`;
  const pair = await issueCertificate(ca, { commonName: user, organizations: ['system:nodes'], usage: 'client' });
  const file = join(dir, 'kubelet.conf');
  writeFileSync(file, buildKubeconfig({ server: api.url, caPem: ca.certPem, user, certPem: pair.certPem, keyPem: pair.keyPem }), { mode: 0o600 });
  mkdirSync(join(dir, 'manifests'));
  config = configFromFlags([
    `--pod-manifest-path=${dir}/manifests`,
    `--kubeconfig=${file}`, `--hostname-override=${NODE}`, '--node-ip=172.30.0.250', `--root-dir=${dir}/root`,
    `--kubelab-pod-logs-dir=${dir}/pods`, '--healthz-port=0', '--node-labels=tier=web', '--cluster-domain=cluster.local',
    // The API on a free loopback port: 10250 on the host may be taken by another test or a kubelet.
    '--address=127.0.0.1', `--port=${await freePort()}`,
  ]);
  kubelet = createKubelet(config, { logger: silentLogger(), runtime, images });
  await kubelet.start();
}, 60_000);

afterAll(async () => {
  await kubelet?.stop();
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, automountServiceAccountToken: false, ...spec } });

describe('kubelet (fake runtime, real apiserver)', () => {
  it('registers its node with its labels, Ready once the runtime is, and passes the pod CIDR to the runtime', async () => {
    await until('node Ready', async () => /\sReady\s/.test((await k(['get', 'node', NODE])).stdout));
    const labels = JSON.parse((await k(['get', 'node', NODE, '-o', 'jsonpath={.metadata.labels}'])).stdout);
    expect(labels).toMatchObject({ tier: 'web', 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux' });
    // What the controller-manager's node IPAM does with --allocate-node-cidrs.
    await k(['patch', 'node', NODE, '-p', '{"spec":{"podCIDR":"10.244.7.0/24","podCIDRs":["10.244.7.0/24"]}}']);
    await until('the runtime told of the pod CIDR', async () => kubelet.podCIDR() === '10.244.7.0/24', 5000);
    expect(runtime.calls.some((c) => c.method === 'updateRuntimeConfig' && c.args[0] === '10.244.7.0/24')).toBe(true);
  });

  it('runs a pod bound to the node: sandbox, container, Running status with the pod IP', async () => {
    expect((await k(['create', '-f', '-'], pod('web', { containers: [{ name: 'web', image: 'nginx' }] }))).stderr).toBe('');
    await until('web Running', async () => (await k(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running');
    const status = JSON.parse((await k(['get', 'pod', 'web', '-o', 'json'])).stdout).status;
    expect(status.hostIP).toBe('172.30.0.250');
    expect(status.podIP).toMatch(/^10\.244\./);
    expect(status.containerStatuses[0]).toMatchObject({ name: 'web', ready: true, restartCount: 0, state: { running: {} } });
    expect(runtime.containersNamed('web')).toHaveLength(1);
  });

  it('sees a container exit through the relist: a restartPolicy Never pod becomes Failed with the exit code', async () => {
    expect((await k(['create', '-f', '-'], pod('job', { restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox' }] }))).stderr).toBe('');
    await until('job Running', async () => (await k(['get', 'pod', 'job', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running');
    runtime.exitContainer(runtime.containersNamed('job')[0]!.id, 3);
    await until('job Failed', async () => (await k(['get', 'pod', 'job', '-o', 'jsonpath={.status.phase}'])).stdout === 'Failed', 20_000);
    const terminated = JSON.parse((await k(['get', 'pod', 'job', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated}'])).stdout);
    expect(terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('waits for a missing ConfigMap volume (FailedMount), then writes it into the pod directory and starts the pod', async () => {
    const spec = {
      containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }] }],
      volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }],
    };
    expect((await k(['create', '-f', '-'], pod('with-config', spec))).stderr).toBe('');
    await until('a FailedMount event', async () => {
      const r = await k(['get', 'events', '--field-selector', 'involvedObject.name=with-config,reason=FailedMount', '-o', 'jsonpath={.items[0].message}']);
      return r.stdout === 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found';
    });
    expect((await k(['get', 'pod', 'with-config', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Pending');
    await k(['create', 'configmap', 'app-config', '--from-literal=mode=blue']);
    // The worker retries after its backoff period (10 s).
    await until('with-config Running', async () => (await k(['get', 'pod', 'with-config', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 20_000);
    const uid = (await k(['get', 'pod', 'with-config', '-o', 'jsonpath={.metadata.uid}'])).stdout;
    expect(readFileSync(join(dir, 'root/pods', uid, 'volumes/kubernetes.io~configmap/cfg/mode'), 'utf8')).toBe('blue');
    const mounts = runtime.containersNamed('app')[0]!.config.mounts;
    expect(mounts).toEqual([expect.objectContaining({ containerPath: '/etc/app', hostPath: join(dir, 'root/pods', uid, 'volumes/kubernetes.io~configmap/cfg') })]);
  }, 40_000);

  it('probes: READY follows the readiness probe; a failing liveness probe restarts the container (events Unhealthy, Killing)', async () => {
    const fail = (cmd: string) => runtime.execResults.set(cmd, { stdout: Buffer.from('not yet\n'), stderr: Buffer.alloc(0), exitCode: 1 });
    fail('cat /tmp/probed-ready');
    const spec = {
      containers: [{
        name: 'app', image: 'busybox',
        readinessProbe: { exec: { command: ['cat', '/tmp/probed-ready'] }, periodSeconds: 1 },
        livenessProbe: { exec: { command: ['cat', '/tmp/probed-healthy'] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    };
    expect((await k(['create', '-f', '-'], pod('probed', spec))).stderr).toBe('');
    const row = async () => (await k(['get', 'pod', 'probed', '--no-headers'])).stdout.trim().split(/\s+/);
    await until('probed Running', async () => (await row())[2] === 'Running');
    await until('a failed readiness probe seen', async () => runtime.calls.filter((c) => c.method === 'execSync').length >= 2, 10_000);
    expect((await row())[1]).toBe('0/1');
    expect((await k(['get', 'pod', 'probed', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout).toBe('False');
    runtime.execResults.delete('cat /tmp/probed-ready');
    await until('READY 1/1', async () => (await row())[1] === '1/1', 10_000);

    fail('cat /tmp/probed-healthy');
    await until('RESTARTS 1', async () => (await row())[3] === '1', 20_000);
    runtime.execResults.delete('cat /tmp/probed-healthy');
    const status = JSON.parse((await k(['get', 'pod', 'probed', '-o', 'json'])).stdout).status;
    expect(status.containerStatuses[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137 } } });
    const events = async (reason: string) =>
      (await k(['get', 'events', '--field-selector', `involvedObject.name=probed,reason=${reason}`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'])).stdout;
    await until('Killing event', async () => (await events('Killing')).includes('Container app failed liveness probe, will be restarted'), 10_000);
    const unhealthy = await events('Unhealthy');
    expect(unhealthy).toContain('Readiness probe failed: not yet');
    expect(unhealthy).toContain('Liveness probe failed: not yet');
    await until('ready again', async () => (await row())[1] === '1/1', 10_000);
    expect((await row())[3]).toBe('1');
  }, 60_000);

  it('finishes a deletion: stops the containers, removes the pod from the apiserver and the runtime', async () => {
    const uid = (await k(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const del = await k(['delete', 'pod', 'web', '--timeout=30s']);
    expect(del.stdout).toBe('pod "web" deleted\n');
    expect((await k(['get', 'pod', 'web'])).stderr).toContain('pods "web" not found');
    await until('sandbox removed', async () => ![...runtime.sandboxes.values()].some((s) => s.config.metadata.uid === uid), 10_000);
    expect(runtime.containersNamed('web')).toHaveLength(0);
  });

  it('static pods: a manifest runs as <name>-<node> with a mirror pod; a deleted mirror comes back; removing the file stops the pod', async () => {
    const manifest = join(dir, 'manifests', 'static-web.yaml');
    writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\n  labels: {app: static}\nspec:\n  containers:\n  - name: web\n    image: nginx\n');
    const name = `static-web-${NODE}`;
    await until('mirror pod Running', async () => (await k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 20_000);
    const mirror = JSON.parse((await k(['get', 'pod', name, '-o', 'json'])).stdout);
    const hash = mirror.metadata.annotations['kubernetes.io/config.hash'];
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(mirror.metadata.annotations).toMatchObject({ 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.mirror': hash });
    expect(mirror.metadata.annotations['kubernetes.io/config.seen']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(mirror.metadata.labels).toEqual({ app: 'static' });
    const nodeUID = (await k(['get', 'node', NODE, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    expect(mirror.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: nodeUID, controller: true }]);
    expect(mirror.spec.tolerations).toContainEqual({ operator: 'Exists', effect: 'NoExecute' });
    expect(mirror.status.containerStatuses[0]).toMatchObject({ name: 'web', ready: true, state: { running: {} } });
    // The runtime runs the static pod under its own (hashed) uid, not the mirror's.
    const sandboxes = () => [...runtime.sandboxes.values()].filter((s) => s.config.metadata.name === name && s.state === 'SANDBOX_READY');
    expect(sandboxes().map((s) => s.config.metadata.uid)).toEqual([hash]);

    // The kubelet owns the pod: deleting the mirror brings a new mirror of the same pod, still Running.
    expect((await k(['delete', 'pod', name, '--timeout=30s'])).stdout).toBe(`pod "${name}" deleted\n`);
    await until('mirror recreated and Running', async () => {
      const r = await k(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid} {.status.phase}']);
      const [uid, phase] = r.stdout.split(' ');
      return !!uid && uid !== mirror.metadata.uid && phase === 'Running';
    }, 20_000);
    expect(sandboxes()).toHaveLength(1);
    expect(runtime.containersNamed('web').filter((c) => c.config.labels?.['io.kubernetes.pod.name'] === name)).toHaveLength(1);

    // A restarted kubelet knows its static pods before it first relists the runtime: same sandbox, same mirror.
    const running = sandboxes().map((s) => s.id);
    const mirrorUID = (await k(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    await kubelet.stop();
    const mark = runtime.calls.length;
    kubelet = createKubelet(config, { logger: silentLogger(), runtime, images });
    await kubelet.start();
    await until('the restarted kubelet relisted 3 times', async () => runtime.calls.slice(mark).filter((c) => c.method === 'listPodSandbox' && !(c.args[0] as { labelSelector?: object }).labelSelector).length >= 3, 10_000);
    expect(sandboxes().map((s) => s.id)).toEqual(running);
    expect((await k(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid} {.status.phase}'])).stdout).toBe(`${mirrorUID} Running`);

    // Removing the manifest stops the pod and removes its mirror.
    unlinkSync(manifest);
    await until('mirror pod gone', async () => (await k(['get', 'pod', name])).stderr.includes(`pods "${name}" not found`), 20_000);
    await until('static pod sandbox removed', async () => ![...runtime.sandboxes.values()].some((s) => s.config.metadata.name === name), 10_000);
  }, 90_000);
});
