// npm run bench:kubelet — pod startup latency on real nodes, as upstream's density test and perf-tests'
// pod_startup_latency measure it: a pod is created, and its latency ends when a watch sees it Running
// (the image is present). The bench starts a lab of its own (test/fixtures/lab.ts: `hack/lab up --nodes 2`
// with its own state dir, node names bk<pid>-N, addresses 172.30.0.71.. and pod network 10.244.160.0/19;
// no cluster DNS unless --dns), then runs --pods busybox pods spread over the nodes: first one by one (each
// created once the previous one runs, and deleted once the previous one is gone), then all at once
// (created together, deleted together). Per pod a watch records create -> scheduled (spec.nodeName) ->
// the kubelet's first status (startTime) -> its Pulled and Started events -> Running, and on deletion
// its Killing event, its containers terminated and the pod gone (bench/kubelet/pods.ts). Reported:
// p50/p90/p99/max of create -> Running, of scheduled -> Running (the kubelet's share) and of the steps
// between, the kubelets' own timeline of each start (their "Observed pod startup duration" log lines:
// volumes, sandbox, image, container create/start, status; bench/kubelet/kubelet-log.ts), the time until
// all are gone, and the CPU the lab's processes used meanwhile. Baseline in the same run: the node's
// containerd alone starting and stopping the same sandbox + container through the same CRI calls
// (bench/kubelet/cri-baseline.ts), one at a time (first) and as many at once (just before the kubelets'
// all-at-once phase, the machine being about as busy), so the kubelet's overhead is a ratio. Goal: p99
// create -> Running < 2 s (upstream's SLO: 5 s). The lab is always taken down (hack/lab down), also on an
// error or SIGINT/SIGTERM; --keep-logs DIR keeps its logs. Numbers are for reading, not asserting: the
// machine is shared.
import { cpSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { type Lab, startLab } from '../test/fixtures/lab.js';
import { until } from '../test/fixtures/wait.js';
import { CriBaseline, type CriRun, type CriStop } from './kubelet/cri-baseline.js';
import { type CpuSample, cpuBetween, labProcesses, sampleCpu } from './kubelet/cpu.js';
import { kubeletSpans, readKubeletStartups } from './kubelet/kubelet-log.js';
import { benchPod, PODS, PodTracker, type PodTimes, spans, type Summary, summarize } from './kubelet/pods.js';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    pods: { type: 'string', default: '30' },
    baseline: { type: 'string', default: '6' },
    'phase-timeout': { type: 'string', default: '180' },
    'keep-logs': { type: 'string' },
    dns: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const NODES = Math.max(1, Number(flags.nodes));
const PODS_N = Math.max(1, Number(flags.pods));
const BASELINE_N = Math.max(1, Number(flags.baseline));
const PHASE_TIMEOUT_MS = Number(flags['phase-timeout']) * 1000;
const GOAL_MS = 2000;
const NAMESPACE = 'bench-kubelet';
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const SERVICE_ACCOUNTS = findResource('', 'v1', 'serviceaccounts')!;
const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

const log = (m: string) => !flags.json && console.log(m);
const since = (t0: number) => Math.round(performance.now() - t0);

const abort = new AbortController();
let signalled = '';
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    signalled = sig;
    console.error(`\n${sig}: stopping; the lab is being taken down (a second ${sig} leaves it running: then run hack/lab down with its KUBELAB_STATE)`);
    abort.abort();
  });
}
const checkAbort = () => {
  if (abort.signal.aborted) throw new Error(`interrupted (${signalled})`);
};

/**
 * The spans reported per phase, [from, to] over PodTimes. The event marks are when this process's watch saw
 * the kubelet's event, so they include the kubelet's (asynchronous) event writing.
 */
const SPANS = {
  createToRunning: ['createSent', 'running', 'create -> Running (watch)'],
  createRequest: ['createSent', 'created', '  the create request'],
  createToScheduled: ['createSent', 'scheduled', '  create -> scheduled'],
  scheduledToRunning: ['scheduled', 'running', "  scheduled -> Running (the kubelet's share)"],
  scheduledToKubelet: ['scheduled', 'kubeletSeen', "    scheduled -> kubelet's first status"],
  kubeletToPulled: ['kubeletSeen', 'pulled', '    -> Pulled event (volumes, sandbox, image check)'],
  pulledToStarted: ['pulled', 'containerStarted', '    -> Started event (create, start container)'],
  startedToRunning: ['containerStarted', 'running', '    -> Running (status written, watch)'],
  deleteToGone: ['deleteSent', 'gone', '  delete -> gone (watch)'],
  deleteToKilling: ['deleteSent', 'killing', '    delete -> Killing event'],
  killingToStopped: ['killing', 'stopped', '    -> containers terminated (status)'],
  stoppedToGone: ['stopped', 'gone', '    -> gone (sandbox stopped, pod deleted)'],
} as const satisfies Record<string, readonly [keyof PodTimes, keyof PodTimes, string]>;
type SpanName = keyof typeof SPANS;

interface PhaseResult {
  pods: PodTimes[];
  spans: Record<SpanName, Summary>;
  /** From the first delete sent until the watch saw the last pod gone. */
  allGoneMs: number;
  /** From the first create sent until the watch saw the last pod Running. */
  allRunningMs: number;
  perNode: Record<string, number>;
  /** The lab's processes' CPU while the pods started, and while they were deleted. */
  cpuStart: CpuUse;
  cpuDelete: CpuUse;
}

type CpuUse = ReturnType<typeof cpuBetween>;
/** Samples the lab's processes' CPU time (set once the lab is up). */
let sampleLab: () => CpuSample = () => ({ at: performance.now(), ms: new Map() });

function stuck(pods: PodTimes[], field: 'running' | 'gone'): string {
  const left = pods.filter((p) => p[field] === undefined);
  return `${left.length} left: ${left
    .slice(0, 10)
    .map((p) => `${p.name} (node ${p.node ?? '-'}, phase ${p.lastPhase ?? '-'})`)
    .join(', ')}`;
}

/** Deletes the pods (all at once, or each once the previous one is gone); resolves with the time until the watch saw the last one gone. */
async function deletePods(client: RestClient, tracker: PodTracker, pods: PodTimes[], what: string, oneAtATime: boolean): Promise<number> {
  const api = client.resource<KubeObject & Pod>(PODS, NAMESPACE);
  const remove = async (p: PodTimes) => {
    p.deleteSent = performance.now();
    await api.delete(p.name);
  };
  const t0 = performance.now();
  if (oneAtATime) {
    for (const p of pods) {
      checkAbort();
      await remove(p);
      await tracker.waitFor(`${p.name} to be gone`, () => p.gone !== undefined, PHASE_TIMEOUT_MS, () => stuck([p], 'gone'));
    }
  } else {
    await Promise.all(pods.map(remove));
    await tracker.waitFor(`${what} pods to be gone`, () => pods.every((p) => p.gone !== undefined), PHASE_TIMEOUT_MS, () => stuck(pods, 'gone'));
  }
  return since(t0);
}

function phaseResult(pods: PodTimes[], allRunningMs: number, allGoneMs: number, [c0, c1, c2]: CpuSample[]): PhaseResult {
  const perNode: Record<string, number> = {};
  for (const p of pods) perNode[p.node ?? '-'] = (perNode[p.node ?? '-'] ?? 0) + 1;
  const out = Object.fromEntries(Object.entries(SPANS).map(([name, [from, to]]) => [name, summarize(spans(pods, from, to))]));
  return { pods, spans: out as Record<SpanName, Summary>, allGoneMs, allRunningMs, perNode, cpuStart: cpuBetween(c0!, c1!), cpuDelete: cpuBetween(c1!, c2!) };
}

/** Each pod created once the previous one was seen Running (upstream density's latency pods); deleted the same way. */
async function oneByOne(client: RestClient, tracker: PodTracker, phase: string, n: number): Promise<PhaseResult> {
  const api = client.resource<KubeObject & Pod>(PODS, NAMESPACE);
  const pods: PodTimes[] = [];
  const c0 = sampleLab();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    checkAbort();
    const name = `${phase}-${i}`;
    const t = tracker.times(name, phase);
    pods.push(t);
    t.createSent = performance.now();
    await api.create(benchPod(NAMESPACE, name, phase));
    t.created = performance.now();
    await tracker.waitFor(`${name} to run`, () => t.running !== undefined, PHASE_TIMEOUT_MS, () => stuck([t], 'running'));
  }
  const allRunningMs = since(t0);
  const c1 = sampleLab();
  const allGoneMs = await deletePods(client, tracker, pods, phase, true);
  return phaseResult(pods, allRunningMs, allGoneMs, [c0, c1, sampleLab()]);
}

/** Every pod created at once (the client's rate limit is off), then all waited for; deleted all at once. */
async function allAtOnce(client: RestClient, tracker: PodTracker, phase: string, n: number): Promise<PhaseResult> {
  const api = client.resource<KubeObject & Pod>(PODS, NAMESPACE);
  const pods = Array.from({ length: n }, (_, i) => tracker.times(`${phase}-${i}`, phase));
  const c0 = sampleLab();
  const t0 = performance.now();
  await Promise.all(
    pods.map(async (t) => {
      t.createSent = performance.now();
      await api.create(benchPod(NAMESPACE, t.name, phase));
      t.created = performance.now();
    }),
  );
  await tracker.waitFor(`${phase} pods to run`, () => pods.every((p) => p.running !== undefined), PHASE_TIMEOUT_MS, () => stuck(pods, 'running'));
  const allRunningMs = since(t0);
  const c1 = sampleLab();
  const allGoneMs = await deletePods(client, tracker, pods, phase, false);
  return phaseResult(pods, allRunningMs, allGoneMs, [c0, c1, sampleLab()]);
}

interface Baseline {
  sequential: CriRun[];
  sequentialStop: CriStop[];
  burst: CriRun[];
  burstStop: CriStop[];
  burstWallMs: number;
  burstStopWallMs: number;
}

/**
 * The runtime alone: --baseline pods one at a time (started, then stopped one at a time), or --pods at once
 * (run just before the kubelets' all-at-once phase, so that both see the machine in about the same state).
 */
async function criBaseline(nodes: string[], part: 'sequential' | 'burst'): Promise<Partial<Baseline>> {
  const cri = new CriBaseline();
  try {
    if (part === 'sequential') {
      const sequential: CriRun[] = [];
      for (let i = 0; i < BASELINE_N; i++) {
        checkAbort();
        sequential.push(await cri.runOne(nodes[i % nodes.length]!, `cri-seq-${i}`));
      }
      return { sequential, sequentialStop: await cri.stopAll(true) };
    }
    let t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: PODS_N }, (_, i) => cri.runOne(nodes[i % nodes.length]!, `cri-burst-${i}`)));
    const burstWallMs = since(t0);
    t0 = performance.now();
    const burstStop = await cri.stopAll(false);
    const burstStopWallMs = since(t0);
    return { burst, burstStop, burstWallMs, burstStopWallMs };
  } finally {
    await cri.cleanup();
    cri.close();
  }
}

async function main(): Promise<void> {
  let lab: Lab | undefined;
  let tracker: PodTracker | undefined;
  const watchAbort = new AbortController();
  abort.signal.addEventListener('abort', () => watchAbort.abort(), { once: true });
  let client: RestClient | undefined;
  try {
    if (!flags.dns) process.env.KUBELAB_CLUSTER_DNS = '';
    const prefix = `bk${process.pid % 100}-`;
    log(`starting a lab: hack/lab up --nodes ${NODES} (nodes ${prefix}1.., 172.30.0.71.., pod network 10.244.160.0/19${flags.dns ? '' : ', no cluster DNS'}) ...`);
    let t0 = performance.now();
    lab = await startLab({ prefix, indexBase: 60, clusterCIDR: '10.244.160.0/19', nodes: NODES });
    const labUpMs = since(t0);
    log(`lab up in ${(labUpMs / 1000).toFixed(1)} s (state ${lab.state})`);
    checkAbort();
    const processes = labProcesses(lab.state, lab.nodes);
    sampleLab = () => sampleCpu(processes);
    const loadBefore = loadavg()[0]!;

    // No client-side rate limit: "all at once" means all at once.
    client = new RestClient({ ...loadKubeconfig(lab.kubeconfig), qps: 0, userAgent: 'bench-kubelet' });
    const c = client;
    await c.resource(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    // Pods need the namespace's default ServiceAccount (admission) and kube-root-ca.crt (their token volume).
    await until('the default ServiceAccount and kube-root-ca.crt', async () => {
      await c.resource(SERVICE_ACCOUNTS, NAMESPACE).get('default');
      await c.resource(CONFIGMAPS, NAMESPACE).get('kube-root-ca.crt');
      return true;
    }, 60_000);
    tracker = new PodTracker(c, NAMESPACE, watchAbort.signal);
    await tracker.start();

    log(`CRI baseline: ${BASELINE_N} sandbox+container one at a time, on the nodes' containerd ...`);
    const criSequential = await criBaseline(lab.nodes, 'sequential');

    log(`warm-up: one pod per node ...`);
    t0 = performance.now();
    const warmup = await allAtOnce(c, tracker, 'warmup', lab.nodes.length);
    log(`  done in ${since(t0)} ms`);
    log(`${PODS_N} pods one by one ...`);
    const sequential = await oneByOne(c, tracker, 'seq', PODS_N);
    checkAbort();
    log(`CRI baseline: ${PODS_N} sandbox+container at once, on the nodes' containerd ...`);
    const loadBurst = loadavg()[0]!;
    const baseline = { ...criSequential, ...(await criBaseline(lab.nodes, 'burst')) } as Baseline;
    log(`${PODS_N} pods all at once ...`);
    const burst = await allAtOnce(c, tracker, 'burst', PODS_N);
    // The kubelets' own timeline of each start (their pod startup latency tracker's log lines).
    const startups = readKubeletStartups(lab.state, lab.nodes);
    const kubeletView = { oneByOne: kubeletSpans(startups, NAMESPACE, 'seq-'), allAtOnce: kubeletSpans(startups, NAMESPACE, 'burst-') };

    const criSeq = summarize(baseline.sequential.map((r) => r.totalMs));
    const criSeqSandbox = summarize(baseline.sequential.map((r) => r.sandboxMs));
    const criBurst = summarize(baseline.burst.map((r) => r.totalMs));
    const criSeqStop = summarize(baseline.sequentialStop.map((r) => r.totalMs));
    const criSeqStopContainer = summarize(baseline.sequentialStop.map((r) => r.stopContainerMs));
    const criBurstStop = summarize(baseline.burstStop.map((r) => r.totalMs));
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    const result = {
      bench: 'kubelet',
      nodes: lab.nodes.length,
      pods: PODS_N,
      labUpMs,
      baseline: {
        sequential: criSeq,
        sequentialSandbox: criSeqSandbox,
        burst: criBurst,
        burstWallMs: baseline.burstWallMs,
        sequentialStop: criSeqStop,
        sequentialStopContainer: criSeqStopContainer,
        burstStop: criBurstStop,
        burstStopWallMs: baseline.burstStopWallMs,
      },
      warmup: { createToRunning: warmup.spans.createToRunning },
      oneByOne: omitPods(sequential),
      allAtOnce: omitPods(burst),
      kubeletView: Object.fromEntries(Object.entries(kubeletView).map(([k, v]) => [k, Object.fromEntries(v.map((s) => [s.label.trim(), s.summary]))])),
      ratios: {
        oneByOneKubeletShareOverCri: ratio(sequential.spans.scheduledToRunning.p50, criSeq.p50),
        allAtOnceKubeletShareOverCri: ratio(burst.spans.scheduledToRunning.p50, criBurst.p50),
        allAtOnceKubeletShareOverCriP99: ratio(burst.spans.scheduledToRunning.p99, criBurst.p99),
        oneByOneDeleteOverCri: ratio(sequential.spans.deleteToGone.p50, criSeqStop.p50),
        allAtOnceDeleteOverCri: ratio(burst.spans.deleteToGone.p50, criBurstStop.p50),
      },
      loadAverage1m: { before: Number(loadBefore.toFixed(2)), beforeBursts: Number(loadBurst.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) },
      cores: cpus().length,
      goalMs: GOAL_MS,
      pass: burst.spans.createToRunning.p99 < GOAL_MS && sequential.spans.createToRunning.p99 < GOAL_MS,
    };
    if (flags.json) {
      console.log(JSON.stringify(result));
      return;
    }
    const cols = (s: Summary) => [s.n, s.p50, s.p90, s.p99, s.max].map((x) => String(x).padStart(7)).join('');
    const row = (label: string, s: Summary) => console.log(`${label.padEnd(60)}${cols(s)}`);
    console.log('');
    console.log(`${'latency (ms)'.padEnd(60)}${['n', 'p50', 'p90', 'p99', 'max'].map((h) => h.padStart(7)).join('')}`);
    row('CRI baseline, one at a time: sandbox + container', criSeq);
    row('  of which RunPodSandbox', criSeqSandbox);
    row('  stop container (grace 30 s) + stop/remove sandbox', criSeqStop);
    row('    of which StopContainer', criSeqStopContainer);
    row(`CRI baseline, ${PODS_N} at once: sandbox + container`, criBurst);
    row('  stop container + stop/remove sandbox, all at once', criBurstStop);
    row('warm-up (first pod per node): create -> Running', warmup.spans.createToRunning);
    for (const [label, r] of [['one by one', sequential], ['all at once', burst]] as const) {
      for (const [name, [, , text]] of Object.entries(SPANS)) {
        row(name === 'createToRunning' ? `pods ${label}: ${text}` : text, r.spans[name as SpanName]);
      }
    }
    for (const [label, spans] of [['one by one', kubeletView.oneByOne], ['all at once', kubeletView.allAtOnce]] as const) {
      // A kubelet without the pod startup latency tracker logs none.
      if (spans.every((s) => s.summary.n === 0)) continue;
      console.log(`the kubelets' own timeline, ${label} (their clock, from their log):`);
      for (const s of spans) row(`  ${s.label}`, s.summary);
    }
    console.log('');
    const nodesOf = (r: PhaseResult) => Object.entries(r.perNode).map(([n, k]) => `${n}: ${k}`).join(', ');
    console.log(`pods per node: one by one ${nodesOf(sequential)}; all at once ${nodesOf(burst)}`);
    console.log(`all at once: all ${PODS_N} Running ${burst.allRunningMs} ms after the first create (CRI alone: ${baseline.burstWallMs} ms); all gone ${burst.allGoneMs} ms after the first delete (CRI alone: ${baseline.burstStopWallMs} ms)`);
    console.log(`one by one: ${sequential.allRunningMs} ms to run ${PODS_N} pods, ${sequential.allGoneMs} ms to delete them`);
    console.log(
      `kubelet's share / CRI alone (p50): start one by one ${result.ratios.oneByOneKubeletShareOverCri}x, all at once ${result.ratios.allAtOnceKubeletShareOverCri}x (p99 ${result.ratios.allAtOnceKubeletShareOverCriP99}x); ` +
        `delete one by one ${result.ratios.oneByOneDeleteOverCri}x, all at once ${result.ratios.allAtOnceDeleteOverCri}x`,
    );
    console.log('');
    const names = Object.keys(burst.cpuStart.cpuMs).sort();
    const use = (u: CpuUse, n: string) => `${String(u.cpuMs[n] ?? '-').padStart(8)} ms ${`(${(u.cores[n] ?? 0).toFixed(2)})`.padStart(7)}`;
    console.log(`CPU of the lab's processes, ms (cores) ${'one by one: start'.padStart(22)}${'all at once: start'.padStart(22)}${'all at once: delete'.padStart(22)}`);
    for (const n of names) console.log(`  ${n.padEnd(38)}${use(sequential.cpuStart, n).padStart(22)}${use(burst.cpuStart, n).padStart(22)}${use(burst.cpuDelete, n).padStart(22)}`);
    console.log(
      `  ${'(wall time)'.padEnd(38)}${`${sequential.cpuStart.wallMs} ms`.padStart(22)}${`${burst.cpuStart.wallMs} ms`.padStart(22)}${`${burst.cpuDelete.wallMs} ms`.padStart(22)}`,
    );
    console.log(
      `machine: ${cpus().length} cores, load average (1 min) ${result.loadAverage1m.before} before, ${result.loadAverage1m.beforeBursts} before the bursts, ${result.loadAverage1m.after} after`,
    );
    console.log(
      `goal p99 create -> Running < ${GOAL_MS} ms: one by one ${sequential.spans.createToRunning.p99} ms, all at once ${burst.spans.createToRunning.p99} ms: ${result.pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    watchAbort.abort();
    await tracker?.stop().catch(() => undefined);
    client?.close();
    if (lab) {
      if (flags['keep-logs']) {
        mkdirSync(flags['keep-logs'], { recursive: true });
        cpSync(join(lab.state, 'logs'), flags['keep-logs'], { recursive: true });
        log(`lab logs copied to ${flags['keep-logs']}`);
      }
      log('taking the lab down (hack/lab down) ...');
      await lab.down();
    }
  }
}

function omitPods(r: PhaseResult): Omit<PhaseResult, 'pods'> {
  const { pods: _pods, ...rest } = r;
  return rest;
}

try {
  await main();
} catch (err) {
  console.error(`bench:kubelet failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
if (signalled) process.exitCode = 130;
