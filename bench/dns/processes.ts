// The processes bench:dns starts and stops by PID: BIND 9 (named in the foreground with a config of
// its own, authoritative only, on one loopback address), Kubelab's cluster DNS (npm run dns's entry
// point), and dnsperf runs. Each wait is bounded; each process is killed on exit if still running.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dns2 from 'dns2';
import { stopProcess } from '../../test/fixtures/processes.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface Started {
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

function track(child: ChildProcess): Started {
  live.add(child);
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-200_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-200_000)));
  child.once('exit', () => live.delete(child));
  return {
    pid: child.pid ?? -1,
    output: () => output,
    stop: (graceMs = 10_000) => stopProcess(child, graceMs),
  };
}

/** Installs Debian packages that are missing (as hack/lab does), when a command is not on PATH. */
export function ensurePackages(need: Array<{ command: string; pkg: string }>, log: (m: string) => void): void {
  const missing = need.filter((n) => {
    try {
      execFileSync('sh', ['-c', `command -v ${n.command}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.map((m) => m.command).join(', ')}: apt-get install ${pkgs.join(' ')} (as root)`);
  log(`installing ${pkgs.join(' ')} (apt)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'ignore', env, timeout: 600_000 });
  // Where a service manager runs, the package starts its own named on port 53; the bench never uses or stops it.
  if (pkgs.includes('bind9') && existsSync('/run/named/named.pid')) log('note: the bind9 package started its named service (port 53); stop it with `systemctl stop named` if unwanted');
}

/** One UDP query, or undefined on timeout. */
export async function query(server: string, port: number, name: string, type: string, timeoutMs = 1000): Promise<dns2.Packet | undefined> {
  try {
    return await dns2.UDPClient({ dns: server, port, retryOverTCP: false, timeout: timeoutMs })(name, type as 'A');
  } catch {
    return undefined;
  }
}

/** Polls until `name` resolves with an answer at server:port, or throws after `timeoutMs`. */
export async function waitForAnswer(server: string, port: number, name: string, timeoutMs: number, proc?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await query(server, port, name, 'A', 500);
    if (r && r.header.rcode === 0 && r.answers.length) return;
    if (Date.now() > deadline) throw new Error(`${server}:${port} did not answer ${name} within ${timeoutMs} ms${proc ? `:\n${proc.output().slice(-4000)}` : ''}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * BIND 9 as an authoritative server of the one zone in `zoneFile`, no recursion, no control channel,
 * every file in `dir`. `threads` sets named -n (default: named's own choice, one per CPU).
 */
export function startBind(opts: { dir: string; address: string; port: number; zone: string; zoneFile: string; threads?: number }): Started {
  const zonePath = join(opts.dir, `${opts.zone}.zone`);
  writeFileSync(zonePath, opts.zoneFile);
  const conf = join(opts.dir, 'named.conf');
  writeFileSync(
    conf,
    `options {
  directory "${opts.dir}";
  pid-file "${join(opts.dir, 'named.pid')}";
  session-keyfile "${join(opts.dir, 'session.key')}";
  managed-keys-directory "${opts.dir}";
  listen-on port ${opts.port} { ${opts.address}; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { 127.0.0.0/8; };
  notify no;
  dnssec-validation no;
};
controls { };
zone "${opts.zone}" {
  type primary;
  file "${zonePath}";
};
`,
  );
  execFileSync('named-checkconf', ['-z', conf], { stdio: 'pipe' });
  const args = ['-g', '-c', conf, ...(opts.threads ? ['-n', String(opts.threads)] : [])];
  return track(spawn('named', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Kubelab's cluster DNS as its own process, from the flags npm run dns takes; `nodeFlags` go to node (e.g. --cpu-prof). */
export function startKubelabDNS(opts: { root: string; flags: string[]; nodeFlags?: string[] }): Started {
  const args = [...(opts.nodeFlags ?? []), '--conditions=source', '--import', 'tsx', join(opts.root, 'packages/dns/src/main.ts'), ...opts.flags];
  return track(spawn(process.execPath, args, { cwd: opts.root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn' } }));
}

/** Waits for an HTTP 200 from url, bounded. */
export async function waitForHTTP(url: string, timeoutMs: number, proc?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms${proc ? `:\n${proc.output().slice(-4000)}` : ''}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  runSeconds: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  stddevLatencyMs: number;
  /** rcode name -> count */
  rcodes: Record<string, number>;
  /** From the per-query lines of a verbose run. */
  p50LatencyMs?: number;
  p99LatencyMs?: number;
}

/** Parses dnsperf's summary (and, with -v, its per-query `> RCODE name type latency` lines). */
export function parseDnsperf(text: string): DnsperfResult {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`dnsperf output lacks ${re}:\n${text.slice(-2000)}`);
    return Number(m[1]);
  };
  const rcodes: Record<string, number> = {};
  const codes = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
  for (const m of codes.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  const lat = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(text);
  const result: DnsperfResult = {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    runSeconds: num(/Run time \(s\):\s+([\d.]+)/),
    avgLatencyMs: lat ? Number(lat[1]) * 1000 : NaN,
    minLatencyMs: lat ? Number(lat[2]) * 1000 : NaN,
    maxLatencyMs: lat ? Number(lat[3]) * 1000 : NaN,
    stddevLatencyMs: (Number(/Latency StdDev \(s\):\s+([\d.]+)/.exec(text)?.[1]) || 0) * 1000,
    rcodes,
  };
  const samples: number[] = [];
  for (const m of text.matchAll(/^> [A-Z]+ \S+ \S+ ([\d.]+)$/gm)) samples.push(Number(m[1]) * 1000);
  if (samples.length) {
    samples.sort((a, b) => a - b);
    const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
    result.p50LatencyMs = at(0.5);
    result.p99LatencyMs = at(0.99);
  }
  return result;
}

/** One bounded dnsperf run (UDP): killed if it outlives its -l by 30 s. */
export async function dnsperf(opts: {
  server: string;
  port: number;
  queryFile: string;
  seconds: number;
  maxOutstanding: number;
  /** -Q: a fixed offered rate instead of as fast as the server answers. */
  maxQps?: number;
  verbose?: boolean;
}): Promise<DnsperfResult> {
  const args = ['-s', opts.server, '-p', String(opts.port), '-d', opts.queryFile, '-l', String(opts.seconds), '-q', String(opts.maxOutstanding), '-t', '2', '-c', '1', '-T', '1'];
  if (opts.maxQps) args.push('-Q', String(opts.maxQps));
  if (opts.verbose) args.push('-v');
  const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = track(child);
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 30) * 1000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  const out = Buffer.concat(chunks).toString('utf8');
  if (code !== 0) throw new Error(`dnsperf ${args.join(' ')} exited with ${code}:\n${proc.output().slice(-2000)}`);
  return parseDnsperf(out);
}
