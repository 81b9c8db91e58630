// npm run bench:apiserver — the apiserver against the raw etcd it stores in, side by side in one run:
// creates (64 in flight), single GETs, LISTs of 2,000 and 10,000 pods (paged and unpaged; each checked to
// hold every pod created), and watch fan-out (N watchers, events at a fixed rate, delivery latency).
// Under the large LIST: how many bytes each side moves (etcd's range vs the apiserver's response body) and the
// transport floor, the same response body served by a bare HTTPS server (bench/list-floor-server.ts, a child
// process with the apiserver's certificate) and read by the same client.
// Prints a table and JSON with ratios to the raw etcd baseline. Numbers are for reading, not asserting: this machine is shared and noisy.
// Bounded: every loop has a fixed count and the whole run a deadline; everything talks to 127.0.0.1.
// --profile (npm run profile:apiserver): a CPU profile of the apiserver per phase (create, get, list, watch)
// written as <phase>.cpuprofile into a temporary directory (or --profile-dir), with the top 15 self-time
// functions of each printed after the table. --watchers 0 leaves the watch fan-out phase out.
// Beside the rates, the create and GET rows give what they cost (CPU ms of the apiserver and etcd processes per
// object, from /proc, and etcd gRPC calls per object, from etcd's /metrics): on a shared machine the rates swing
// with the load, the costs much less.
import https from 'node:https';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../test/fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../test/fixtures/apiserver.js';
import { freePort } from '../test/fixtures/ports.js';
import { PhaseProfiler, formatSummary, inspectOption } from './apiserver-profile.js';

const { values: flags } = parseArgs({
  options: {
    creates: { type: 'string', default: '2000' },
    gets: { type: 'string', default: '1000' },
    'list-large': { type: 'string', default: '10000' },
    watchers: { type: 'string', default: '1000' },
    'event-rate': { type: 'string', default: '500' },
    'event-seconds': { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
  },
});
const CREATES = Number(flags.creates);
const GETS = Number(flags.gets);
const LIST_LARGE = Number(flags['list-large']);
const WATCHERS = Number(flags.watchers);
const EVENT_RATE = Number(flags['event-rate']);
const EVENT_SECONDS = Number(flags['event-seconds']);
const IN_FLIGHT = 64;
const DEADLINE = Date.now() + 15 * 60_000;

function pod(ns: string, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench', shard: String(name.length % 4) } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

async function pool(n: number, inFlight: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, n) }, async () => {
      while (next < n) {
        if (Date.now() > DEADLINE) throw new Error('benchmark deadline exceeded');
        await task(next++);
      }
    }),
  );
  return performance.now() - start;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

/** etcd's gRPC calls handled so far, by method (Range, Txn, ...), from its /metrics. */
async function etcdCalls(endpoint: string): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  for (const m of text.matchAll(/^grpc_server_handled_total\{[^}]*grpc_method="(\w+)"[^}]*\} (\d+)/gm)) calls[m[1]!] = (calls[m[1]!] ?? 0) + Number(m[2]);
  return calls;
}

/**
 * What a phase cost, independent of how busy the shared machine was: CPU ms of the apiserver and etcd
 * processes per operation, and etcd round trips (gRPC calls) per operation.
 */
async function costOf<T>(pids: { apiserver: number; etcd: number }, etcdEndpoint: string, ops: number, fn: () => Promise<T>): Promise<{ value: T; apiserverCpuMs: number; etcdCpuMs: number; etcdCalls: Record<string, number> }> {
  const [a0, e0, c0] = [cpuMs(pids.apiserver), cpuMs(pids.etcd), await etcdCalls(etcdEndpoint)];
  const value = await fn();
  const [a1, e1, c1] = [cpuMs(pids.apiserver), cpuMs(pids.etcd), await etcdCalls(etcdEndpoint)];
  const calls: Record<string, number> = {};
  for (const [k, v] of Object.entries(c1)) if (v - (c0[k] ?? 0) > 0) calls[k] = Number(((v - (c0[k] ?? 0)) / ops).toFixed(2));
  return { value, apiserverCpuMs: (a1 - a0) / ops, etcdCpuMs: (e1 - e0) / ops, etcdCalls: calls };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

/** An HTTPS client with the admin credentials, for the apiserver (or another server with its certificate, on port). */
function client(api: ApiServerInstance, port = api.port) {
  const agent = new https.Agent({ ca: readFileSync(join(api.pkiDir, 'ca.crt')), cert: api.adminCert, key: api.adminKey, keepAlive: true, maxSockets: IN_FLIGHT * 2 });
  const request = (method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request({ host: '127.0.0.1', port, method, path, agent, headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  return { agent, request };
}

interface Row {
  name: string;
  raw: string;
  apiserver: string;
  ratio: number;
  note?: string;
}

async function main() {
  const etcd = await startEtcd();
  let profiler: PhaseProfiler | undefined;
  const inspectPort = flags.profile ? await freePort() : 0;
  const nodeOptions = process.env.NODE_OPTIONS;
  // The apiserver is a child process: its inspector is asked for through NODE_OPTIONS (this process has none).
  if (flags.profile) process.env.NODE_OPTIONS = [nodeOptions, inspectOption(inspectPort)].filter(Boolean).join(' ');
  const api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--etcd-compaction-interval=0s'] });
  if (flags.profile) {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    const dir = flags['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'kubelab-apiserver-profile-'));
    mkdirSync(dir, { recursive: true });
    profiler = await PhaseProfiler.connect(inspectPort, dir);
  }
  const profiles: string[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    if (!profiler) return fn();
    const { value, file, summary } = await profiler.phase(name, fn);
    profiles.push(formatSummary(name, file, summary));
    return value;
  };
  const raw = new Etcd3({ hosts: etcd.endpoint, grpcOptions: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } });
  const { agent, request } = client(api);
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  try {
    for (const ns of ['bench', 'bench-large']) {
      const r = await request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (r.status !== 201) throw new Error(`namespace: ${r.status} ${r.text}`);
    }

    // 1. Creates: raw etcd create-transactions vs apiserver POST, both 64 in flight.
    const pids = { apiserver: api.pid, etcd: etcd.pid };
    const rawCreate = await costOf(pids, etcd.endpoint, CREATES, () =>
      pool(CREATES, IN_FLIGHT, async (i) => {
        const key = `/bench-raw/pods/bench/raw-${i}`;
        const value = JSON.stringify(pod('bench', `raw-${i}`));
        const res = await raw.if(key, 'Create', '==', 0).then(raw.put(key).value(value)).commit();
        if (!res.succeeded) throw new Error('raw create failed');
      }),
    );
    const apiCreate = await costOf(pids, etcd.endpoint, CREATES, () =>
      phase('create', () =>
        pool(CREATES, IN_FLIGHT, async (i) => {
          const r = await request('POST', '/api/v1/namespaces/bench/pods', pod('bench', `p-${i}`));
          if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text.slice(0, 300)}`);
        }),
      ),
    );
    const rawRate = (CREATES / rawCreate.value) * 1000;
    const apiRate = (CREATES / apiCreate.value) * 1000;
    rows.push({ name: `create ${CREATES} pods, ${IN_FLIGHT} in flight (objects/s)`, raw: rawRate.toFixed(0), apiserver: apiRate.toFixed(0), ratio: apiRate / rawRate, note: 'goal >= 0.7' });
    // The costs behind the rate (the machine is shared, so these say more than the rate): the raw column is etcd's own.
    rows.push({ name: '  create: apiserver CPU ms per object', raw: '-', apiserver: apiCreate.apiserverCpuMs.toFixed(2), ratio: NaN });
    rows.push({ name: '  create: etcd CPU ms per object', raw: rawCreate.etcdCpuMs.toFixed(2), apiserver: apiCreate.etcdCpuMs.toFixed(2), ratio: apiCreate.etcdCpuMs / rawCreate.etcdCpuMs });
    const calls = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k}:${v}`).join(' ') || '-';
    rows.push({ name: '  create: etcd calls per object', raw: calls(rawCreate.etcdCalls), apiserver: calls(apiCreate.etcdCalls), ratio: NaN });
    results.create = {
      rawPerSec: rawRate,
      apiserverPerSec: apiRate,
      ratio: apiRate / rawRate,
      apiserverCpuMsPerObject: apiCreate.apiserverCpuMs,
      etcdCpuMsPerObject: { raw: rawCreate.etcdCpuMs, apiserver: apiCreate.etcdCpuMs },
      etcdCallsPerObject: { raw: rawCreate.etcdCalls, apiserver: apiCreate.etcdCalls },
    };

    // 2. Single GET latency, sequential.
    const rawGet: number[] = [];
    const apiGet: number[] = [];
    let apiGetCpuMs = 0;
    await phase('get', async () => {
      for (let i = 0; i < GETS; i++) {
        let t = performance.now();
        await raw.get(`/bench-raw/pods/bench/raw-${i % CREATES}`).string();
        rawGet.push(performance.now() - t);
        t = performance.now();
        const cpu0 = cpuMs(api.pid);
        const r = await request('GET', `/api/v1/namespaces/bench/pods/p-${i % CREATES}`);
        if (r.status !== 200) throw new Error(`get: ${r.status}`);
        apiGet.push(performance.now() - t);
        apiGetCpuMs += cpuMs(api.pid) - cpu0;
      }
    });
    rows.push({ name: `GET one pod, p50 ms (${GETS} sequential)`, raw: pct(rawGet, 50).toFixed(2), apiserver: pct(apiGet, 50).toFixed(2), ratio: pct(apiGet, 50) / pct(rawGet, 50) });
    rows.push({ name: 'GET one pod, p99 ms', raw: pct(rawGet, 99).toFixed(2), apiserver: pct(apiGet, 99).toFixed(2), ratio: pct(apiGet, 99) / pct(rawGet, 99) });
    rows.push({ name: '  GET: apiserver CPU ms per request', raw: '-', apiserver: (apiGetCpuMs / GETS).toFixed(2), ratio: NaN });
    // The floor under a GET: the same HTTPS round trip and filter chain (authn, authz, limits) without storage.
    const versionGet: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      const r = await request('GET', '/version');
      if (r.status !== 200) throw new Error(`version: ${r.status}`);
      versionGet.push(performance.now() - t);
    }
    rows.push({ name: '  GET /version (no storage), p50 ms', raw: '-', apiserver: pct(versionGet, 50).toFixed(2), ratio: NaN, note: 'the HTTPS + filter floor' });
    results.get = { rawP50: pct(rawGet, 50), rawP99: pct(rawGet, 99), apiP50: pct(apiGet, 50), apiP99: pct(apiGet, 99), apiserverCpuMsPerRequest: apiGetCpuMs / GETS, versionP50: pct(versionGet, 50) };

    // 3. LISTs: 1,000 (namespace bench holds CREATES pods: use the first 1,000) and a large namespace.
    await pool(LIST_LARGE, IN_FLIGHT, async (i) => {
      const key = `/bench-raw/pods/bench-large/raw-${i}`;
      await raw.put(key).value(JSON.stringify(pod('bench-large', `raw-${i}`)));
    });
    await pool(LIST_LARGE, IN_FLIGHT, async (i) => {
      const r = await request('POST', '/api/v1/namespaces/bench-large/pods', pod('bench-large', `p-${i}`));
      if (r.status !== 201) throw new Error(`create large: ${r.status}`);
    });
    const timeIt = async (n: number, fn: () => Promise<unknown>) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      }
      return pct(xs, 50);
    };
    /**
     * p50 of 5 GETs of a response body from a bare node:https server in a child process (bench/list-floor-server.ts)
     * with the apiserver's certificate, read by the same client code: what the transport alone costs.
     */
    async function transportFloor(text: string): Promise<number> {
      const dir = mkdtempSync(join(tmpdir(), 'kubelab-list-floor-'));
      const file = join(dir, 'body.json');
      writeFileSync(file, text);
      const child = fork(new URL('./list-floor-server.ts', import.meta.url), [api.pkiDir, file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      try {
        const [msg] = (await once(child, 'message', { signal: AbortSignal.timeout(30_000) })) as [{ port: number }];
        const floor = client(api, msg.port);
        try {
          return await timeIt(5, async () => {
            const r = await floor.request('GET', '/');
            if (r.status !== 200 || r.text !== text) throw new Error(`floor: ${r.status}, ${r.text.length} characters`);
          });
        } finally {
          floor.agent.destroy();
        }
      } finally {
        child.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    }

    for (const [label, ns, count] of [
      [`LIST ${CREATES} pods`, 'bench', CREATES],
      [`LIST ${LIST_LARGE} pods`, 'bench-large', LIST_LARGE],
    ] as const) {
      const rawMs = await timeIt(5, () => raw.getAll().prefix(`/bench-raw/pods/${ns}/`).strings());
      // One untimed LIST first, as in a running cluster the watch cache's items are already encoded
      // (serialize once): the profile shows the warm LISTs, not the first encoding of every item.
      await request('GET', `/api/v1/namespaces/${ns}/pods`);
      const cachedMs = await phase(`list-${count}`, () =>
        timeIt(5, async () => {
          const r = await request('GET', `/api/v1/namespaces/${ns}/pods`);
          if (r.status !== 200) throw new Error(`list ${r.status}`);
        }),
      );
      // Every object created is listed, paged and unpaged (checked outside the timed requests).
      const listedText = (await request('GET', `/api/v1/namespaces/${ns}/pods`)).text;
      const listed = JSON.parse(listedText).items.length;
      if (listed !== count) throw new Error(`list ${ns}: ${listed} items, ${count} created`);
      const pagedList = async (parse: boolean) => {
        let cont = '';
        let items = 0;
        let pages = 0;
        do {
          pages++;
          const r = await request('GET', `/api/v1/namespaces/${ns}/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
          if (r.status !== 200) throw new Error(`paged list ${r.status}`);
          if (parse) {
            const page = JSON.parse(r.text);
            items += page.items.length;
            cont = page.metadata.continue ?? '';
          } else {
            // The timed pages are read as the raw etcd range is (text, no JSON parse): the list's metadata,
            // with its continue token, comes before its items.
            cont = /"continue":"([^"]*)"/.exec(r.text.slice(0, r.text.indexOf('"items":')))?.[1] ?? '';
          }
        } while (cont);
        if (pages !== Math.max(1, Math.ceil(count / 500))) throw new Error(`paged list ${ns}: ${pages} pages for ${count} items`);
        return items;
      };
      const pagedMs = await phase(`list-paged-${count}`, () => timeIt(3, () => pagedList(false)));
      const pagedItems = await pagedList(true);
      if (pagedItems !== count) throw new Error(`paged list ${ns}: ${pagedItems} items, ${count} created`);
      rows.push({ name: `${label} (${count}), unpaged from watch cache, ms p50`, raw: rawMs.toFixed(1), apiserver: cachedMs.toFixed(1), ratio: cachedMs / rawMs, note: 'goal <= 0.5' });
      rows.push({ name: `${label} (${count}), paged limit=500 (consistent), ms p50`, raw: rawMs.toFixed(1), apiserver: pagedMs.toFixed(1), ratio: pagedMs / rawMs, note: 'goal <= 1.5' });
      results[`list_${ns}`] = { count, rawMs, cachedMs, pagedMs };
      if (count === LIST_LARGE) {
        // How many bytes each side moves, and the floor under the unpaged LIST: the same body from a bare HTTPS server.
        const rawBytes = (await raw.getAll().prefix(`/bench-raw/pods/${ns}/`).buffers()) as Record<string, Buffer>;
        const rawSize = Object.entries(rawBytes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0);
        const bodySize = Buffer.byteLength(listedText);
        const floorMs = await transportFloor(listedText);
        const mb = (n: number) => (n / 1e6).toFixed(1);
        rows.push({ name: `  ${label}: bytes moved (MB; raw: etcd range keys + values, apiserver: response body)`, raw: mb(rawSize), apiserver: mb(bodySize), ratio: bodySize / rawSize });
        rows.push({ name: `  ${label}: same bytes from a bare HTTPS server (the transport floor), ms p50`, raw: rawMs.toFixed(1), apiserver: floorMs.toFixed(1), ratio: floorMs / rawMs, note: 'no apiserver under it' });
        results[`list_${ns}`] = { count, rawMs, cachedMs, pagedMs, rawRangeBytes: rawSize, bodyBytes: bodySize, floorMs };
      }
    }

    // 4. Watch fan-out: WATCHERS watches on one namespace; EVENT_RATE creates/s for EVENT_SECONDS.
    if (WATCHERS > 0) await phase('watch', () => watchFanOut());
  } finally {
    profiler?.close();
    agent.destroy();
    raw.close();
    await api.stop();
    await etcd.stop();
  }

  async function watchFanOut() {
    const startRV = JSON.parse((await request('GET', '/api/v1/namespaces/fanout/configmaps')).text).metadata.resourceVersion;
    await request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fanout' } });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let delivered = 0;
    const watchAgent = new https.Agent({ ca: readFileSync(join(api.pkiDir, 'ca.crt')), cert: api.adminCert, key: api.adminKey, keepAlive: false, maxSockets: WATCHERS + 10 });
    const reqs: ReturnType<typeof https.request>[] = [];
    let established = 0;
    await Promise.all(
      Array.from({ length: WATCHERS }, () =>
        new Promise<void>((resolve, reject) => {
          const req = https.request({ host: '127.0.0.1', port: api.port, method: 'GET', path: `/api/v1/namespaces/fanout/configmaps?watch=true&resourceVersion=${startRV}`, agent: watchAgent }, (res) => {
            established++;
            resolve();
            let buf = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buf += chunk;
              let i;
              while ((i = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, i);
                buf = buf.slice(i + 1);
                // The client shares the machine's two cores with the server: read the name without a full parse.
                const name = /"name":"(ev-\d+)"/.exec(line)?.[1];
                const t0 = name === undefined ? undefined : sentAt.get(name);
                if (line.startsWith('{"type":"ADDED"') && t0 !== undefined) {
                  latencies.push(performance.now() - t0);
                  delivered++;
                }
              }
            });
          });
          req.on('error', reject);
          req.end();
          reqs.push(req);
        }),
      ),
    );
    const total = EVENT_RATE * EVENT_SECONDS;
    const intervalMs = 1000 / EVENT_RATE;
    const t0 = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const name = `ev-${i}`;
      sentAt.set(name, performance.now());
      writes.push(request('POST', '/api/v1/namespaces/fanout/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } }));
    }
    await Promise.all(writes);
    const achievedRate = total / ((performance.now() - t0) / 1000);
    const expected = total * WATCHERS;
    const waitUntil = Date.now() + 60_000;
    while (delivered < expected && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
    for (const r of reqs) r.destroy();
    watchAgent.destroy();
    rows.push({
      name: `watch fan-out: ${established} watchers x ${total} events at ${achievedRate.toFixed(0)}/s, delivery p50 ms`,
      raw: '-',
      apiserver: pct(latencies, 50).toFixed(1),
      ratio: NaN,
    });
    rows.push({ name: 'watch fan-out delivery p99 ms', raw: '-', apiserver: pct(latencies, 99).toFixed(1), ratio: NaN, note: 'goal < 100 at 500 events/s' });
    rows.push({ name: 'watch fan-out events delivered', raw: String(expected), apiserver: String(delivered), ratio: delivered / expected });
    results.watch = { watchers: established, events: total, eventsPerSec: achievedRate, p50: pct(latencies, 50), p99: pct(latencies, 99), delivered, expected };
  }

  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(w)}  ${'raw etcd'.padStart(10)}  ${'apiserver'.padStart(10)}  ${'ratio'.padStart(7)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${r.raw.padStart(10)}  ${r.apiserver.padStart(10)}  ${(Number.isNaN(r.ratio) ? '-' : r.ratio.toFixed(2)).padStart(7)}  ${r.note ?? ''}`);
  }
  for (const p of profiles) console.log(p);
  console.log(JSON.stringify({ benchmark: 'apiserver', params: { CREATES, GETS, LIST_LARGE, WATCHERS, EVENT_RATE, EVENT_SECONDS, IN_FLIGHT }, results }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
