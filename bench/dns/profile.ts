// Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by source file,
// with file names shortened to the package they belong to. Used by bench:dns --cpu-prof.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of all samples the process was idle (waiting in the event loop). */
  idlePct: number;
  /** The rest are shares of the busy (non-idle) samples. */
  busyMs: number;
  gcPct: number;
  functions: Array<{ name: string; where: string; selfPct: number }>;
  files: Array<{ file: string; selfPct: number }>;
}

/** node_modules/dns2/lib/packet.js -> dns2/lib/packet.js; /repo/packages/dns/src/x.ts -> packages/dns/src/x.ts. */
function shortFile(url: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const pk = path.indexOf('/packages/');
  if (pk >= 0) return path.slice(pk + 1);
  return path;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = profile.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  const byFile = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') idle += hits;
    if (functionName === '(garbage collector)') gc += hits;
    const where = url ? `${shortFile(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
    const f = url ? shortFile(url) : functionName.startsWith('(') ? functionName : '(native)';
    byFile.set(f, (byFile.get(f) ?? 0) + hits);
  }
  const busy = Math.max(total - idle, 1);
  const pct = (h: number) => Number(((h / busy) * 100).toFixed(1));
  const totalMs = Math.round((profile.endTime - profile.startTime) / 1000);
  return {
    totalMs,
    idlePct: Number(((idle / total) * 100).toFixed(1)),
    busyMs: Math.round((totalMs * busy) / total),
    gcPct: pct(gc),
    functions: [...byFunction.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfPct: pct(f.hits) })),
    files: [...byFile.entries()]
      .filter(([f]) => f !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, h]) => ({ file: f, selfPct: pct(h) })),
  };
}
