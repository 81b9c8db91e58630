// ResourceQuota end to end against a real apiserver + etcd with the controller-manager's
// resourcequota-controller: `kubectl describe quota` shows what the namespace uses (objects that existed
// before the quota included), a deleted pod frees its share, and a create beyond the quota is refused
// with upstream's message. No kubelet runs: pods stay Pending and unbound, which still counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';
import { until } from '../fixtures/wait.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;

const quotas = findResource('', 'v1', 'resourcequotas')!;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({ ...defaults(), leaderElect: false, securePort: 0, controllers: ['resourcequota-controller'] });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
});

afterAll(async () => {
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

function podYaml(name: string, cpu: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers:
  - name: c
    image: nginx
    resources:
      requests: {cpu: ${cpu}, memory: 64Mi}
      limits: {cpu: ${cpu}, memory: 64Mi}
`;
}

/** The rows of `kubectl describe quota` below its header, as resource -> [used, hard]. */
async function describeQuota(ns: string, name: string): Promise<Record<string, [string, string]>> {
  const out = await k(['-n', ns, 'describe', 'quota', name]);
  expect(out.stderr).toBe('');
  const rows: Record<string, [string, string]> = {};
  const lines = out.stdout.split('\n');
  const start = lines.findIndex((l) => /^Resource\s+Used\s+Hard/.test(l));
  for (const line of lines.slice(start + 2)) {
    const [res, used, hard] = line.trim().split(/\s+/);
    if (res && hard) rows[res] = [used, hard];
  }
  return rows;
}

describe('resource quota', () => {
  it('fills in Used, frees a deleted pod, and refuses the pod over the limit', async () => {
    const ns = 'quota-demo';
    expect((await k(['create', 'namespace', ns])).code).toBe(0);
    // Objects that exist before the quota: only the controller can count them.
    expect((await k(['-n', ns, 'apply', '-f', '-'], podYaml('first', '500m'))).code).toBe(0);
    expect((await k(['-n', ns, 'create', 'configmap', 'settings', '--from-literal=a=b'])).code).toBe(0);
    const created = await k(['-n', ns, 'create', 'quota', 'compute', '--hard=pods=3,requests.cpu=1,limits.memory=1Gi,count/configmaps=5,services=3']);
    expect(created.stderr).toBe('');

    await until('the controller to fill in the quota', async () => (await describeQuota(ns, 'compute')).pods?.[0] === '1');
    expect(await describeQuota(ns, 'compute')).toEqual({
      'count/configmaps': ['1', '5'],
      'limits.memory': ['64Mi', '1Gi'],
      pods: ['1', '3'],
      'requests.cpu': ['500m', '1'],
      services: ['0', '3'],
    });

    // The admission charges the second pod; the third would exceed requests.cpu.
    expect((await k(['-n', ns, 'apply', '-f', '-'], podYaml('second', '400m'))).code).toBe(0);
    const over = await k(['-n', ns, 'apply', '-f', '-'], podYaml('third', '200m'));
    expect(over.code).not.toBe(0);
    expect(over.stderr.trim()).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "third" is forbidden: exceeded quota: compute, requested: requests.cpu=200m, used: requests.cpu=900m, limited: requests.cpu=1',
    );
    await until('second pod counted', async () => (await describeQuota(ns, 'compute'))['requests.cpu']?.[0] === '900m');

    // Deleting a pod frees its share, in the quota's status too.
    expect((await k(['-n', ns, 'delete', 'pod', 'first', '--wait=true'])).code).toBe(0);
    await until('the deleted pod to be freed', async () => {
      const rows = await describeQuota(ns, 'compute');
      return rows.pods?.[0] === '1' && rows['requests.cpu']?.[0] === '400m';
    });
    expect((await k(['-n', ns, 'apply', '-f', '-'], podYaml('third', '200m'))).code).toBe(0);
    await until('third pod counted', async () => {
      const status = (await client.resource(quotas, ns).get('compute')).status as { used: Record<string, string> };
      return status.used['requests.cpu'] === '600m' && status.used.pods === '2';
    });
  });
});
