// npm run bench:dns — Kubelab's cluster DNS against BIND 9, side by side in one run, with dnsperf.
// Kubelab's DNS runs as its own process (npm run dns's entry point) fed by informers from a real
// apiserver + etcd holding 1,000 Services and their EndpointSlices; BIND serves the same records as a
// static cluster.local zone. Both get the same query file (A for existing Services, A for missing ones
// answered NXDOMAIN, SRV for named ports). Before measuring, a sample of the queries is asked of both
// and the answers compared. Then per server: a short warm-up, a throughput run (dnsperf -l, bounded
// outstanding queries) and a latency run at one fixed offered rate for both (-Q, per-query latencies
// from -v for the percentiles). Goal: Kubelab >= 0.5 x BIND's queries/s.
// Kubelab's DNS keeps encoded replies while nothing in the cluster changes, so one more run measures
// it while EndpointSlices are updated through the apiserver at --churn per second (each update drops
// every kept reply). Everything is on loopback (Kubelab on 127.0.0.2, BIND on 127.0.0.1); every
// process is started and stopped by PID here. --cpu-prof writes a V8 profile of the Kubelab DNS
// process and prints where its time went. Numbers are for reading, not asserting: the machine is shared.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import dns2 from 'dns2';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { ROOT, startApiServer } from '../test/fixtures/apiserver.js';
import { startEtcd } from '../test/fixtures/etcd.js';
import { freePort } from '../test/fixtures/ports.js';
import {
  dnsperf,
  ensurePackages,
  query,
  startBind,
  startKubelabDNS,
  waitForAnswer,
  waitForHTTP,
  type DnsperfResult,
  type Started,
} from './dns/processes.js';
import { summarizeProfile } from './dns/profile.js';
import { benchServices, endpointSliceObject, namespaces, queryFile, serviceObject, ZONE, zoneFile } from './dns/workload.js';

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    namespaces: { type: 'string', default: '10' },
    queries: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    'warmup-seconds': { type: 'string', default: '2' },
    'latency-seconds': { type: 'string', default: '5' },
    'latency-qps': { type: 'string', default: '0' },
    outstanding: { type: 'string', default: '100' },
    'bind-threads': { type: 'string', default: '0' },
    churn: { type: 'string', default: '10' },
    'check-sample': { type: 'string', default: '300' },
    'cpu-prof': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const SERVICES = Number(flags.services);
const NAMESPACES = Number(flags.namespaces);
const SECONDS = Number(flags.seconds);
const WARMUP_SECONDS = Number(flags['warmup-seconds']);
const LATENCY_SECONDS = Number(flags['latency-seconds']);
const OUTSTANDING = Number(flags.outstanding);
const BIND_THREADS = Number(flags['bind-threads']);
const CHURN = Number(flags.churn);
const KUBELAB_ADDRESS = '127.0.0.2';
// named listens only on addresses its interfaces carry: lo has 127.0.0.1 (Node binds any of 127/8).
const BIND_ADDRESS = '127.0.0.1';
const IN_FLIGHT = 32;
const DEADLINE = Date.now() + 10 * 60_000;
const GOAL = 0.5;

const NAMESPACE = findResource('', 'v1', 'namespaces')!;
const SERVICE = findResource('', 'v1', 'services')!;
const SLICE = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;

const log = (m: string) => !flags.json && console.log(m);

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

/** A reply as comparable text: rcode, then each section's records sorted (the SOA serial left out, OPT dropped). */
function canonical(p: dns2.Packet | undefined): string {
  if (!p) return '(no reply)';
  const rr = (r: dns2.Packet.Resource & Record<string, unknown>) => {
    const name = String(r.name).toLowerCase();
    switch (r.type) {
      case dns2.Packet.TYPE.A:
        return `${name} ${r.ttl} A ${r.address}`;
      case dns2.Packet.TYPE.SRV:
        return `${name} ${r.ttl} SRV ${r.priority} ${r.weight} ${r.port} ${String(r.target).toLowerCase()}`;
      case dns2.Packet.TYPE.SOA:
        return `${name} ${r.ttl} SOA ${r.primary} ${r.admin} ${r.refresh} ${r.retry} ${r.expiration} ${r.minimum}`;
      default:
        return `${name} ${r.ttl} type${r.type}`;
    }
  };
  const section = (rs: dns2.Packet.Resource[]) =>
    rs
      .filter((r) => r.type !== dns2.Packet.TYPE.EDNS)
      .map((r) => rr(r as dns2.Packet.Resource & Record<string, unknown>))
      .sort()
      .join('; ');
  return `rcode=${p.header.rcode} aa=${p.header.aa} | ${section(p.answers)} | ${section(p.authorities)} | ${section(p.additionals)}`;
}

async function main(): Promise<void> {
  ensurePackages(
    [
      { command: 'named', pkg: 'bind9' },
      { command: 'dnsperf', pkg: 'dnsperf' },
    ],
    log,
  );
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-bench-dns-'));
  const started: Started[] = [];
  let t = Date.now();
  const etcd = await startEtcd();
  const api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  const client = new RestClient({ ...loadKubeconfig(api.kubeconfig), qps: 0 });
  try {
    log(`etcd + apiserver up in ${((Date.now() - t) / 1000).toFixed(1)}s`);

    // 1. The cluster: Services (their cluster IPs allocated by the apiserver) and EndpointSlices.
    t = Date.now();
    const services = benchServices(SERVICES, NAMESPACES);
    for (const ns of namespaces(NAMESPACES)) await client.resource(NAMESPACE).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const clusterIPs = new Map<string, string>();
    await pool(services, async (s) => {
      const created = await client.resource(SERVICE, s.namespace).create(serviceObject(s) as KubeObject);
      if (!s.headless) clusterIPs.set(`${s.namespace}/${s.name}`, created.spec.clusterIP);
      await client.resource(SLICE, s.namespace).create(endpointSliceObject(s) as KubeObject);
    });
    log(`created ${SERVICES} Services and EndpointSlices in ${NAMESPACES} namespaces in ${((Date.now() - t) / 1000).toFixed(1)}s`);

    // 2. The inputs: the same records as a zone, and the query file.
    const queriesPath = join(dir, 'queries.txt');
    const queries = queryFile(services, Number(flags.queries));
    writeFileSync(queriesPath, queries);
    // Names outside the zone would go here: a loopback port nothing listens on (the query file has none).
    const resolvConf = join(dir, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver 127.0.0.1:${await freePort()}\n`);

    // 3. Kubelab's cluster DNS, its own process, ready once its informers have synced.
    t = Date.now();
    const [dnsPort, healthPort, readyPort, metricsPort, bindPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    // Kept after the run, for chrome://inspect or speedscope.
    const profDir = flags['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'kubelab-bench-dns-prof-')) : '';
    const kubelab = startKubelabDNS({
      root: ROOT,
      nodeFlags: flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
      flags: [
        `--kubeconfig=${api.kubeconfig}`,
        `--dns-bind-address=${KUBELAB_ADDRESS}`,
        `--dns-port=${dnsPort}`,
        `--health-port=${healthPort}`,
        `--ready-port=${readyPort}`,
        `--metrics-port=${metricsPort}`,
        `--resolv-conf=${resolvConf}`,
      ],
    });
    started.push(kubelab);
    await waitForHTTP(`http://${KUBELAB_ADDRESS}:${readyPort}/ready`, 30_000, kubelab);
    const last = services[services.length - 1]!;
    await waitForAnswer(KUBELAB_ADDRESS, dnsPort, `${last.name}.${last.namespace}.svc.${ZONE}`, 10_000, kubelab);
    log(`Kubelab DNS (pid ${kubelab.pid}) serving on ${KUBELAB_ADDRESS}:${dnsPort} after ${((Date.now() - t) / 1000).toFixed(1)}s`);

    // 4. BIND 9 with the same records as a static zone.
    t = Date.now();
    const bind = startBind({ dir, address: BIND_ADDRESS, port: bindPort, zone: ZONE, zoneFile: zoneFile(services, clusterIPs, 1), threads: BIND_THREADS || undefined });
    started.push(bind);
    await waitForAnswer(BIND_ADDRESS, bindPort, `${last.name}.${last.namespace}.svc.${ZONE}`, 20_000, bind);
    const bindVersion = /BIND \S+/.exec(bind.output())?.[0] ?? 'BIND 9';
    const bindThreads = /using (\d+) worker thread/.exec(bind.output())?.[1];
    log(`${bindVersion} (pid ${bind.pid}) serving on ${BIND_ADDRESS}:${bindPort} after ${((Date.now() - t) / 1000).toFixed(1)}s`);

    // 5. The same answers: a sample of the distinct queries asked of both.
    const sample = [...new Set(queries.split('\n').filter(Boolean))].slice(0, Number(flags['check-sample']));
    const mismatches: string[] = [];
    for (const line of sample) {
      const [name, type] = line.split(' ') as [string, string];
      const a = canonical(await query(KUBELAB_ADDRESS, dnsPort, name, type, 2000));
      const b = canonical(await query(BIND_ADDRESS, bindPort, name, type, 2000));
      if (a !== b) mismatches.push(`${line}\n  kubelab: ${a}\n  bind:    ${b}`);
    }
    log(`answers compared for ${sample.length} distinct queries: ${sample.length - mismatches.length} identical`);
    for (const m of mismatches.slice(0, 5)) log(m);

    // 6. dnsperf: warm-up, throughput, then latency at one offered rate for both.
    const servers = [
      { name: 'kubelab', server: KUBELAB_ADDRESS, port: dnsPort },
      { name: 'bind', server: BIND_ADDRESS, port: bindPort },
    ] as const;
    const throughput: Record<string, DnsperfResult> = {};
    for (const s of servers) {
      if (WARMUP_SECONDS > 0) await dnsperf({ server: s.server, port: s.port, queryFile: queriesPath, seconds: WARMUP_SECONDS, maxOutstanding: OUTSTANDING });
      throughput[s.name] = await dnsperf({ server: s.server, port: s.port, queryFile: queriesPath, seconds: SECONDS, maxOutstanding: OUTSTANDING });
      log(`${s.name}: ${throughput[s.name]!.qps.toFixed(0)} queries/s over ${SECONDS}s`);
    }
    let churned: { run: DnsperfResult; updates: number } | undefined;
    if (CHURN > 0) {
      // EndpointSlice updates, round robin, at a fixed rate while dnsperf runs.
      const churn = async (until: number): Promise<number> => {
        const t0 = Date.now();
        let n = 0;
        while (Date.now() < until) {
          const s = services[n % services.length]!;
          await client.resource(SLICE, s.namespace).patch(`${s.name}-bench`, { metadata: { annotations: { 'bench.kubelab.io/churn': String(n) } } }, 'merge');
          n++;
          const wait = t0 + (n * 1000) / CHURN - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        return n;
      };
      const [run, updates] = await Promise.all([
        dnsperf({ server: KUBELAB_ADDRESS, port: dnsPort, queryFile: queriesPath, seconds: SECONDS, maxOutstanding: OUTSTANDING }),
        churn(Date.now() + SECONDS * 1000),
      ]);
      churned = { run, updates };
      log(`kubelab with ${(updates / SECONDS).toFixed(0)} EndpointSlice updates/s: ${run.qps.toFixed(0)} queries/s`);
    }
    const slower = Math.min(throughput.kubelab!.qps, throughput.bind!.qps);
    const latencyQps = Number(flags['latency-qps']) || Math.max(100, Math.floor((slower * 0.5) / 100) * 100);
    const latency: Record<string, DnsperfResult> = {};
    if (LATENCY_SECONDS > 0) {
      for (const s of servers) {
        latency[s.name] = await dnsperf({ server: s.server, port: s.port, queryFile: queriesPath, seconds: LATENCY_SECONDS, maxOutstanding: OUTSTANDING, maxQps: latencyQps, verbose: true });
      }
    }

    await kubelab.stop();
    await bind.stop();
    const profile = flags['cpu-prof'] ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    const summary = profile.length ? summarizeProfile(join(profDir, profile[0]!)) : undefined;

    const k = throughput.kubelab!;
    const b = throughput.bind!;
    const ratio = k.qps / b.qps;
    const result = {
      bench: 'dns',
      services: SERVICES,
      namespaces: NAMESPACES,
      headless: services.filter((s) => s.headless).length,
      queryFile: { lines: Number(flags.queries), mix: 'A 60%, NXDOMAIN 20%, SRV 20%' },
      dnsperf: { seconds: SECONDS, maxOutstanding: OUTSTANDING, latencyQps, latencySeconds: LATENCY_SECONDS },
      answersCompared: sample.length,
      answersDiffering: mismatches.length,
      kubelab: { throughput: k, latency: latency.kubelab, ...(churned ? { churn: { updatesPerSecond: churned.updates / SECONDS, throughput: churned.run } } : {}) },
      bind: { version: bindVersion, threads: BIND_THREADS || (bindThreads ? Number(bindThreads) : 'auto'), throughput: b, latency: latency.bind },
      ratio: Number(ratio.toFixed(3)),
      goal: GOAL,
      pass: ratio >= GOAL,
      ...(summary ? { profile: summary } : {}),
    };
    if (flags.json) {
      console.log(JSON.stringify(result));
      return;
    }
    const f = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
    const row = (a: string, x: string, y: string, r = '') => console.log(`${a.padEnd(56)}${x.padStart(16)}${y.padStart(16)}${r.padStart(8)}`);
    console.log('');
    row(`${SERVICES} services, dnsperf -l ${SECONDS} -q ${OUTSTANDING}`, 'Kubelab', /BIND [\d.]+/.exec(bindVersion)?.[0] ?? 'BIND', 'ratio');
    row('queries/s', f(k.qps, 0), f(b.qps, 0), f(ratio, 2));
    if (churned) row(`queries/s, ${(churned.updates / SECONDS).toFixed(0)} EndpointSlice updates/s`, f(churned.run.qps, 0), '-', f(churned.run.qps / b.qps, 2));
    row('avg latency (ms), saturated', f(k.avgLatencyMs, 3), f(b.avgLatencyMs, 3));
    row('max latency (ms), saturated', f(k.maxLatencyMs, 3), f(b.maxLatencyMs, 3));
    row('queries lost', String(k.lost), String(b.lost));
    row('NOERROR / NXDOMAIN', `${k.rcodes.NOERROR ?? 0}/${k.rcodes.NXDOMAIN ?? 0}`, `${b.rcodes.NOERROR ?? 0}/${b.rcodes.NXDOMAIN ?? 0}`);
    if (LATENCY_SECONDS > 0) {
      const kl = latency.kubelab!;
      const bl = latency.bind!;
      row(`at ${latencyQps} queries/s offered (-Q), avg latency (ms)`, f(kl.avgLatencyMs, 3), f(bl.avgLatencyMs, 3));
      row(`  p50 latency (ms)`, f(kl.p50LatencyMs, 3), f(bl.p50LatencyMs, 3));
      row(`  p99 latency (ms)`, f(kl.p99LatencyMs, 3), f(bl.p99LatencyMs, 3));
      row(`  queries lost`, String(kl.lost), String(bl.lost));
    }
    console.log(`Kubelab / BIND queries/s: ${f(ratio, 2)} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'not met'}); answers identical for ${sample.length - mismatches.length}/${sample.length} sampled queries`);
    if (summary) {
      console.log(`\nKubelab DNS CPU profile ${join(profDir, profile[0]!)}: ${summary.totalMs} ms, idle ${summary.idlePct}%; busy ${summary.busyMs} ms, of which GC ${summary.gcPct}%`);
      console.log('self time by file, % of busy time');
      for (const x of summary.files) console.log(`  ${String(x.selfPct).padStart(5)}%  ${x.file}`);
      console.log('self time by function, % of busy time');
      for (const x of summary.functions) console.log(`  ${String(x.selfPct).padStart(5)}%  ${x.name} ${x.where}`);
    }
    console.log(JSON.stringify(result));
  } finally {
    for (const p of started) await p.stop();
    client.close();
    await api.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
