// kube-proxy in-process against a real apiserver + etcd, with iptables, conntrack and sysctls faked:
// Services and EndpointSlices written through the API show up in the applied ruleset; /healthz and
// /metrics are served. As root, a second kube-proxy programs a network namespace of the test's own
// for real, and traffic goes through the service.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { startApiServer, type ApiServerInstance } from '../../../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../../../test/fixtures/etcd.js';
import { until } from '../../../test/fixtures/wait.js';
import { configFromFlags } from './config.js';
import { ExecConntrack, type Conntrack, type ConntrackDeletion } from './conntrack.js';
import { FakeIPTables } from './iptables/fake.js';
import { ExecIPTables, execCommand } from './iptables/iptables.js';
import { createTestNode, NODE_IP, POD_IP, type TestNode } from './iptables/netns-testing.js';
import { createKubeProxy, type KubeProxy } from './kube-proxy.js';
import { makeSlice, ready } from './rules/testing.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let proxy: KubeProxy;
const iptables = new FakeIPTables();
const sysctls = new Map<string, number>();
const conntrack: Conntrack & { deleted: ConntrackDeletion[] } = {
  deleted: [],
  async delete(d) {
    this.deleted.push(d);
    return true;
  },
};
const services = findResource('', 'v1', 'services')!;
const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;
const nodes = findResource('', 'v1', 'nodes')!;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = configFromFlags([
    // kube-proxy's own identity (system:kube-proxy, bound to system:node-proxier), as in a cluster.
    `--kubeconfig=${join(api.pkiDir, 'kube-proxy.conf')}`,
    `--master=${api.url}`,
    '--hostname-override=node-a',
    '--cluster-cidr=10.244.0.0/16',
    '--iptables-min-sync-period=100ms',
    '--healthz-bind-address=127.0.0.1:0',
    '--metrics-bind-address=127.0.0.1:0',
  ]);
  proxy = createKubeProxy(config, {
    iptables,
    conntrack,
    logger: silentLogger(),
    sysctl: { get: (n) => sysctls.get(n), set: (n, v) => void sysctls.set(n, v) },
  });
  await proxy.start();
});

afterAll(async () => {
  await proxy?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('kube-proxy against an apiserver', () => {
  it('programs a Service and its EndpointSlice, and rejects the service once its endpoints are gone', async () => {
    const svc = (await client.resource(services, 'default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: 'web' } },
    } as KubeObject)) as KubeObject;
    const clusterIP = svc.spec.clusterIP as string;
    await client
      .resource(slices, 'default')
      .create(makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [ready('10.244.1.5', 'node-b')]) as unknown as KubeObject);
    const text = await until('the service is programmed', async () => {
      const t = iptables.last();
      return t?.includes('--to-destination 10.244.1.5:8080') ? t : undefined;
    });
    expect(text).toContain(`-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d ${clusterIP} --dport 80 -j KUBE-SVC-`);
    expect(sysctls.get('net/ipv4/conf/all/route_localnet')).toBe(1);
    expect(text).toContain('-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections"');

    await client.resource(slices, 'default').delete('web-1');
    const after = await until('the service is rejected', async () => {
      const t = iptables.last();
      return t?.includes('"default/web:http has no endpoints"') ? t : undefined;
    });
    expect(after).toContain(`-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp -d ${clusterIP} --dport 80 -j REJECT`);
    expect(after).toMatch(/-X KUBE-SEP-/);
  });

  it('ignores Services another proxy owns (service.kubernetes.io/service-proxy-name)', async () => {
    await client.resource(services, 'default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'other', labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } },
      spec: { ports: [{ port: 81 }] },
    } as KubeObject);
    await client.resource(services, 'default').create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'marker' }, spec: { ports: [{ port: 82 }] } } as KubeObject);
    const text = await until('the marker is programmed', async () => iptables.last()?.includes('default/marker') && iptables.last());
    expect(text).not.toContain('default/other');
  });

  it('serves /healthz with upstream\'s JSON and /metrics with the sync metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.healthzPort()}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.nodeEligible).toBe(true);
    expect(body.lastUpdated).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.metricsPort()}/metrics`)).text();
    expect(metrics).toMatch(/kubeproxy_sync_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/);
    expect(metrics).toContain('kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}');
    expect(metrics).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="nat",ip_family="IPv4"}');
    expect(await (await fetch(`http://127.0.0.1:${proxy.metricsPort()}/proxyMode`)).text()).toBe('iptables');
  });

  it('fails /healthz (but not /livez) while its Node is about to be deleted; other nodes do not matter', async () => {
    const node = (taints: object[]) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { taints } }) as KubeObject;
    await client.resource(nodes).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' }, spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } } as KubeObject);
    await client.resource(nodes).create(node([]));
    const healthz = () => fetch(`http://127.0.0.1:${proxy.healthzPort()}/healthz`).then(async (r) => ({ code: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect((await healthz()).code).toBe(200);
    const current = (await client.resource(nodes).get('node-a')) as KubeObject;
    await client.resource(nodes).update({ ...current, spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } });
    const failed = await until('healthz fails', async () => {
      const h = await healthz();
      return h.code === 503 ? h : undefined;
    });
    expect(failed.body.nodeEligible).toBe(false);
    expect((await fetch(`http://127.0.0.1:${proxy.healthzPort()}/livez`)).status).toBe(200);
  });
});

describe.skipIf(process.getuid?.() !== 0)('kube-proxy programming a node network namespace', () => {
  let node: TestNode;
  let real: KubeProxy;

  beforeAll(async () => {
    node = await createTestNode('kpe');
    const ns = node.nodeNs;
    const config = configFromFlags([
      `--kubeconfig=${join(api.pkiDir, 'kube-proxy.conf')}`,
      `--master=${api.url}`,
      '--hostname-override=node-netns',
      '--cluster-cidr=10.244.0.0/16',
      '--iptables-min-sync-period=100ms',
      '--healthz-bind-address=',
      '--metrics-bind-address=',
    ]);
    real = createKubeProxy(config, {
      iptables: new ExecIPTables({ netns: ns }),
      conntrack: new ExecConntrack((cmd, args, stdin, t) => execCommand('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], stdin, t)),
      logger: silentLogger(),
      sysctl: { get: () => undefined, set: () => {} },
    });
    await real.start();
  });

  afterAll(async () => {
    await real?.stop();
    await node?.remove();
  });

  it('a ClusterIP and a NodePort reach the pod; with no endpoints left connections are refused at once', async () => {
    const svc = (await client.resource(services, 'default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hello' },
      spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as KubeObject)) as KubeObject;
    const clusterIP = svc.spec.clusterIP as string;
    const nodePort = svc.spec.ports[0].nodePort as number;
    await client
      .resource(slices, 'default')
      .create(makeSlice('default', 'hello', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [ready(POD_IP, 'node-netns')]) as unknown as KubeObject);
    await until('the ClusterIP answers', async () => (await node.connect(clusterIP, 80)) === 'hello from pod');
    expect(await node.connect(NODE_IP, nodePort)).toBe('hello from pod');

    await client.resource(slices, 'default').delete('hello-1');
    await until('the ClusterIP refuses', async () => (await node.connect(clusterIP, 80)) === 'ECONNREFUSED');
    const start = Date.now();
    expect(await node.connect(clusterIP, 80)).toBe('ECONNREFUSED');
    expect(Date.now() - start).toBeLessThan(2500);
    const nat = await node.inNode('iptables-save', '-t', 'nat');
    expect(nat).not.toContain('default/hello');
    expect(await node.inNode('iptables-save', '-t', 'filter')).toContain('"default/hello:http has no endpoints"');
  });
});
