// npm run bench:watch — watch fan-out from a real apiserver (and etcd), measured from separate processes:
// the apiserver runs as test/fixtures/apiserver.ts starts it (as bench:apiserver does), RECEIVERS receiver
// processes (bench/watch-fanout/receiver.ts) hold the watch connections and count events by scanning for
// newlines and a stamp (no JSON parse), and a writer process (bench/watch-fanout/writer.ts) writes at a
// fixed rate, stamping each object with its send time. Scenarios:
//  (a) kubelet-like: --watchers watches of all pods with fieldSelector=spec.nodeName=node-i, pods created
//      across the nodes at --rate/s for --seconds: delivery p50/p99; every pod delivered exactly once, to
//      exactly its node's watcher (checked).
//  (b) kube-proxy-like broadcast: --broadcast-watchers watches of all EndpointSlices, --slice-rate updates/s:
//      delivery p50/p99, every update delivered exactly once to every watcher (checked).
//  (c) (a) again with large pods and --slow-watchers watches of all pods that stop reading: the apiserver
//      cuts them off (the response ends once they read again, short of the events written) and the node
//      watchers' latency is unaffected (compared with c0: the same large pods, no slow watchers); the
//      apiserver's RSS before and after each scenario.
// Each scenario also splits the delivery latency: from the commit (when the bench's own etcd watch saw the
// revision: upstream's watch latency SLI starts at the commit, leaving the write path out), the write's
// round trip, the apiserver's stage histograms (etcd transaction, commit -> watch cache -> written to the
// watcher's response; storage/watch-latency.ts) and event-loop delay from its /metrics, and each event's
// arrival after the writer's answer.
// --profile: a CPU profile of the apiserver per scenario (a.cpuprofile, b.cpuprofile, c.cpuprofile in a
// temporary directory or --profile-dir) with its top self-time functions printed after the table.
// Bounded: fixed counts, every wait has a timeout and the run a deadline; everything talks to 127.0.0.1.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEtcd } from '../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../test/fixtures/apiserver.js';
import { PhaseProfiler, formatSummary, inspectOption } from './apiserver-profile.js';
import { freePort } from '../test/fixtures/ports.js';
import { stopProcess } from '../test/fixtures/processes.js';
import type { Connection, FromReceiver, FromWriter, ToReceiver, ToWriter, WatchResult, WatchSpec } from './watch-fanout/protocol.js';
import { gauge, stageBreakdown } from './watch-fanout/stages.js';
import { CommitObserver } from './watch-fanout/commits.js';

const { values: flags } = parseArgs({
  options: {
    watchers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    'broadcast-watchers': { type: 'string', default: '500' },
    'slice-rate': { type: 'string', default: '20' },
    slices: { type: 'string', default: '50' },
    'slow-watchers': { type: 'string', default: '2' },
    'slow-pad-bytes': { type: 'string', default: '16384' },
    receivers: { type: 'string', default: '4' },
    scenarios: { type: 'string', default: 'a,b,c0,c' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
  },
});
const WATCHERS = Number(flags.watchers);
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const BROADCAST = Number(flags['broadcast-watchers']);
const SLICE_RATE = Number(flags['slice-rate']);
const SLICES = Number(flags.slices);
const SLOW = Number(flags['slow-watchers']);
const SLOW_PAD = Number(flags['slow-pad-bytes']);
const RECEIVERS = Math.max(1, Number(flags.receivers));
const SCENARIOS = new Set(flags.scenarios!.split(','));
const DEADLINE = Date.now() + 15 * 60_000;
const CHILD_ARGS = ['--conditions=source', '--import', 'tsx'];

function pct(xs: number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : Number.NaN;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The next message from a child that satisfies pick, or an error after ms. */
function nextMessage<T, R>(child: ChildProcess, pick: (m: T) => R | undefined, ms: number): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no answer from process ${child.pid} in ${ms} ms`)), Math.min(ms, Math.max(0, DEADLINE - Date.now())));
    const onMessage = (m: T) => {
      const r = pick(m);
      if (r !== undefined) done(undefined, r);
    };
    const onExit = (code: number | null) => done(new Error(`process ${child.pid} exited with ${code}`));
    function done(err?: Error, r?: R) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(r as R);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

class Receivers {
  readonly procs: ChildProcess[];
  constructor(n: number) {
    this.procs = Array.from({ length: n }, () => fork(join(import.meta.dirname, 'watch-fanout/receiver.ts'), [], { execArgv: CHILD_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  private ask<R>(i: number, msg: ToReceiver, pick: (m: FromReceiver) => R | undefined, ms: number): Promise<R> {
    const p = nextMessage(this.procs[i]!, pick, ms);
    this.procs[i]!.send(msg);
    return p;
  }
  /** Spreads the watches round robin over the processes and opens them. */
  async open(conn: Connection, specs: WatchSpec[]): Promise<number> {
    const parts: WatchSpec[][] = this.procs.map(() => []);
    specs.forEach((s, i) => parts[i % parts.length]!.push(s));
    const opened = await Promise.all(parts.map((watches, i) => this.ask(i, { cmd: 'open', conn, watches }, (m) => (m.ev === 'opened' ? m : undefined), 120_000)));
    const failed = opened.reduce((n, o) => n + o.failed, 0);
    if (failed) throw new Error(`${failed} watches failed to open: ${opened.find((o) => o.error)?.error}`);
    return opened.reduce((n, o) => n + o.watches, 0);
  }
  async count(): Promise<number> {
    const counts = await Promise.all(this.procs.map((_, i) => this.ask(i, { cmd: 'count' }, (m) => (m.ev === 'count' ? m.events : undefined), 30_000)));
    return counts.reduce((a, b) => a + b, 0);
  }
  /** Waits until the receivers counted `expected` events, or timeoutMs passed. */
  async waitFor(expected: number, timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    let n = await this.count();
    while (n < expected && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      n = await this.count();
    }
    return n;
  }
  async resumeSlow(waitMs: number): Promise<void> {
    await Promise.all(this.procs.map((_, i) => this.ask(i, { cmd: 'resume-slow', waitMs }, (m) => (m.ev === 'resumed' ? true : undefined), waitMs + 30_000)));
  }
  async report(): Promise<{ latencies: number[]; seqs: number[]; revisions: number[]; receivedAt: number[]; watches: WatchResult[] }> {
    const reports = await Promise.all(this.procs.map((_, i) => this.ask(i, { cmd: 'report' }, (m) => (m.ev === 'report' ? m : undefined), 60_000)));
    return {
      latencies: reports.flatMap((r) => r.latencies),
      seqs: reports.flatMap((r) => r.seqs),
      revisions: reports.flatMap((r) => r.revisions),
      receivedAt: reports.flatMap((r) => r.receivedAt),
      watches: reports.flatMap((r) => r.watches),
    };
  }
  async close(): Promise<void> {
    await Promise.all(
      this.procs.map((p) => stopProcess(p, 10_000, () => p.send({ cmd: 'close' } satisfies ToReceiver))),
    );
  }
}

async function write(msg: ToWriter): Promise<FromWriter> {
  const writer = fork(join(import.meta.dirname, 'watch-fanout/writer.ts'), [], { execArgv: CHILD_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const done = nextMessage(writer, (m: FromWriter) => (m.ev === 'done' ? m : undefined), (msg.seconds + 120) * 1000);
    writer.send(msg);
    return await done;
  } finally {
    if (writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL');
  }
}

interface Row {
  name: string;
  value: string;
  goal: string;
  ok?: boolean;
}

async function metricsText(api: ApiServerInstance): Promise<string> {
  const r = await api.request('GET', '/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  return r.body;
}

/**
 * The breakdown rows of one scenario: the apiserver's stage histograms between the two /metrics texts,
 * its event-loop delay over the scenario, and each delivery measured from the write's answer (joined
 * by the stamp's sequence number; negative when the event arrived before the writer had its answer).
 */
function breakdownRows(
  label: string,
  before: string,
  after: string,
  op: string,
  type: string,
  w: FromWriter,
  rep: { seqs: number[]; revisions: number[]; receivedAt: number[] },
  commits: CommitObserver,
): { rows: Row[]; out: Record<string, unknown> } {
  const rows: Row[] = [];
  const fromCommit: number[] = [];
  let unmatched = 0;
  for (let i = 0; i < rep.revisions.length; i++) {
    const committed = commits.at(rep.revisions[i]!);
    if (committed === undefined) unmatched++;
    else fromCommit.push(rep.receivedAt[i]! - committed);
  }
  const p99FromCommit = pct(fromCommit, 99);
  rows.push({
    name: `(${label}) delivery from the commit (seen by an etcd watch of the bench; ${unmatched} unmatched), p50 / p99 ms`,
    value: `${pct(fromCommit, 50).toFixed(1)} / ${p99FromCommit.toFixed(1)}`,
    goal: label === 'b' ? 'p99 < 250' : 'p99 < 100',
    ok: p99FromCommit < (label === 'b' ? 250 : 100),
  });
  const stages = stageBreakdown(before, after, op, type);
  for (const st of stages) {
    rows.push({ name: `(${label})   ${st.name}, p50 / p99 ms (n=${st.n})`, value: `${st.p50.toFixed(1)} / ${st.p99.toFixed(1)}`, goal: '' });
  }
  const fromAck: number[] = [];
  for (let i = 0; i < rep.seqs.length; i++) {
    const acked = w.ackedAt[rep.seqs[i]!];
    if (acked != null) fromAck.push(rep.receivedAt[i]! - acked);
  }
  rows.push({ name: `(${label})   received - the writer's answer, p50 / p99 ms`, value: `${pct(fromAck, 50).toFixed(1)} / ${pct(fromAck, 99).toFixed(1)}`, goal: '' });
  const lag = { p50: gauge(after, 'nodejs_eventloop_lag_p50_seconds') * 1000, p99: gauge(after, 'nodejs_eventloop_lag_p99_seconds') * 1000, max: gauge(after, 'nodejs_eventloop_lag_max_seconds') * 1000 };
  const deliveries = rep.receivedAt.length;
  const cpuSeconds = gauge(after, 'process_cpu_seconds_total') - gauge(before, 'process_cpu_seconds_total');
  rows.push({ name: `(${label})   apiserver CPU while writing: s, per delivered event µs`, value: `${cpuSeconds.toFixed(1)}, ${((cpuSeconds * 1e6) / Math.max(1, deliveries)).toFixed(0)}`, goal: '' });
  rows.push({ name: `(${label})   apiserver event-loop delay p50 / p99 / max ms`, value: `${lag.p50.toFixed(0)} / ${lag.p99.toFixed(0)} / ${lag.max.toFixed(0)}`, goal: '' });
  return { rows, out: { apiserverCpuSeconds: cpuSeconds, fromCommitP50: pct(fromCommit, 50), fromCommitP99: p99FromCommit, stages, fromAckP50: pct(fromAck, 50), fromAckP99: pct(fromAck, 99), eventLoopLagMs: lag } };
}

async function currentRV(api: ApiServerInstance, path: string): Promise<string> {
  const r = await api.request('GET', `${path}?limit=1`);
  if (r.status !== 200) throw new Error(`list ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.json.metadata.resourceVersion;
}

async function main() {
  const etcd = await startEtcd();
  // As bench:apiserver: the apiserver child's inspector is asked for through NODE_OPTIONS.
  const inspectPort = flags.profile ? await freePort() : 0;
  const nodeOptions = process.env.NODE_OPTIONS;
  if (flags.profile) process.env.NODE_OPTIONS = [nodeOptions, inspectOption(inspectPort)].filter(Boolean).join(' ');
  const api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--etcd-compaction-interval=0s'] });
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = nodeOptions;
  let profiler: PhaseProfiler | undefined;
  if (flags.profile) {
    const dir = flags['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'kubelab-watch-profile-'));
    mkdirSync(dir, { recursive: true });
    profiler = await PhaseProfiler.connect(inspectPort, dir);
  }
  const profiles: string[] = [];
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    if (!profiler) return fn();
    const { file, summary } = await profiler.phase(name, fn);
    profiles.push(formatSummary(name, file, summary));
  };
  const commits = await CommitObserver.start(etcd.endpoint, ['/registry/pods/', '/registry/endpointslices/']);
  const conn: Connection = { port: api.port, ca: readFileSync(join(api.pkiDir, 'ca.crt'), 'utf8'), cert: api.adminCert.toString(), key: api.adminKey.toString() };
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  try {
    for (const ns of ['bench-a', 'bench-b', 'bench-c0', 'bench-c']) {
      const r = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (r.status !== 201) throw new Error(`namespace ${ns}: ${r.status} ${r.body}`);
    }
    const rssStart = rssMB(api.pid);
    results.rssStartMB = rssStart;

    /** Scenario (a), and (c) when slow > 0: node watchers (and slow all-pods watchers), pods across the nodes. */
    const kubeletLike = async (label: string, namespace: string, slow: number, padBytes: number) => {
      const rv = await currentRV(api, '/api/v1/pods');
      const specs: WatchSpec[] = Array.from({ length: WATCHERS }, (_, i) => ({
        path: `/api/v1/pods?watch=true&resourceVersion=${rv}&fieldSelector=${encodeURIComponent(`spec.nodeName=node-${i}`)}`,
        target: `node-${i}`,
        eventType: 'ADDED',
      }));
      for (let i = 0; i < slow; i++) specs.push({ path: `/api/v1/pods?watch=true&resourceVersion=${rv}`, target: '', eventType: 'ADDED', slow: true });
      const receivers = new Receivers(RECEIVERS);
      try {
        const tOpen = performance.now();
        const opened = await receivers.open(conn, specs);
        const openSeconds = (performance.now() - tOpen) / 1000;
        const rssOpened = rssMB(api.pid);
        const before = await metricsText(api);
        const w = await write({ cmd: 'pods', conn, namespace, nodes: WATCHERS, rate: RATE, seconds: SECONDS, padBytes });
        await receivers.waitFor(w.written, 30_000);
        const after = await metricsText(api);
        if (slow) await receivers.resumeSlow(20_000);
        const rep = await receivers.report();
        const nodeWatches = rep.watches.filter((x) => !x.slow);
        const slowWatches = rep.watches.filter((x) => x.slow);
        const wrongCount = nodeWatches.filter((x) => x.events !== (w.perTarget[x.target] ?? 0)).length;
        const duplicates = nodeWatches.reduce((n, x) => n + x.duplicates, 0);
        const misdelivered = nodeWatches.reduce((n, x) => n + x.misdelivered, 0);
        const exact = wrongCount === 0 && duplicates === 0 && misdelivered === 0 && w.errors === 0;
        const p50 = pct(rep.latencies, 50);
        const p99 = pct(rep.latencies, 99);
        const rate = w.written / w.seconds;
        rows.push({ name: `(${label}) ${opened - slow} node watchers (opened in ${openSeconds.toFixed(1)} s), ${w.written} pods at ${rate.toFixed(0)}/s: delivery from the writer's send, p50 ms`, value: p50.toFixed(1), goal: '' });
        rows.push({ name: `(${label}) delivery from the writer's send, p99 ms`, value: p99.toFixed(1), goal: '< 100', ok: p99 < 100 });
        rows.push({ name: `(${label})   the create's round trip (writer), p50 / p99 ms`, value: `${pct(w.writeMs, 50).toFixed(0)} / ${pct(w.writeMs, 99).toFixed(0)}`, goal: '' });
        const breakdown = breakdownRows(label, before, after, 'create', 'pods', w, rep, commits);
        rows.push(...breakdown.rows);
        rows.push({
          name: `(${label}) exactly once to the right watcher (${nodeWatches.reduce((n, x) => n + x.events, 0)} delivered / ${w.written} written)`,
          value: exact ? 'yes' : `NO: ${wrongCount} watchers wrong count, ${duplicates} dup, ${misdelivered} misdelivered, ${w.errors} write errors`,
          goal: 'yes',
          ok: exact,
        });
        const out: Record<string, unknown> = { watchers: opened, written: w.written, rate, p50, p99, writeP50: pct(w.writeMs, 50), writeP99: pct(w.writeMs, 99), exact, wrongCount, duplicates, misdelivered, writeErrors: w.errors, firstError: w.firstError, rssOpenedMB: rssOpened, ...breakdown.out };
        if (slow) {
          const cut = slowWatches.filter((x) => x.ended && x.events < w.written).length;
          rows.push({ name: `(${label}) slow watchers cut off (events received before the end of / written)`, value: `${cut}/${slow} (${slowWatches.map((x) => x.events).join(',')} / ${w.written})`, goal: `${slow}/${slow}`, ok: cut === slow });
          out.slowCut = cut;
          out.slowEvents = slowWatches.map((x) => x.events);
        }
        out.rssAfterMB = rssMB(api.pid);
        rows.push({ name: `(${label}) apiserver RSS MB: watches open / after`, value: `${rssOpened.toFixed(0)} / ${(out.rssAfterMB as number).toFixed(0)}`, goal: '' });
        results[label] = out;
      } finally {
        await receivers.close();
      }
    };

    if (SCENARIOS.has('a')) await phase('a', () => kubeletLike('a', 'bench-a', 0, 0));

    if (SCENARIOS.has('b')) await phase('b', async () => {
      const rv = await currentRV(api, '/apis/discovery.k8s.io/v1/endpointslices');
      const specs: WatchSpec[] = Array.from({ length: BROADCAST }, () => ({ path: `/apis/discovery.k8s.io/v1/endpointslices?watch=true&resourceVersion=${rv}`, target: '', eventType: 'MODIFIED' }));
      const receivers = new Receivers(RECEIVERS);
      try {
        const opened = await receivers.open(conn, specs);
        const before = await metricsText(api);
        const w = await write({ cmd: 'slices', conn, namespace: 'bench-b', slices: SLICES, rate: SLICE_RATE, seconds: SECONDS });
        const delivered = await receivers.waitFor(w.written * opened, 30_000);
        const after = await metricsText(api);
        const rep = await receivers.report();
        const wrong = rep.watches.filter((x) => x.events !== w.written).length;
        const duplicates = rep.watches.reduce((n, x) => n + x.duplicates, 0);
        const exact = wrong === 0 && duplicates === 0 && w.errors === 0 && !w.firstError;
        const p50 = pct(rep.latencies, 50);
        const p99 = pct(rep.latencies, 99);
        const rate = w.written / w.seconds;
        rows.push({ name: `(b) ${opened} EndpointSlice watchers, ${w.written} updates at ${rate.toFixed(0)}/s: delivery from the writer's send, p50 ms`, value: p50.toFixed(1), goal: '' });
        rows.push({ name: "(b) delivery from the writer's send, p99 ms", value: p99.toFixed(1), goal: '< 250', ok: p99 < 250 });
        rows.push({ name: "(b)   the update's round trip (writer), p50 / p99 ms", value: `${pct(w.writeMs, 50).toFixed(0)} / ${pct(w.writeMs, 99).toFixed(0)}`, goal: '' });
        const breakdown = breakdownRows('b', before, after, 'update', 'endpointslices', w, rep, commits);
        rows.push(...breakdown.rows);
        rows.push({ name: `(b) every update exactly once to every watcher (${delivered} / ${w.written * opened})`, value: exact ? 'yes' : `NO: ${wrong} watchers wrong count, ${duplicates} dup, ${w.errors} write errors ${w.firstError ?? ''}`, goal: 'yes', ok: exact });
        results.b = { watchers: opened, written: w.written, rate, p50, p99, writeP50: pct(w.writeMs, 50), writeP99: pct(w.writeMs, 99), delivered, exact, wrong, duplicates, firstError: w.firstError, ...breakdown.out };
      } finally {
        await receivers.close();
      }
    });

    // c0: (c)'s large pods without the slow watchers, the baseline (c)'s latency and RSS are compared with.
    if (SCENARIOS.has('c0')) await phase('c0', () => kubeletLike('c0', 'bench-c0', 0, SLOW_PAD));
    if (SCENARIOS.has('c')) await phase('c', () => kubeletLike('c', 'bench-c', SLOW, SLOW_PAD));
    const rssEnd = rssMB(api.pid);
    rows.push({ name: 'apiserver RSS MB: start / end', value: `${rssStart.toFixed(0)} / ${rssEnd.toFixed(0)}`, goal: '' });
    results.rssEndMB = rssEnd;
  } finally {
    profiler?.close();
    await commits.close();
    await api.stop();
    await etcd.stop();
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'watch fan-out'.padEnd(w)}  ${'value'.padStart(12)}  goal`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.value.padStart(12)}  ${r.goal}${r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED'}`);
  for (const p of profiles) console.log(p);
  console.log(JSON.stringify({ benchmark: 'watch-fanout', params: { WATCHERS, RATE, SECONDS, BROADCAST, SLICE_RATE, SLICES, SLOW, SLOW_PAD, RECEIVERS }, results }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
