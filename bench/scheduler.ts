// npm run bench:scheduler — scheduler_perf's SchedulingBasic, on a real etcd + apiserver: create N
// Node objects and M pending pods through the apiserver, start kube-scheduler in-process and measure
// pods bound per second. Baseline in the same run: the same number of bindings POSTed straight to the
// apiserver (64 in flight) with no scheduling at all, i.e. the write ceiling the scheduler works
// under. Workloads: basic, affinity (preferred pod anti-affinity), spread (zone topology spread).
// Numbers are for reading, not asserting; everything talks to 127.0.0.1.
import { parseArgs } from 'node:util';
import { findResource, type KubeObject } from '@kubelab/api';
import { RestClient, loadKubeconfig } from '@kubelab/client';
import { createScheduler, defaults, validate } from '@kubelab/scheduler';
import { startEtcd } from '../test/fixtures/etcd.js';
import { startApiServer } from '../test/fixtures/apiserver.js';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    baseline: { type: 'string', default: '2000' },
    workload: { type: 'string', default: 'basic' },
    json: { type: 'boolean', default: false },
  },
});
const NODES_N = Number(flags.nodes);
const PODS_N = Number(flags.pods);
const BASELINE_N = Number(flags.baseline);
const WORKLOAD = flags.workload as 'basic' | 'affinity' | 'spread';
const IN_FLIGHT = 64;
const DEADLINE = Date.now() + 20 * 60_000;
const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

async function pool<T>(items: T[], fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (i < items.length) {
        if (Date.now() > DEADLINE) throw new Error('benchmark deadline passed');
        await fn(items[i++]!);
      }
    }),
  );
}

function node(i: number): KubeObject {
  const name = `node-${i}`;
  const allocatable = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(ns: string, i: number): KubeObject {
  const spec: Record<string, unknown> = {
    containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
  };
  if (WORKLOAD === 'affinity')
    spec.affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'bench' } } } }],
      },
    };
  if (WORKLOAD === 'spread')
    spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'bench' } } }];
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: ns, labels: { app: 'bench' } }, spec };
}

const etcd = await startEtcd();
const api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: [] });
const client = new RestClient({ ...loadKubeconfig(api.kubeconfig), qps: 0 });
try {
  const log = (m: string) => !flags.json && console.log(m);
  let t = Date.now();
  await pool(
    Array.from({ length: NODES_N }, (_, i) => i),
    async (i) => {
      const n = node(i);
      const created = await client.resource(NODES).create(n);
      await client.resource(NODES).updateStatus({ ...created, status: n.status });
    },
  );
  log(`created ${NODES_N} nodes in ${((Date.now() - t) / 1000).toFixed(1)}s`);

  // Baseline: bindings with no scheduler (pods created first, then only the binding POSTs are timed).
  await client.resource(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'baseline' } });
  const baseIdx = Array.from({ length: BASELINE_N }, (_, i) => i);
  await pool(baseIdx, (i) => client.resource(PODS, 'baseline').create({ ...pod('baseline', i), spec: { ...pod('baseline', i).spec, schedulerName: 'nobody' } }));
  t = Date.now();
  await pool(baseIdx, (i) =>
    client.request({
      method: 'POST',
      path: `/api/v1/namespaces/baseline/pods/pod-${i}/binding`,
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: `pod-${i}` }, target: { kind: 'Node', name: `node-${i % NODES_N}` } },
    }),
  );
  const baselineRate = BASELINE_N / ((Date.now() - t) / 1000);
  log(`baseline: ${BASELINE_N} bindings POSTed directly at ${baselineRate.toFixed(0)}/s`);

  await client.resource(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  t = Date.now();
  await pool(
    Array.from({ length: PODS_N }, (_, i) => i),
    (i) => client.resource(PODS, 'bench').create(pod('bench', i)),
  );
  log(`created ${PODS_N} pending pods (${WORKLOAD}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);

  const scheduler = createScheduler(
    validate({ ...defaults(), kubeconfig: api.kubeconfig, leaderElect: false, securePort: 0, kubeAPIQPS: 0, decisionRecords: false }),
  );
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  await scheduler.start();
  const scheduled = async () => (await scheduler.metrics.scheduleAttempts.get()).values.filter((v) => v.labels.result === 'scheduled').reduce((a, v) => a + v.value, 0);
  let synced = 0;
  while ((await scheduled()) < PODS_N) {
    if (Date.now() > DEADLINE) throw new Error('benchmark deadline passed');
    if (!synced && scheduler.cache.podCount() + scheduler.queue.lengths().active > 0) synced = Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (Date.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const algo = await scheduler.metrics.algorithmDuration.get();
  const algoSum = algo.values.find((v) => v.metricName === 'scheduler_scheduling_algorithm_duration_seconds_sum')?.value ?? 0;
  const attempts = await scheduler.metrics.scheduleAttempts.get();
  await scheduler.stop();
  const rate = PODS_N / elapsed;
  const result = {
    workload: WORKLOAD,
    nodes: NODES_N,
    pods: PODS_N,
    seconds: Number(elapsed.toFixed(2)),
    podsBoundPerSecond: Math.round(rate),
    baselineBindingsPerSecond: Math.round(baselineRate),
    ratioToBaseline: Number((rate / baselineRate).toFixed(2)),
    schedulingAlgorithmSeconds: Number(algoSum.toFixed(2)),
    schedulerProcessCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    attempts: Object.fromEntries(attempts.values.map((v) => [v.labels.result, v.value])),
  };
  if (flags.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${WORKLOAD}: ${PODS_N} pods on ${NODES_N} nodes bound in ${elapsed.toFixed(1)}s = ${rate.toFixed(0)} pods/s`);
    console.log(`baseline (bare binding POSTs): ${baselineRate.toFixed(0)}/s; ratio ${(rate / baselineRate).toFixed(2)}`);
    console.log(`time in the scheduling algorithm: ${algoSum.toFixed(2)}s; bench process CPU: ${result.schedulerProcessCpuSeconds}s (includes the scheduler's client, informers, events)`);
    console.log(JSON.stringify(result));
  }
} finally {
  client.close();
  await api.stop();
  await etcd.stop();
}
