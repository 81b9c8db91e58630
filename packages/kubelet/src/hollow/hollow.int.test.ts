// Hollow nodes against a real apiserver (Node,RBAC and NodeRestriction): one hollow-node process
// (hollow/main.ts) runs 3 hollow kubelets, each with its own system:node:<name> certificate; kubectl sees them
// Ready with the kubelet's version and the hollow runtime, their Leases renewed; pods bound to them run with
// IPs from the node's pod CIDR and Ready conditions, and a deletion finishes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { buildKubeconfig, silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { ROOT, startApiServer, type ApiServerInstance } from '../../../../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { kubectl } from '../../../../test/fixtures/kubectl.js';
import { until } from '../../../../test/fixtures/wait.js';
import { createBootstrapToken } from '../certificate/bootstrap-token.js';
import { HollowNodeRunner } from './runner.js';

const NODES = ['hollow-0', 'hollow-1', 'hollow-2'];
let etcd: EtcdInstance;
let api: ApiServerInstance;
let dir: string;
let runner: ChildProcess;
let output = '';
let admin: RestClient;
let cm: ControllerManager;
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({
    etcdEndpoint: etcd.endpoint,
    extraArgs: ['--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true'],
  });
  admin = new RestClient(loadKubeconfig(api.kubeconfig));
  // CSRs of nodes joining with a bootstrap token: approved and signed, as the controller-manager does.
  const cmConfig = validate({
    ...defaults(), leaderElect: false, securePort: 0, controllers: ['csrapproving', 'csrsigning'],
    clusterSigningCertFile: join(api.pkiDir, 'ca.crt'), clusterSigningKeyFile: join(api.pkiDir, 'ca.key'),
  });
  cm = createControllerManager(cmConfig, { client: admin, logger: silentLogger() });
  await cm.start();
  dir = mkdtempSync(join(tmpdir(), 'hollow-int-'));
  runner = spawn(
    process.execPath,
    [
      '--conditions=source', '--import', 'tsx', join(ROOT, 'packages/kubelet/src/hollow/main.ts'),
      '--morph=kubelet', `--kubeconfig=${api.kubeconfig}`, '--nodes=3', '--name-prefix=hollow-', `--root-dir=${dir}`,
      `--cluster-signing-cert-file=${join(api.pkiDir, 'ca.crt')}`, `--cluster-signing-key-file=${join(api.pkiDir, 'ca.key')}`,
      '--node-labels=kubelab.io/hollow=true',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  runner.stdout!.on('data', (d) => (output += d));
  runner.stderr!.on('data', (d) => (output += d));
}, 120_000);

afterAll(async () => {
  if (runner && runner.exitCode === null) runner.kill('SIGKILL');
  await cm?.stop();
  admin?.close();
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string, node: string) =>
  JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: node, automountServiceAccountToken: false, containers: [{ name: 'web', image: 'nginx', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }] },
  });

describe('hollow nodes (one runner process, real apiserver)', () => {
  it('registers 3 nodes that kubectl shows Ready with the kubelet version, the hollow runtime and a fixed machine', async () => {
    await until('3 hollow nodes Ready', async () => {
      const rows = (await k(['get', 'nodes', '-l', 'kubelab.io/hollow=true', '--no-headers'])).stdout.trim().split('\n').filter(Boolean);
      return rows.length === 3 && rows.every((r) => /^hollow-\d\s+Ready\s+<none>\s+\S+\s+v1\.32\.0$/.test(r));
    }, 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output.slice(-3000)}`);
    });
    const wide = (await k(['get', 'nodes', '-o', 'wide', '--no-headers'])).stdout;
    expect(wide).toMatch(/^hollow-0\s+Ready\s+\S+\s+\S+\s+v1\.32\.0\s+100\.64\.0\.10\s+<none>\s+Kubelab hollow node\s+hollow\s+hollow:\/\/0\.1\.0$/m);
    const capacity = JSON.parse((await k(['get', 'node', 'hollow-1', '-o', 'jsonpath={.status.capacity}'])).stdout);
    expect(capacity).toMatchObject({ cpu: '4', memory: '16777216Ki', pods: '110' });
    // Each node renews its own Lease (as system:node:<name>: Node authorization lets no node touch another's).
    for (const n of NODES) {
      const holder = (await k(['get', 'lease', '-n', 'kube-node-lease', n, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
      expect(holder).toBe(n);
    }
  });

  it('runs pods bound to the nodes: Running and Ready, with IPs from each node\'s pod CIDR', async () => {
    // What the controller-manager's node IPAM does with --allocate-node-cidrs.
    await k(['patch', 'node', 'hollow-0', '-p', '{"spec":{"podCIDR":"10.244.5.0/24","podCIDRs":["10.244.5.0/24"]}}']);
    await until('hollow-0 passed its pod CIDR to the runtime', async () => /"node":"hollow-0".*"podCIDR":"10\.244\.5\.0\/24".*"msg":"Updated Pod CIDR"/.test(output));
    for (const [i, n] of NODES.entries()) expect((await k(['create', '-f', '-'], pod(`web-${i}`, n))).stderr).toBe('');
    await until('3 pods Running and Ready', async () => {
      const rows = (await k(['get', 'pods', '--no-headers'])).stdout.trim().split('\n');
      return rows.length === 3 && rows.every((r) => /\s1\/1\s+Running\s+0\s/.test(r));
    });
    const pods = JSON.parse((await k(['get', 'pods', '-o', 'json'])).stdout).items as { metadata: { name: string }; spec: { nodeName: string }; status: Record<string, any> }[];
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    expect(byName.get('web-0')!.status.podIP).toBe('10.244.5.2');
    expect(byName.get('web-1')!.status.podIP).toBe('100.96.1.2');
    expect(byName.get('web-2')!.status).toMatchObject({ hostIP: '100.64.0.12', podIPs: [{ ip: '100.96.2.2' }] });
    for (const p of pods) {
      expect(p.status.conditions.filter((c: { status: string }) => c.status === 'True').map((c: { type: string }) => c.type).sort())
        .toEqual(['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'Ready']);
      expect(p.status.containerStatuses[0]).toMatchObject({ name: 'web', ready: true, started: true, restartCount: 0, state: { running: {} } });
    }
  });

  it('finishes deletions: the pods stop and leave the API', async () => {
    const del = await k(['delete', 'pods', '--all', '--timeout=30s']);
    expect(del.stdout.trim().split('\n').sort()).toEqual(['pod "web-0" deleted', 'pod "web-1" deleted', 'pod "web-2" deleted']);
    expect((await k(['get', 'pods', '--no-headers'])).stderr).toBe('No resources found in default namespace.\n');
  });

  it('stops every hollow kubelet on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((r) => runner.once('exit', (code) => r(code)));
    runner.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a hollow node can join with a bootstrap token instead: its CSR is approved and signed, then it is Ready', async () => {
    const token = await createBootstrapToken(admin, { description: 'hollow integration test' });
    const bootstrap = join(dir, 'bootstrap.conf');
    writeFileSync(bootstrap, buildKubeconfig({ server: api.url, caPem: readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8'), user: 'tls-bootstrap-token-user', token }));
    const joined = new HollowNodeRunner({
      server: { server: api.url, ca: readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8') },
      bootstrapKubeconfig: bootstrap, namePrefix: 'hollow-joined-', rootDir: join(dir, 'joined'), logger: silentLogger(),
    });
    try {
      await joined.scaleTo(1);
      await until('hollow-joined-0 Ready', async () => /^hollow-joined-0\s+Ready\s/.test((await k(['get', 'node', 'hollow-joined-0', '--no-headers'])).stdout));
      const csr = (await k(['get', 'csr', '-o', 'jsonpath={range .items[*]}{.spec.username} {.status.conditions[0].type}{"\\n"}{end}'])).stdout;
      expect(csr).toMatch(new RegExp(`^system:bootstrap:${token.slice(0, 6)} Approved$`, 'm'));
      expect((await k(['get', 'lease', '-n', 'kube-node-lease', 'hollow-joined-0', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout).toBe('hollow-joined-0');
    } finally {
      await joined.stop();
    }
  });
});
