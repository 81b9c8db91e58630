// npm run bench:kube-proxy — kube-proxy's iptables renderer at scale: 10,000 Services with 50,000
// endpoints rendered into one iptables-restore payload, against the time iptables-restore takes to
// load that same payload, in one run. As root the payload is loaded for real (--noflush, as the
// proxier applies it) into a network namespace of the bench's own, created and removed here;
// otherwise `iptables-restore --test` only parses it. With iptables-legacy-restore present, the
// legacy backend's load time is shown too. Goal: render < 20% of restore. Bounded: each restore is
// killed after --restore-timeout (the ratio is then an upper bound).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { execCommand, renderProxyRules } from '@kubelab/kube-proxy';
import { makeService, makeSlice, ready } from '@kubelab/kube-proxy/testing';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '50000' },
    renders: { type: 'string', default: '5' },
    'restore-timeout': { type: 'string', default: '300' },
    reapply: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const SERVICES = Number(flags.services);
const ENDPOINTS = Number(flags.endpoints);
const RENDERS = Math.max(1, Number(flags.renders));
const RESTORE_TIMEOUT_MS = Number(flags['restore-timeout']) * 1000;

function workload(): { services: Service[]; endpointSlices: EndpointSlice[] } {
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const per = Math.floor(ENDPOINTS / SERVICES);
  let extra = ENDPOINTS - per * SERVICES;
  let ep = 0;
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    const nodePort = i % 10 === 0 ? { type: 'NodePort' as const } : {};
    services.push(
      makeService(`ns-${i % 50}`, name, {
        clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
        ...nodePort,
        ports: [{ name: 'http', port: 80, protocol: 'TCP', ...(nodePort.type ? { nodePort: 30000 + (i % 2768) } : {}) }],
      }),
    );
    const n = per + (extra-- > 0 ? 1 : 0);
    const addrs = Array.from({ length: n }, () => {
      const k = ep++;
      return ready(`10.${128 + ((k >> 16) & 63)}.${(k >> 8) & 255}.${k & 255}`, `node-${k % 100}`);
    });
    endpointSlices.push(makeSlice(`ns-${i % 50}`, name, 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], addrs));
  }
  return { services, endpointSlices };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const log = (m: string) => !flags.json && console.log(m);
  const input = workload();
  log(`workload: ${SERVICES} services, ${input.endpointSlices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0)} endpoints`);

  const options = { clusterCIDR: '10.128.0.0/10' };
  // Cold: nothing parsed yet (a restart); warm: the steady state, where only changed objects are re-parsed.
  let t0 = process.hrtime.bigint();
  let rules = renderProxyRules({ ...input, nodeName: 'node-0', options });
  const coldMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const times: number[] = [];
  for (let i = 0; i < RENDERS; i++) {
    t0 = process.hrtime.bigint();
    rules = renderProxyRules({ ...input, nodeName: 'node-0', options });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const renderMs = median(times);
  const lines = rules.text.split('\n').length;
  log(`rendered ${lines} lines (${(rules.text.length / 1e6).toFixed(1)} MB), ${rules.activeNatChains.size} service chains`);

  const root = process.getuid?.() === 0;
  const mode: 'netns' | 'test' = root ? 'netns' : 'test';
  /** Milliseconds for `bin` to load the payload, or undefined if it was killed at the timeout. */
  const load = async (bin: string): Promise<{ ms?: number; reapplyMs?: number }> => {
    if (!root) {
      const start = Date.now();
      const r = await execCommand(bin, ['--test', '--noflush'], rules.text, RESTORE_TIMEOUT_MS);
      if (r.code !== 0 && Date.now() - start >= RESTORE_TIMEOUT_MS) return {};
      if (r.code !== 0) throw new Error(`${bin} --test failed: ${r.stderr}`);
      return { ms: Date.now() - start };
    }
    const ns = `kp-bench-${randomBytes(3).toString('hex')}`;
    const add = await execCommand('ip', ['netns', 'add', ns]);
    if (add.code !== 0) throw new Error(`ip netns add: ${add.stderr}`);
    try {
      const run = async () => {
        const start = Date.now();
        const r = await execCommand('nsenter', [`--net=/run/netns/${ns}`, bin, '-w', '5', '--noflush'], rules.text, RESTORE_TIMEOUT_MS);
        if (r.code !== 0 && Date.now() - start >= RESTORE_TIMEOUT_MS) return undefined;
        if (r.code !== 0) throw new Error(`${bin} failed: ${r.stderr}`);
        return Date.now() - start;
      };
      const ms = await run();
      // A steady-state full sync: the same payload again over the loaded tables.
      const reapplyMs = ms !== undefined && flags.reapply ? await run() : undefined;
      return { ms, reapplyMs };
    } finally {
      await execCommand('ip', ['netns', 'del', ns]);
    }
  };
  log(`loading it with iptables-restore (${mode === 'netns' ? 'into a fresh network namespace' : '--test'}) ...`);
  const system = await load('iptables-restore');
  const version = (await execCommand('iptables-restore', ['--version']).catch(() => ({ stdout: '' }))).stdout.trim();
  const hasLegacy = (await execCommand('sh', ['-c', 'command -v iptables-legacy-restore'])).code === 0;
  const legacy = hasLegacy && root ? await load('iptables-legacy-restore') : undefined;
  const restoreMs = system.ms ?? RESTORE_TIMEOUT_MS;
  const reapplyMs = system.reapplyMs;
  const ratio = renderMs / restoreMs;
  const result = {
    bench: 'kube-proxy',
    services: SERVICES,
    endpoints: ENDPOINTS,
    lines,
    bytes: rules.text.length,
    renderMs: Number(renderMs.toFixed(1)),
    renderColdMs: Number(coldMs.toFixed(1)),
    restoreMode: mode,
    iptables: version,
    restoreMs,
    restoreTimedOut: system.ms === undefined,
    ...(reapplyMs !== undefined ? { reapplyMs } : {}),
    ...(legacy ? { legacyRestoreMs: legacy.ms ?? null, legacyRatio: legacy.ms ? Number((renderMs / legacy.ms).toFixed(3)) : null } : {}),
    ratio: Number(ratio.toFixed(3)),
    goal: 0.2,
    pass: ratio < 0.2,
  };
  if (flags.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const row = (a: string, b: string) => console.log(`${a.padEnd(64)}${b}`);
  console.log('');
  row('step', 'time');
  row(`render, cold (first render after start)`, `${coldMs.toFixed(1)} ms`);
  row(`render, warm (median of ${RENDERS})`, `${renderMs.toFixed(1)} ms`);
  row(`${version || 'iptables-restore'} --noflush${mode === 'netns' ? ', fresh netns' : ' --test'}`, system.ms === undefined ? `> ${RESTORE_TIMEOUT_MS} ms (killed)` : `${restoreMs} ms`);
  if (reapplyMs !== undefined) row('  the same payload again (re-apply)', `${reapplyMs} ms`);
  if (legacy) row('iptables-legacy-restore --noflush, fresh netns', legacy.ms === undefined ? `> ${RESTORE_TIMEOUT_MS} ms (killed)` : `${legacy.ms} ms`);
  row('render (warm) / iptables-restore', `${(ratio * 100).toFixed(2)}% (goal < 20%)`);
  if (legacy?.ms) row('render (warm) / iptables-legacy-restore', `${((renderMs / legacy.ms) * 100).toFixed(1)}%`);
  console.log(JSON.stringify(result));
}

await main();
