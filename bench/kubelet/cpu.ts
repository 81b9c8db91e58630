// CPU time of the lab's processes during a phase of `npm run bench:kubelet` (utime + stime from
// /proc/PID/stat, children not included): which component was busy while pods started, on a machine
// whose cores the lab shares.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: the unit of /proc/PID/stat's times (100 on Linux). */
const CLOCK_TICKS = 100;

/** The lab's processes by name: the control plane and kubelets (KUBELAB_STATE/run/*.pid) and each node's containerd. */
export function labProcesses(state: string, nodes: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const read = (name: string, file: string) => {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0) out.set(name, pid);
    } catch {
      // not running
    }
  };
  const run = join(state, 'run');
  if (existsSync(run)) for (const f of readdirSync(run)) if (f.endsWith('.pid')) read(f.slice(0, -4), join(run, f));
  for (const n of nodes) read(`containerd-${n}`, `/run/kubelab/${n}/containerd.pid`);
  return out;
}

/** CPU milliseconds a process has used so far, or undefined when it is gone. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export interface CpuSample {
  at: number;
  ms: Map<string, number>;
}

export function sampleCpu(processes: Map<string, number>): CpuSample {
  const ms = new Map<string, number>();
  for (const [name, pid] of processes) {
    const v = cpuMs(pid);
    if (v !== undefined) ms.set(name, v);
  }
  return { at: performance.now(), ms };
}

/** Per process: CPU ms used between two samples, and that as a share of one core over the wall time. */
export function cpuBetween(a: CpuSample, b: CpuSample): { wallMs: number; cpuMs: Record<string, number>; cores: Record<string, number> } {
  const wallMs = b.at - a.at;
  const cpu: Record<string, number> = {};
  const cores: Record<string, number> = {};
  for (const [name, end] of b.ms) {
    const start = a.ms.get(name);
    if (start === undefined) continue;
    cpu[name] = Math.round(end - start);
    cores[name] = Number(((end - start) / wallMs).toFixed(2));
  }
  return { wallMs: Math.round(wallMs), cpuMs: cpu, cores };
}
