// npm run fuzz:apiserver — the apiserver's HTTP surface under seeded random requests (no single upstream
// counterpart; the spirit of apimachinery's fuzzer and the apiserver's filter tests). Starts etcd and an
// apiserver on loopback, sends --requests generated requests (test/fixtures/fuzz.ts) with --concurrency in
// flight, and checks: the process stays up, no 5xx, every error is a Status whose code is the HTTP status,
// RSS does not grow by more than --rss-growth-mb, and /healthz is ok at the end. Prints a table and a JSON
// line, writes failures (grouped, a few examples each) to --out, and exits 1 on any failure.
// Bounded: --requests and --max-seconds; everything talks to 127.0.0.1.
// Reproduce one request: npm run fuzz:apiserver -- --seed S --only I [--print]
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startEtcd } from '../test/fixtures/etcd.js';
import { startApiServer } from '../test/fixtures/apiserver.js';
import { freePort } from '../test/fixtures/ports.js';
import { failureCount, generateRequest, rssMB, runFuzz, type FuzzReport } from '../test/fixtures/fuzz.js';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'max-seconds': { type: 'string', default: '600' },
    'rss-growth-mb': { type: 'string', default: '150' },
    'authorization-mode': { type: 'string', default: 'Node,RBAC' },
    out: { type: 'string', default: join(tmpdir(), 'kubelab-fuzz-apiserver-failures.json') },
    only: { type: 'string' },
    print: { type: 'boolean', default: false },
    examples: { type: 'string', default: '5' },
    // Opens the apiserver's inspector on loopback to force a GC before the RSS readings that decide "flat".
    'gc-inspect': { type: 'boolean', default: true },
  },
});
const REQUESTS = Number(flags.requests);
const SEED = Number(flags.seed);
const CONCURRENCY = Number(flags.concurrency);
const MAX_SECONDS = Number(flags['max-seconds']);
const RSS_GROWTH_MB = Number(flags['rss-growth-mb']);
const ONLY = flags.only?.split(',').map(Number);
for (const [name, v] of Object.entries({ REQUESTS, SEED, CONCURRENCY, MAX_SECONDS, RSS_GROWTH_MB })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad value for ${name}: ${v}`);
}

interface Memory {
  rssMB: number;
  heapUsedMB: number;
  /** Own property names of the built-in prototypes: a change between start and end is prototype pollution. */
  prototypes: Record<string, string[]>;
}

const PROTOTYPES_EXPRESSION = `JSON.stringify(Object.fromEntries([['Object', Object.prototype], ['Array', Array.prototype], ['Function', Function.prototype],
  ['String', String.prototype], ['Number', Number.prototype], ['Boolean', Boolean.prototype]].map(([n, p]) => [n, Object.getOwnPropertyNames(p).sort()])))`;

/**
 * Forces a full GC in the apiserver through its inspector (loopback only) and reads process.memoryUsage(), so
 * that start and end are compared after garbage collection rather than at whatever point V8 last collected.
 */
async function collectGarbage(inspectPort: number): Promise<Memory> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => {
      const my = ++id;
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 30_000);
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString());
        if (msg.id !== my) return;
        clearTimeout(timer);
        ws.off('message', onMessage);
        if (msg.error) reject(new Error(msg.error.message));
        else resolve(msg.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const m = JSON.parse(r.result.value) as { rss: number; heapUsed: number };
    const p = await call('Runtime.evaluate', { expression: PROTOTYPES_EXPRESSION, returnByValue: true });
    return { rssMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20, prototypes: JSON.parse(p.result.value) };
  } finally {
    ws.close();
  }
}

function table(report: FuzzReport, healthz: string, rssFlat: boolean, gc?: { start: Memory; end?: Memory }) {
  const rows: [string, string][] = [
    ['seed', String(report.seed)],
    ['requests sent', `${report.requests}${report.timedOut ? ' (stopped at --max-seconds)' : ''}`],
    ['by status', Object.entries(report.byStatus).sort().map(([k, v]) => `${k}:${v}`).join(' ')],
    ['crashes', String(report.crashes)],
    ['5xx', String(report.fiveXX)],
    ['errors not a Status', String(report.nonStatusErrors)],
    ['Status code != HTTP status', String(report.statusMismatches)],
    ['2xx with a malformed body', String(report.badSuccessBodies)],
    ['no response (client timeout)', String(report.noResponse)],
    ['transport errors', String(report.transport)],
    ['RSS MB start/peak/end (sampled)', `${report.rss.startMB.toFixed(0)} / ${report.rss.peakMB.toFixed(0)} / ${report.rss.endMB.toFixed(0)}`],
    ...(gc
      ? ([
          ['after forced GC: RSS MB start/end', `${gc.start.rssMB.toFixed(0)} / ${gc.end?.rssMB.toFixed(0) ?? '-'}`],
          ['after forced GC: heap used MB start/end', `${gc.start.heapUsedMB.toFixed(0)} / ${gc.end?.heapUsedMB.toFixed(0) ?? '-'}`],
        ] as [string, string][])
      : []),
    [`RSS flat (end < start + ${RSS_GROWTH_MB} MB${gc?.end ? ', after GC' : ''})`, rssFlat ? 'yes' : 'NO'],
    ['/healthz at end', healthz],
    ['seconds', report.seconds.toFixed(1)],
    ['distinct failure classes', String(Object.keys(report.failures).length)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  const verbs = Object.entries(report.byVerb).sort();
  console.log('\nby verb:');
  for (const [verb, codes] of verbs) console.log(`  ${verb.padEnd(18)} ${Object.entries(codes).sort().map(([k, v]) => `${k}:${v}`).join(' ')}`);
  console.log('\nby mutation / body kind:');
  for (const [tag, codes] of Object.entries(report.byTag).sort()) console.log(`  ${tag.padEnd(22)} ${Object.entries(codes).sort().map(([k, v]) => `${k}:${v}`).join(' ')}`);
  const classes = Object.entries(report.failures).sort((a, b) => b[1].count - a[1].count);
  if (classes.length) {
    console.log('\nfailure classes (count, key, first example):');
    for (const [key, { count, examples }] of classes) {
      const e = examples[0]!;
      console.log(`  ${String(count).padStart(5)}  ${key}`);
      console.log(`         #${e.request.i} ${e.request.method} ${e.request.path.slice(0, 160)} ct=${JSON.stringify(e.request.headers['content-type'] ?? null)} auth=${e.request.auth} body=${e.request.bodyBytes}B`);
      console.log(`         -> ${e.response.status} ${(e.response.error ?? e.response.body).slice(0, 200).replace(/\n/g, ' ')}`);
      const prev = e.response.previousOnSocket;
      if (prev) console.log(`         after #${prev.i} ${prev.method} ${prev.path.slice(0, 160)} on the same connection`);
    }
  }
}

async function main() {
  if (ONLY && flags.print) {
    for (const i of ONLY) {
      const req = generateRequest(SEED, i);
      console.log(JSON.stringify({ ...req, body: req.body?.toString('utf8').slice(0, 4000), bodyBytes: req.body?.length }, null, 2));
    }
    return 0;
  }
  const deadline = Date.now() + MAX_SECONDS * 1000;
  const etcd = await startEtcd();
  const inspectPort = flags['gc-inspect'] ? await freePort() : 0;
  const nodeOptions = process.env.NODE_OPTIONS;
  if (inspectPort) process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --inspect=127.0.0.1:${inspectPort}`.trim();
  const api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: [`--authorization-mode=${flags['authorization-mode']}`] }).finally(() => {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  });
  let report: FuzzReport;
  let healthz = 'not checked';
  let gc: { start: Memory; end?: Memory } | undefined;
  try {
    if (inspectPort) gc = { start: await collectGarbage(inspectPort) };
    const target = { port: api.port, ca: readFileSync(join(api.pkiDir, 'ca.crt')), adminCert: api.adminCert, adminKey: api.adminKey, pid: api.pid };
    console.error(`fuzz: apiserver pid ${api.pid} on 127.0.0.1:${api.port}, seed ${SEED}, ${ONLY ? `only ${ONLY.join(',')}` : `${REQUESTS} requests`}, concurrency ${CONCURRENCY}, max ${MAX_SECONDS}s`);
    report = await runFuzz({
      target,
      seed: SEED,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      deadline,
      only: ONLY,
      examplesPerKey: Number(flags.examples),
      onProgress: (n, r) => console.error(`fuzz: ${n} sent, ${r.fiveXX} 5xx, ${r.nonStatusErrors} non-Status, ${r.crashes} crashes, RSS ${rssMB(target.pid).toFixed(0)} MB, ${Object.keys(r.failures).length} failure classes`),
    });
    if (report.crashes === 0) {
      const h = await api.request('GET', '/healthz').catch((err: Error) => ({ status: 0, body: err.message }));
      healthz = `${h.status} ${h.body.trim().slice(0, 80)}`;
      if (gc) gc.end = await collectGarbage(inspectPort);
      report.rss.endMB = rssMB(target.pid);
    } else {
      healthz = 'apiserver exited';
      console.error(api.logs().slice(-4000));
    }
  } finally {
    await api.stop();
    await etcd.stop();
  }
  // Flat: RSS at the end, after a forced GC when the inspector was available, within RSS_GROWTH_MB of the start.
  const rssFlat = gc?.end ? gc.end.rssMB < gc.start.rssMB + RSS_GROWTH_MB : report.rss.endMB < report.rss.startMB + RSS_GROWTH_MB;
  const healthy = healthz.startsWith('200 ok');
  // Properties that appeared on a built-in prototype during the run.
  const polluted = gc?.end
    ? Object.entries(gc.end.prototypes).flatMap(([name, keys]) => keys.filter((k) => !gc!.start.prototypes[name]?.includes(k)).map((k) => `${name}.prototype.${k}`))
    : [];
  table(report, healthz, rssFlat, gc);
  console.log(`${'prototype pollution (after the run)'}  ${gc?.end ? (polluted.length ? `YES: ${polluted.join(', ')}` : 'none') : 'not checked'}`);
  writeFileSync(flags.out!, JSON.stringify(report, null, 2));
  console.error(`\nfuzz: failures written to ${flags.out}`);
  const failures = failureCount(report);
  console.log(
    JSON.stringify({
      fuzz: 'apiserver',
      seed: report.seed,
      requests: report.requests,
      byStatus: report.byStatus,
      fiveXX: report.fiveXX,
      nonStatusErrors: report.nonStatusErrors,
      statusMismatches: report.statusMismatches,
      badSuccessBodies: report.badSuccessBodies,
      noResponse: report.noResponse,
      transport: report.transport,
      crashes: report.crashes,
      rssMB: { start: Math.round(report.rss.startMB), peak: Math.round(report.rss.peakMB), end: Math.round(report.rss.endMB), flat: rssFlat },
      ...(gc ? { afterGC: { rssMB: [gc.start.rssMB, gc.end?.rssMB].map((x) => Math.round(x ?? NaN)), heapUsedMB: [gc.start.heapUsedMB, gc.end?.heapUsedMB].map((x) => Math.round(x ?? NaN)) } } : {}),
      healthz: healthy,
      prototypePollution: polluted,
      seconds: Math.round(report.seconds),
      failureClasses: Object.keys(report.failures).length,
    }),
  );
  return failures === 0 && rssFlat && healthy && !polluted.length && (ONLY !== undefined || report.requests >= REQUESTS) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
