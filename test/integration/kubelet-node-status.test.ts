// A kubelet's node registration, status and Lease heartbeat against a real apiserver under
// Node,RBAC authorization, with the node's own client certificate (system:node:<name>); what
// `kubectl get nodes` and `kubectl get leases -n kube-node-lease` show.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeconfig, issueCertificate, loadCA } from '@kubelab/component-base';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { NodeLeaseController } from '../../packages/kubelet/src/nodelease/lease-controller.js';
import { readMachineInfo } from '../../packages/kubelet/src/nodestatus/machine-info.js';
import { NodeStatusManager } from '../../packages/kubelet/src/nodestatus/node-status-manager.js';
import type { NodeStatusInputs } from '../../packages/kubelet/src/nodestatus/node-status.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';
import { until } from '../fixtures/wait.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
const abort = new AbortController();

const NODE = 'worker-1';
let runtime: NodeStatusInputs['runtime'] = { runtimeReady: true, networkReady: false, message: 'cni plugin not initialized' };
const inputs = async (): Promise<NodeStatusInputs> => ({
  machine: readMachineInfo('/'),
  maxPods: 110,
  reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 },
  containerRuntimeVersion: 'containerd://1.6.20',
  runtime,
  kubeletPort: 10250,
  images: [],
});

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction'] });
  const ca = await loadCA(api.pkiDir);
  const pair = await issueCertificate(ca, { commonName: `system:node:${NODE}`, organizations: ['system:nodes'], usage: 'client' });
  const file = join(api.pkiDir, 'kubelet.conf');
  writeFileSync(file, buildKubeconfig({ server: api.url, caPem: ca.certPem, user: `system:node:${NODE}`, certPem: pair.certPem, keyPem: pair.keyPem }), { mode: 0o600 });
  client = new RestClient(loadKubeconfig(file));
}, 60_000);

afterAll(async () => {
  abort.abort();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('kubelet node status', () => {
  it('registers the node, reports NotReady until the network is, then Ready, and heartbeats a Lease', async () => {
    const identity = { name: NODE, nodeIP: '172.30.0.10', hostname: NODE, labels: { 'kubernetes.io/arch': 'amd64' }, taints: [] };
    const status = new NodeStatusManager({ client, identity, inputs, updateFrequencyMs: 200, reportFrequencyMs: 60_000 });
    const lease = new NodeLeaseController({ client, nodeName: NODE, leaseDurationSeconds: 40 });
    void status.run(abort.signal);
    await until('the node to be registered', async () => status.isRegistered);
    await lease.renew();

    const notReady = await until('NotReady', async () => {
      const r = await kubectl(api.kubeconfig, ['get', 'nodes']);
      return r.stdout.includes('NotReady') && r.stdout;
    });
    expect(notReady.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(notReady).toMatch(new RegExp(`^${NODE}\\s+NotReady\\s+<none>\\s+\\S+\\s+v1\\.32\\.0$`, 'm'));

    runtime = { runtimeReady: true, networkReady: true, message: '' };
    await until('Ready', async () => /\sReady\s/.test((await kubectl(api.kubeconfig, ['get', 'nodes', NODE])).stdout));

    const wide = await kubectl(api.kubeconfig, ['get', 'nodes', '-o', 'wide']);
    expect(wide.stdout).toMatch(/INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/);
    expect(wide.stdout).toMatch(/172\.30\.0\.10\s+<none>\s+.+containerd:\/\/1\.6\.20/);

    const leases = await kubectl(api.kubeconfig, ['get', 'leases', '-n', 'kube-node-lease', NODE, '-o', 'json']);
    const l = JSON.parse(leases.stdout);
    expect(l.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 40 });
    expect(l.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', name: NODE })]);
    const renewed = await lease.renew();
    expect(renewed.spec!.renewTime! >= l.spec.renewTime).toBe(true);
  });

  it('may not touch another node (Node authorizer and NodeRestriction)', async () => {
    const other = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-2' } };
    const r = await client.request({ method: 'POST', path: '/api/v1/nodes', body: other }).then(
      () => 'created',
      (err: Error) => err.message,
    );
    expect(r).toMatch(/forbidden|cannot modify node "worker-2"/i);
  });
});
