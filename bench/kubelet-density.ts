// npm run bench:kubelet-density -- --nodes 400 --pods-per-node 30 — hollow node density (upstream's kubemark
// density test): how many hollow nodes (packages/kubelet/src/hollow, real kubelets over a pretend runtime, all in
// ONE hollow-node process) this machine holds with every node Ready and every pod Running.
// Starts etcd, a real kube-apiserver (Node,RBAC, NodeRestriction), kube-scheduler and kube-controller-manager
// (node IPAM with a /24 per node from 10.128.0.0/9, node lifecycle: a node whose Lease is not renewed for 40 s goes
// NotReady), then grows the hollow nodes in steps (50, 100, 200, ... up to --nodes; or --steps a,b,c). Each step:
// the new nodes start (staggered), register and go Ready; --pods-per-node bare pods per new node are created
// (the scheduler spreads them: 100m CPU each on 4-CPU nodes) and must all run; then the cluster is held for --hold
// (60 s) during which no node may leave Ready. Per step it prints: nodes Ready, pods Running, pod startup p50/p99
// (create sent -> the watch sees Running), Lease renew gaps (time between two renewals of one Lease seen by a
// watch; 10 s is on time), RSS and CPU of etcd, apiserver, scheduler, controller-manager and the runner, the
// runner's RSS per hollow node and its event loop delay. Stops at the first step that does not hold and prints the
// largest step that held. Bounded: --timeout (15m) for the whole run; everything listens on 127.0.0.1.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findResource, isAlreadyExists, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient, SharedInformerFactory } from '@kubelab/client';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { HollowRunnerMessage, HollowRunnerReply } from '../packages/kubelet/src/hollow/main.js';
import { ROOT, startApiServer, type ApiServerInstance } from '../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../test/fixtures/etcd.js';
import { freePort } from '../test/fixtures/ports.js';
import { stopProcess } from '../test/fixtures/processes.js';
import { formatSummary, inspectOption, PhaseProfiler } from './apiserver-profile.js';
import { cpuBetween, sampleCpu, type CpuSample } from './kubelet/cpu.js';
import { summarize, type Summary } from './kubelet/pods.js';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '400' },
    steps: { type: 'string' },
    'first-step': { type: 'string', default: '50' },
    'pods-per-node': { type: 'string', default: '30' },
    hold: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '900' },
    'create-concurrency': { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
    /** CPU profiles of the hollow-node runner during each step's hold (the steady state) into this directory. */
    'runner-profile': { type: 'string' },
  },
});
const MAX_NODES = Number(flags.nodes);
const PODS_PER_NODE = Number(flags['pods-per-node']);
const HOLD_MS = Number(flags.hold) * 1000;
const DEADLINE = Date.now() + Number(flags.timeout) * 1000;
const CREATE_CONCURRENCY = Number(flags['create-concurrency']);
const STEPS = flags.steps
  ? flags.steps.split(',').map(Number).filter((n) => n > 0)
  : (() => {
      const out: number[] = [];
      for (let n = Number(flags['first-step']); n < MAX_NODES; n *= 2) out.push(n);
      out.push(MAX_NODES);
      return out;
    })();
const NAMESPACE = 'density';
const PREFIX = 'hollow-';
const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
/** The kubelet renews its Lease every leaseDuration/4 (40 s / 4). */
const LEASE_RENEW_MS = 10_000;

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const remaining = () => DEADLINE - Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until f() holds, or the step's or the run's time is up. */
async function waitFor(what: string, f: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Math.min(Date.now() + timeoutMs, DEADLINE);
  while (!f()) {
    if (Date.now() > until) {
      log(`gave up waiting for ${what}`);
      return false;
    }
    await sleep(250);
  }
  return true;
}

function rssMB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A control-plane component from its TypeScript source, stopped by PID. */
function startComponent(name: string, entry: string, args: string[]): { name: string; child: ChildProcess; logs: () => string } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { name, child, logs: () => out };
}

/** The hollow-node process, driven over IPC. */
class Runner {
  readonly child: ChildProcess;
  private readonly waiters: ((r: HollowRunnerReply) => boolean)[] = [];
  private out = '';

  constructor(api: ApiServerInstance, inspectPort?: number) {
    this.child = fork(
      join(ROOT, 'packages/kubelet/src/hollow/main.ts'),
      [
        '--morph=kubelet', `--kubeconfig=${api.kubeconfig}`, '--nodes=0', `--name-prefix=${PREFIX}`,
        `--cluster-signing-cert-file=${join(api.pkiDir, 'ca.crt')}`, `--cluster-signing-key-file=${join(api.pkiDir, 'ca.key')}`,
        '--node-labels=kubelab.io/hollow=true',
      ],
      {
        cwd: ROOT,
        execArgv: ['--conditions=source', '--import', 'tsx', ...(inspectPort ? [inspectOption(inspectPort)] : [])],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn' },
      },
    );
    const keep = (d: Buffer) => {
      this.out = (this.out + d).slice(-20_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('message', (m: HollowRunnerReply) => {
      const i = this.waiters.findIndex((w) => w(m));
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  logs(): string {
    return this.out;
  }

  private ask<T extends HollowRunnerReply['type']>(msg: HollowRunnerMessage | undefined, type: T, timeoutMs: number): Promise<Extract<HollowRunnerReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hollow-node runner: no ${type} reply in ${timeoutMs} ms\n${this.out.slice(-2000)}`)), timeoutMs);
      this.waiters.push((m) => {
        if (m.type !== type) return false;
        clearTimeout(timer);
        resolve(m as Extract<HollowRunnerReply, { type: T }>);
        return true;
      });
      if (msg) this.child.send(msg);
    });
  }

  started(): Promise<unknown> {
    return this.ask(undefined, 'scaled', 60_000);
  }

  scale(nodes: number, timeoutMs: number) {
    return this.ask({ type: 'scale', nodes }, 'scaled', timeoutMs);
  }

  stats() {
    return this.ask({ type: 'stats' }, 'stats', 30_000);
  }
}

/** apiserver_request_total summed by "VERB resource[/subresource]". */
async function requestCounts(api: ApiServerInstance): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = (await api.request('GET', '/metrics').catch(() => ({ body: '' }))).body;
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The apiserver's own latency of one request kind (apiserver_request_duration_seconds): cumulative bucket counts by le. */
async function latencyBuckets(api: ApiServerInstance, verb: string, resource: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const text = (await api.request('GET', '/metrics').catch(() => ({ body: '' }))).body;
  for (const m of text.matchAll(/^apiserver_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.verb !== verb || labels.resource !== resource || labels.subresource) continue;
    const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The bucket bound (ms) below which a share p of the requests between two readings fell. */
function bucketPercentile(a: Map<number, number>, b: Map<number, number>, p: number): number {
  const les = [...b.keys()].sort((x, y) => x - y);
  const total = (b.get(Number.POSITIVE_INFINITY) ?? 0) - (a.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return Number.NaN;
  for (const le of les) if ((b.get(le) ?? 0) - (a.get(le) ?? 0) >= p * total) return le * 1000;
  return Number.POSITIVE_INFINITY;
}

/** The busiest request kinds between two counts, per unit (node-minutes), largest first. */
function requestRates(a: Map<string, number>, b: Map<string, number>, units: number): Record<string, number> {
  return Object.fromEntries(
    [...b]
      .map(([k, v]) => [k, (v - (a.get(k) ?? 0)) / units] as const)
      .filter(([, v]) => v >= 0.05)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([k, v]) => [k, Number(v.toFixed(2))]),
  );
}

function perUnit(cpuMs: Record<string, number>, units: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, units > 0 ? Number((v / units).toFixed(2)) : Number.NaN]));
}

function densityPod(name: string): KubeObject & Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'density' } },
    spec: {
      automountServiceAccountToken: false,
      // Only on hollow nodes (the scheduler places them; none is pinned).
      nodeSelector: { 'kubelab.io/hollow': 'true' },
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
}

interface StepResult {
  nodes: number;
  held: boolean;
  /** The run's --timeout ended the step before it could be judged. */
  timedOut: boolean;
  why?: string;
  nodesReady: number;
  podsRunning: number;
  podsExpected: number;
  /** Nodes that left Ready during the step (after having been Ready). */
  nodesNotReady: string[];
  /** Seconds for the new nodes to start (runner) and to be Ready (watch). */
  nodesStartS: number;
  nodesReadyS: number;
  /** Seconds to send the step's creates (--create-concurrency in flight), and until all of them ran. */
  podsCreateS: number;
  /** Creates that failed (and were retried, up to 5 times). */
  createErrors: number;
  podsRunningS: number;
  podStartupMs: Summary;
  /** The two halves: create sent -> the watch sees the binding; binding -> Running. */
  podScheduleMs: Summary;
  podScheduledToRunningMs: Summary;
  podsPerNode: { min: number; max: number };
  leaseRenewGapMs: Summary;
  /** The same over the whole step (nodes and pods starting, then the hold). */
  stepLeaseRenewGapMs: Summary;
  /** Gaps between consecutive spec.renewTime values of one Lease over the step: how late the kubelets renewed. */
  stepRenewTimeGapMs: Summary;
  rssMB: Record<string, number>;
  runnerRssPerNodeMB: number;
  runnerHeapMB: number;
  runnerEventLoopDelayMs: { p50: number; p99: number; max: number };
  /** CPU (cores) while pods started, and during the hold. */
  coresStarting: Record<string, number>;
  coresHold: Record<string, number>;
  /** What it cost, less dependent on how busy the shared machine was: CPU ms per pod started, per process. */
  cpuMsPerPod: Record<string, number>;
  /** And the steady state: CPU ms per node per second during the hold (1 = 0.1 % of a core per node). */
  holdCpuMsPerNodeSecond: Record<string, number>;
  /** The apiserver's requests during the hold (its apiserver_request_total) per node per minute, by verb and resource. */
  holdRequestsPerNodeMinute: Record<string, number>;
  /** The apiserver's requests while the step's pods started, per pod, by verb and resource. */
  requestsPerPodStarted: Record<string, number>;
  /** The apiserver's latency of Lease updates while pods started (bucket bounds of its histogram). */
  leaseUpdateLatencyStartingMs: { p50: number; p99: number };
}

async function main(): Promise<void> {
  log(`steps ${STEPS.join(', ')}; ${PODS_PER_NODE} pods per node; hold ${HOLD_MS / 1000} s; timeout ${flags.timeout} s`);
  let etcd: EtcdInstance | undefined;
  let api: ApiServerInstance | undefined;
  const components: ReturnType<typeof startComponent>[] = [];
  let runner: Runner | undefined;
  const results: StepResult[] = [];
  let client: RestClient | undefined;
  let informers: SharedInformerFactory[] = [];
  let profiler: PhaseProfiler | undefined;
  try {
    etcd = await startEtcd({ startTimeoutMs: 30_000 });
    api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction'] });
    components.push(
      startComponent('scheduler', 'packages/scheduler/src/main.ts', [
        `--kubeconfig=${api.kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--kube-api-qps=500', '--kube-api-burst=1000',
      ]),
      startComponent('controller-manager', 'packages/controller-manager/src/main.ts', [
        `--kubeconfig=${api.kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--allocate-node-cidrs', '--cluster-cidr=10.128.0.0/9',
        '--node-cidr-mask-size=24',
      ]),
    );
    const inspectPort = flags['runner-profile'] ? await freePort() : undefined;
    runner = new Runner(api, inspectPort);
    await runner.started();
    profiler = inspectPort ? await PhaseProfiler.connect(inspectPort, flags['runner-profile']!) : undefined;
    const base = await runner.stats();
    log(`control plane up; runner with 0 nodes: ${Math.round(base.rssBytes / 2 ** 20)} MB RSS`);

    client = new RestClient({ ...loadKubeconfig(api.kubeconfig), qps: 0, userAgent: 'bench-kubelet-density' });
    await client.resource(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } as KubeObject);

    // What the watches see: nodes (Ready), pods (Running), Leases (renewals).
    const nodesReady = new Set<string>();
    const everReady = new Set<string>();
    let notReadyTransitions: string[] = [];
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const scheduled = new Map<string, number>();
    const podNode = new Map<string, string>();
    const leaseSeen = new Map<string, number>();
    let leaseGaps: number[] = [];
    /** Every gap of the step (pods starting included): the longest shows whether a kubelet missed its renewals. */
    let stepLeaseGaps: number[] = [];
    /** The gaps between the renewTimes the kubelets wrote (their side only: a watch that lags does not count). */
    let stepRenewTimeGaps: number[] = [];
    const renewTimes = new Map<string, number>();
    const clusterInformers = new SharedInformerFactory(client);
    const podInformers = new SharedInformerFactory(client, { namespace: NAMESPACE });
    const leaseInformers = new SharedInformerFactory(client, { namespace: 'kube-node-lease' });
    informers = [clusterInformers, podInformers, leaseInformers];
    const onNode = (n: KubeObject & Node) => {
      const name = n.metadata.name!;
      const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      if (ready) {
        nodesReady.add(name);
        everReady.add(name);
      } else {
        if (everReady.has(name) && nodesReady.has(name)) notReadyTransitions.push(name);
        nodesReady.delete(name);
      }
    };
    clusterInformers.forResource<KubeObject & Node>(NODES, { labelSelector: 'kubelab.io/hollow=true' }).addEventHandler({ onAdd: onNode, onUpdate: (_o, n) => onNode(n) });
    const onPod = (p: KubeObject & Pod) => {
      const name = p.metadata.name!;
      if (p.spec?.nodeName && !podNode.has(name)) {
        podNode.set(name, p.spec.nodeName);
        scheduled.set(name, performance.now());
      }
      if (p.status?.phase === 'Running' && !running.has(name)) running.set(name, performance.now());
    };
    podInformers.forResource<KubeObject & Pod>(PODS).addEventHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p) });
    const onLease = (l: KubeObject & Lease) => {
      const name = l.metadata.name!;
      const now = performance.now();
      const last = leaseSeen.get(name);
      if (last !== undefined) {
        leaseGaps.push(now - last);
        stepLeaseGaps.push(now - last);
      }
      leaseSeen.set(name, now);
      const renewed = l.spec?.renewTime ? Date.parse(l.spec.renewTime) : Number.NaN;
      const prevRenewed = renewTimes.get(name);
      if (prevRenewed !== undefined && Number.isFinite(renewed)) stepRenewTimeGaps.push(renewed - prevRenewed);
      if (Number.isFinite(renewed)) renewTimes.set(name, renewed);
    };
    leaseInformers.forResource<KubeObject & Lease>(LEASES).addEventHandler({ onAdd: onLease, onUpdate: (o, l) => o.spec?.renewTime !== l.spec?.renewTime && onLease(l) });
    for (const f of informers) f.start();
    for (const f of informers) await f.waitForCacheSync();

    const processes = () =>
      new Map<string, number>([
        ['etcd', etcd!.pid], ['apiserver', api!.pid], ...components.map((c) => [c.name, c.child.pid!] as [string, number]), ['runner', runner!.child.pid!],
      ]);
    let podsMade = 0;
    for (const target of STEPS) {
      if (remaining() <= 0) break;
      log(`step ${target} nodes: starting ${target - (results.at(-1)?.nodes ?? 0)} more`);
      notReadyTransitions = [];
      stepLeaseGaps = [];
      stepRenewTimeGaps = [];
      const t0 = performance.now();
      const scaled = await runner.scale(target, Math.max(1000, remaining()));
      if (scaled.error) throw new Error(`the runner could not start the nodes: ${scaled.error}`);
      const tStarted = performance.now();
      const allReady = await waitFor(`${target} nodes Ready`, () => nodesReady.size >= target, 5 * 60_000);
      const tReady = performance.now();

      // The step's pods: --pods-per-node for each new node, created as fast as --create-concurrency allows.
      const want = target * PODS_PER_NODE;
      const c0: CpuSample = sampleCpu(processes());
      const mStart = await requestCounts(api);
      const lStart = await latencyBuckets(api, 'UPDATE', 'leases');
      const names: string[] = [];
      let createErrors = 0;
      for (let i = podsMade; i < want; i++) names.push(`density-${i}`);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CREATE_CONCURRENCY, names.length) }, async () => {
          while (next < names.length && remaining() > 0) {
            const name = names[next++]!;
            created.set(name, performance.now());
            // A create the apiserver could not store (503, etcd timing out under load) is retried, as a controller would.
            for (let attempt = 1; attempt <= 5; attempt++) {
              const err = await client!.resource(PODS, NAMESPACE).create(densityPod(name)).then(() => undefined, (e: Error) => e);
              if (!err || isAlreadyExists(err)) break;
              createErrors++;
              if (attempt === 5 || remaining() <= 0) {
                log(`create ${name}: ${err.message}`);
                break;
              }
              await sleep(1000 * attempt);
            }
          }
        }),
      );
      podsMade = want;
      const tCreated = performance.now();
      const allRunning = await waitFor(`${want} pods Running`, () => running.size >= want, 5 * 60_000);
      const tRunning = performance.now();
      const c1 = sampleCpu(processes());
      const mRunning = await requestCounts(api);
      const lRunning = await latencyBuckets(api, 'UPDATE', 'leases');

      // The hold: every node stays Ready.
      leaseGaps = [];
      const m0 = await requestCounts(api);
      const plannedHoldEnd = Date.now() + HOLD_MS;
      const holdEnd = Math.min(plannedHoldEnd, DEADLINE);
      const hold = async () => {
        while (Date.now() < holdEnd && notReadyTransitions.length === 0) await sleep(500);
      };
      if (profiler) {
        const p = await profiler.phase(`runner-hold-${target}`, hold);
        log(formatSummary(`hollow-node runner, hold of step ${target}`, p.file, p.summary));
      } else await hold();
      const c2 = sampleCpu(processes());
      const m1 = await requestCounts(api);
      const stats = await runner.stats();
      const perNode = new Map<string, number>();
      for (const n of podNode.values()) perNode.set(n, (perNode.get(n) ?? 0) + 1);
      const span = (from: Map<string, number>, to: Map<string, number>) => names.flatMap((n) => (from.has(n) && to.has(n) ? [to.get(n)! - from.get(n)!] : []));
      const rss: Record<string, number> = {};
      for (const [name, pid] of processes()) rss[name] = rssMB(pid);
      const heldFull = holdEnd === plannedHoldEnd;
      // Nodes that left Ready fail a step whatever else happened; otherwise a step cut short by --timeout is inconclusive.
      const timedOut = remaining() <= 0 && notReadyTransitions.length === 0;
      const why = timedOut
        ? `--timeout ran out before the step finished (${nodesReady.size}/${target} nodes Ready, ${running.size}/${want} pods Running): not a density limit`
        : !allReady
          ? `only ${nodesReady.size} of ${target} nodes Ready`
          : !allRunning
            ? `only ${running.size} of ${want} pods Running`
            : notReadyTransitions.length
              ? `${notReadyTransitions.length} node(s) left Ready: ${[...new Set(notReadyTransitions)].slice(0, 5).join(', ')}`
              : nodesReady.size < target
                ? `${target - nodesReady.size} node(s) not Ready at the end`
                : !heldFull
                  ? 'the run timed out during the hold'
                  : undefined;
      const r: StepResult = {
        nodes: target,
        held: !why,
        timedOut,
        why,
        nodesReady: nodesReady.size,
        podsRunning: running.size,
        podsExpected: want,
        nodesNotReady: [...new Set(notReadyTransitions)],
        nodesStartS: Number(((tStarted - t0) / 1000).toFixed(1)),
        nodesReadyS: Number(((tReady - t0) / 1000).toFixed(1)),
        podsCreateS: Number(((tCreated - tReady) / 1000).toFixed(1)),
        createErrors,
        podsRunningS: Number(((tRunning - tReady) / 1000).toFixed(1)),
        podStartupMs: summarize(span(created, running)),
        podScheduleMs: summarize(span(created, scheduled)),
        podScheduledToRunningMs: summarize(span(scheduled, running)),
        podsPerNode: { min: Math.min(...perNode.values()), max: Math.max(...perNode.values()) },
        leaseRenewGapMs: summarize(leaseGaps),
        stepLeaseRenewGapMs: summarize(stepLeaseGaps),
        stepRenewTimeGapMs: summarize(stepRenewTimeGaps),
        rssMB: rss,
        runnerRssPerNodeMB: Number(((stats.rssBytes - base.rssBytes) / 2 ** 20 / target).toFixed(2)),
        runnerHeapMB: Math.round(stats.heapUsedBytes / 2 ** 20),
        runnerEventLoopDelayMs: stats.eventLoopDelayMs,
        coresStarting: cpuBetween(c0, c1).cores,
        coresHold: cpuBetween(c1, c2).cores,
        cpuMsPerPod: perUnit(cpuBetween(c0, c1).cpuMs, names.length),
        holdCpuMsPerNodeSecond: perUnit(cpuBetween(c1, c2).cpuMs, (target * (c2.at - c1.at)) / 1000),
        holdRequestsPerNodeMinute: requestRates(m0, m1, (target * (c2.at - c1.at)) / 60_000),
        requestsPerPodStarted: requestRates(mStart, mRunning, names.length),
        leaseUpdateLatencyStartingMs: { p50: bucketPercentile(lStart, lRunning, 0.5), p99: bucketPercentile(lStart, lRunning, 0.99) },
      };
      results.push(r);
      log(
        `step ${target}: ${r.held ? 'HELD' : `NOT HELD (${r.why})`}; nodes Ready ${r.nodesReady}/${target} in ${r.nodesReadyS} s; ` +
          `pods created in ${r.podsCreateS} s (${r.createErrors} failed creates retried), Running ${r.podsRunning}/${want} in ${r.podsRunningS} s (startup p50 ${r.podStartupMs.p50} ms, p99 ${r.podStartupMs.p99} ms; ` +
          `to scheduled p50/p99 ${r.podScheduleMs.p50}/${r.podScheduleMs.p99} ms, scheduled to Running ${r.podScheduledToRunningMs.p50}/${r.podScheduledToRunningMs.p99} ms); ` +
          `cores while starting ${JSON.stringify(r.coresStarting)}, CPU ms per pod ${JSON.stringify(r.cpuMsPerPod)}, ` +
          `requests per pod ${JSON.stringify(r.requestsPerPodStarted)}, apiserver Lease update latency p50/p99 <= ${r.leaseUpdateLatencyStartingMs.p50}/${r.leaseUpdateLatencyStartingMs.p99} ms; ` +
          `lease gaps p99 ${r.leaseRenewGapMs.p99} ms max ${r.leaseRenewGapMs.max} ms (whole step: p99 ${r.stepLeaseRenewGapMs.p99} max ${r.stepLeaseRenewGapMs.max}; by renewTime p99 ${r.stepRenewTimeGapMs.p99} max ${r.stepRenewTimeGapMs.max}); runner ${r.rssMB.runner} MB (${r.runnerRssPerNodeMB} MB/node), ` +
          `event loop p99 ${r.runnerEventLoopDelayMs.p99} ms; cores in hold ${JSON.stringify(r.coresHold)}, CPU ms per node-second ${JSON.stringify(r.holdCpuMsPerNodeSecond)}, ` +
          `requests per node-minute ${JSON.stringify(r.holdRequestsPerNodeMinute)}`,
      );
      if (!r.held) break;
    }
  } finally {
    profiler?.close();
    for (const f of informers) await f.shutdown().catch(() => undefined);
    client?.close();
    if (runner) await stopProcess(runner.child, 60_000);
    for (const c of components) await stopProcess(c.child, 30_000);
    await api?.stop();
    await etcd?.stop();
  }
  print(results);
}

const COMPONENTS = ['apiserver', 'etcd', 'runner', 'scheduler', 'controller-manager'];

function print(results: StepResult[]): void {
  const held = results.filter((r) => r.held).at(-1);
  const rows = [
    ['nodes', 'held', 'ready', 'pods running', 'startup p50/p99 ms', 'pods/node', 'lease gap p50/p99/max ms', 'runner MB (/node)', 'loop p99 ms', 'etcd MB', 'apiserver MB', 'cores (hold): apiserver etcd runner sched kcm', 'CPU ms/pod started: same', 'hold CPU ms/node/s: same'],
    ...results.map((r) => [
      String(r.nodes), r.held ? 'yes' : 'NO', `${r.nodesReady}`, `${r.podsRunning}/${r.podsExpected}`, `${r.podStartupMs.p50}/${r.podStartupMs.p99}`,
      `${r.podsPerNode.min}-${r.podsPerNode.max}`, `${r.leaseRenewGapMs.p50}/${r.leaseRenewGapMs.p99}/${r.leaseRenewGapMs.max}`,
      `${r.rssMB.runner} (${r.runnerRssPerNodeMB})`, String(r.runnerEventLoopDelayMs.p99), String(r.rssMB.etcd), String(r.rssMB.apiserver),
      COMPONENTS.map((n) => r.coresHold[n] ?? '-').join(' '),
      COMPONENTS.map((n) => r.cpuMsPerPod[n] ?? '-').join(' '),
      COMPONENTS.map((n) => r.holdCpuMsPerNodeSecond[n] ?? '-').join(' '),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(held ? `\nLargest step that held: ${held.nodes} hollow nodes with ${held.podsExpected} pods (${PODS_PER_NODE} per node).` : '\nNo step held.');
  const failed = results.find((r) => !r.held);
  if (failed) console.log(`${failed.timedOut ? 'Stopped by --timeout at' : 'First step that did not hold:'} ${failed.nodes} nodes: ${failed.why}.`);
  if (flags.json) console.log(JSON.stringify({ podsPerNode: PODS_PER_NODE, holdSeconds: HOLD_MS / 1000, leaseRenewMs: LEASE_RENEW_MS, steps: results }, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
