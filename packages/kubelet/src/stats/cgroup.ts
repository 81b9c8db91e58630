// The cgroup side of upstream's cadvisor as the kubelet uses it: cumulative CPU time and memory usage of one
// cgroup, read from the cgroup filesystem (v1: the cpuacct and memory hierarchies; v2: the unified one), and
// the pod/container cgroups under the node's kubepods cgroup (cgroupfs driver: <root>/kubepods[/<qos>]/pod<uid>/<id>).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One reading of a cgroup. */
export interface CgroupSample {
  /** When it was read (ms since the epoch). */
  timeMs: number;
  /** Cumulative CPU time of the cgroup's tasks, in nanoseconds. */
  usageCoreNanoSeconds: number;
  /** Memory usage including the page cache. */
  usageBytes: number;
  /** Usage minus inactive file pages (cadvisor's working set). */
  workingSetBytes: number;
  rssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
}

export type CgroupVersion = 1 | 2;

/** Reads cgroups below a cgroup filesystem mount (/sys/fs/cgroup; a temp dir in tests). */
export class CgroupReader {
  readonly version: CgroupVersion;
  private readonly cpuDir: string;
  private readonly memoryDir: string;

  constructor(readonly fsRoot = '/sys/fs/cgroup') {
    this.version = existsSync(join(fsRoot, 'cgroup.controllers')) ? 2 : 1;
    if (this.version === 2) {
      this.cpuDir = fsRoot;
      this.memoryDir = fsRoot;
    } else {
      this.cpuDir = ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'].map((d) => join(fsRoot, d)).find((d) => existsSync(d)) ?? join(fsRoot, 'cpuacct');
      this.memoryDir = join(fsRoot, 'memory');
    }
  }

  /** The cgroup's usage, or undefined when it does not exist (any more). */
  read(cgroup: string, timeMs = Date.now()): CgroupSample | undefined {
    try {
      return this.version === 2 ? this.readV2(cgroup, timeMs) : this.readV1(cgroup, timeMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The names of a cgroup's child cgroups (directories), empty when it does not exist. */
  children(cgroup: string): string[] {
    try {
      return readdirSync(join(this.cpuDir, cgroup), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return [];
    }
  }

  private readV1(cgroup: string, timeMs: number): CgroupSample {
    const usageCoreNanoSeconds = Number(readFileSync(join(this.cpuDir, cgroup, 'cpuacct.usage'), 'utf8').trim());
    const usageBytes = Number(readFileSync(join(this.memoryDir, cgroup, 'memory.usage_in_bytes'), 'utf8').trim());
    const stat = parseFlatKeyed(readFileSync(join(this.memoryDir, cgroup, 'memory.stat'), 'utf8'));
    // The hierarchy's totals (total_*) include child cgroups, as cadvisor reads them.
    const inactiveFile = stat.total_inactive_file ?? stat.inactive_file ?? 0;
    return {
      timeMs,
      usageCoreNanoSeconds,
      usageBytes,
      workingSetBytes: Math.max(0, usageBytes - inactiveFile),
      rssBytes: stat.total_rss ?? stat.rss ?? 0,
      pageFaults: stat.total_pgfault ?? stat.pgfault ?? 0,
      majorPageFaults: stat.total_pgmajfault ?? stat.pgmajfault ?? 0,
    };
  }

  private readV2(cgroup: string, timeMs: number): CgroupSample {
    const dir = join(this.cpuDir, cgroup);
    const cpu = parseFlatKeyed(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
    const usageBytes = Number(readFileSync(join(dir, 'memory.current'), 'utf8').trim());
    const stat = parseFlatKeyed(readFileSync(join(dir, 'memory.stat'), 'utf8'));
    return {
      timeMs,
      usageCoreNanoSeconds: (cpu.usage_usec ?? 0) * 1000,
      usageBytes,
      workingSetBytes: Math.max(0, usageBytes - (stat.inactive_file ?? 0)),
      rssBytes: stat.anon ?? 0,
      pageFaults: stat.pgfault ?? 0,
      majorPageFaults: stat.pgmajfault ?? 0,
    };
  }
}

/** A cgroup "key value" file (memory.stat, cpu.stat). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A pod's cgroup found under the node's kubepods cgroup, with its child (sandbox and container) cgroups by id. */
export interface PodCgroup {
  uid: string;
  path: string;
  children: { id: string; path: string }[];
}

/** Every pod cgroup below <cgroupRoot>/kubepods (Guaranteed pods directly, Burstable and BestEffort under their QoS cgroup). */
export function podCgroups(reader: CgroupReader, cgroupRoot: string): PodCgroup[] {
  const kubepods = `${cgroupRoot.replace(/\/+$/, '')}/kubepods`;
  const out: PodCgroup[] = [];
  const add = (parent: string, name: string) => {
    const path = `${parent}/${name}`;
    out.push({ uid: name.slice(3), path, children: reader.children(path).map((id) => ({ id, path: `${path}/${id}` })) });
  };
  for (const name of reader.children(kubepods)) {
    if (name.startsWith('pod')) add(kubepods, name);
    else if (name === 'burstable' || name === 'besteffort') {
      for (const p of reader.children(`${kubepods}/${name}`)) if (p.startsWith('pod')) add(`${kubepods}/${name}`, p);
    }
  }
  return out;
}
