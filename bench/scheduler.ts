// npm run bench:scheduler — scheduler_perf's SchedulingBasic, on a real etcd + apiserver: create N
// Node objects and M pending pods through the apiserver, start kube-scheduler in-process and measure
// pods bound per second. Baseline in the same run: the same number of bindings POSTed straight to the
// apiserver (64 in flight) with no scheduling at all, i.e. the write ceiling the scheduler works
// under. Workloads: basic, affinity (preferred pod anti-affinity), spread (zone topology spread).
// Numbers are for reading, not asserting; everything talks to 127.0.0.1.
// --profile: a CPU profile of this process (the scheduler runs here) over the scheduling phase only,
// written to --profile-dir (default a temporary directory) with its top self-time functions printed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findResource, type KubeObject } from '@kubelab/api';
import { RestClient, loadKubeconfig } from '@kubelab/client';
import { createScheduler, defaults, validate } from '@kubelab/scheduler';
import { startEtcd } from '../test/fixtures/etcd.js';
import { startApiServer } from '../test/fixtures/apiserver.js';
import { PhaseProfiler, formatSummary, inspectOption } from './apiserver-profile.js';
import { summarizeProfile } from './dns/profile.js';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    baseline: { type: 'string', default: '2000' },
    workload: { type: 'string', default: 'basic' },
    json: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
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

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const profileDir = flags.profile ? (flags['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'kubelab-scheduler-profile-'))) : '';
const etcd = await startEtcd();
// With --profile the apiserver (a child process) is profiled too, through its inspector.
const nodeOptions = process.env.NODE_OPTIONS;
const inspectPort = flags.profile ? await freePort() : 0;
if (flags.profile) process.env.NODE_OPTIONS = [nodeOptions, inspectOption(inspectPort)].filter(Boolean).join(' ');
const api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: [] });
if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = nodeOptions;
const apiProfiler = flags.profile ? await PhaseProfiler.connect(inspectPort, profileDir) : undefined;
const summaries: string[] = [];
async function apiPhase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!apiProfiler) return fn();
  const { value, file, summary } = await apiProfiler.phase(name, fn);
  summaries.push(formatSummary(name, file, summary));
  return value;
}
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
  const apiCpuBase0 = processCpuSeconds(api.pid);
  await apiPhase('apiserver-baseline-bindings', () => pool(baseIdx, (i) =>
    client.request({
      method: 'POST',
      path: `/api/v1/namespaces/baseline/pods/pod-${i}/binding`,
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: `pod-${i}` }, target: { kind: 'Node', name: `node-${i % NODES_N}` } },
    }),
  ));
  const baselineRate = BASELINE_N / ((Date.now() - t) / 1000);
  const apiCpuPerBinding = (processCpuSeconds(api.pid) - apiCpuBase0) / BASELINE_N;
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
  const session = flags.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('Profiler.start');
  }
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const apiCpu0 = processCpuSeconds(api.pid);
  await apiPhase('apiserver-schedule', async () => {
    await scheduler.start();
    const scheduled = async () => (await scheduler.metrics.scheduleAttempts.get()).values.filter((v) => v.labels.result === 'scheduled').reduce((a, v) => a + v.value, 0);
    let synced = 0;
    let last = -1;
    let progressAt = Date.now();
    for (let done = await scheduled(); done < PODS_N; done = await scheduled()) {
      if (Date.now() > DEADLINE) throw new Error('benchmark deadline passed');
      if (!synced && scheduler.cache.podCount() + scheduler.queue.lengths().active > 0) synced = Date.now();
      if (done !== last) [last, progressAt] = [done, Date.now()];
      else if (Date.now() - progressAt > 60_000) {
        // A stall is a finding, not something to wait out: say where the pods are.
        const attempts = (await scheduler.metrics.scheduleAttempts.get()).values.map((v) => `${v.labels.result}=${v.value}`).join(' ');
        throw new Error(`no pod scheduled for 60 s at ${done}/${PODS_N}: attempts ${attempts}; queue ${JSON.stringify(scheduler.queue.lengths())}; cache pods ${scheduler.cache.podCount()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  const elapsed = (Date.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const apiCpuPerPod = (processCpuSeconds(api.pid) - apiCpu0) / PODS_N;
  let profileSummary = '';
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const file = join(profileDir, 'scheduler.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    profileSummary = formatSummary('scheduler', file, summarizeProfile(file, 20));
  }
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
    apiserverCpuMsPerBaselineBinding: Number((apiCpuPerBinding * 1000).toFixed(2)),
    apiserverCpuMsPerScheduledPod: Number((apiCpuPerPod * 1000).toFixed(2)),
    attempts: Object.fromEntries(attempts.values.map((v) => [v.labels.result, v.value])),
  };
  if (flags.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${WORKLOAD}: ${PODS_N} pods on ${NODES_N} nodes bound in ${elapsed.toFixed(1)}s = ${rate.toFixed(0)} pods/s`);
    console.log(`baseline (bare binding POSTs): ${baselineRate.toFixed(0)}/s; ratio ${(rate / baselineRate).toFixed(2)}`);
    console.log(`time in the scheduling algorithm: ${algoSum.toFixed(2)}s; bench process CPU: ${result.schedulerProcessCpuSeconds}s (includes the scheduler's client, informers, events)`);
    console.log(JSON.stringify(result));
  }
  if (profileSummary) console.log(profileSummary);
  for (const line of summaries) console.log(line);
} finally {
  apiProfiler?.close();
  client.close();
  await api.stop();
  await etcd.stop();
}
