// What a hollow node reports instead of reading the host (upstream kubemark's fake cadvisor,
// cadvisortest.Fake: fixed machine info, made-up usage): a fixed machine (4 CPU, 16 GiB by default) and a cgroup
// reader whose tree is the hollow runtime's pods (<cgroup parent>/<container id>, as the cgroupfs driver lays
// them out) with a small steady usage per running container, so that /stats/summary, the resource metrics and
// `kubectl top` have numbers.
import { goArch, type MachineInfo } from '../nodestatus/machine-info.js';
import { type CgroupSample, CgroupReader } from '../stats/cgroup.js';
import type { HollowRuntimeService } from './runtime.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The machine every hollow node pretends to be (kubemark's fake cadvisor reports one fixed machine too). */
export function hollowMachineInfo(nodeName: string, opts: { cpus?: number; memoryBytes?: number; rootfsBytes?: number } = {}): MachineInfo {
  // A stable made-up machine id per node (32 hex digits, as /etc/machine-id).
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeName.length; i++) h = Math.imul(h ^ nodeName.charCodeAt(i), 0x01000193) >>> 0;
  const id = h.toString(16).padStart(8, '0').repeat(4);
  return {
    numCores: opts.cpus ?? 4,
    memoryCapacityBytes: opts.memoryBytes ?? 16 * GiB,
    rootfsCapacityBytes: opts.rootfsBytes ?? 100 * GiB,
    machineID: id,
    systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    bootID: id,
    kernelVersion: 'hollow',
    osImage: 'Kubelab hollow node',
    operatingSystem: 'linux',
    architecture: goArch(),
  };
}

/** Per running container: 2 millicores and 4 MiB; the node itself adds 100 millicores and 256 MiB. */
const CONTAINER_NANOCORES = 2e6;
const CONTAINER_BYTES = 4 * MiB;
const NODE_NANOCORES = 1e8;
const NODE_BYTES = 256 * MiB;

/** The cgroup tree of one moment: per cgroup, its child names and the start times of the running containers below it. */
interface Tree {
  atMs: number;
  children: Map<string, Set<string>>;
  running: Map<string, number[]>;
}

/** The hollow runtime's pods and containers as a cgroup tree with made-up, steadily growing usage. */
export class HollowCgroupReader extends CgroupReader {
  private readonly bootMs: number;
  private tree?: Tree;

  constructor(
    private readonly runtime: HollowRuntimeService,
    private readonly now: () => number = Date.now,
    /** How long one built tree answers (a housekeeping pass reads every cgroup within a few milliseconds). */
    private readonly treeTTLMs = 500,
  ) {
    // No cgroup filesystem is read: the base class is given a path that does not exist.
    super('/nonexistent/hollow-cgroup');
    this.bootMs = now();
  }

  /** Every ready sandbox's cgroup parent and running container, with their ancestors, indexed once per pass. */
  private current(): Tree {
    const now = this.now();
    if (this.tree && now - this.tree.atMs < this.treeTTLMs) return this.tree;
    const children = new Map<string, Set<string>>();
    const running = new Map<string, number[]>();
    const addPath = (path: string) => {
      const parts = path.split('/').filter(Boolean);
      for (let i = 0; i < parts.length; i++) {
        const parent = `/${parts.slice(0, i).join('/')}`;
        let set = children.get(parent);
        if (!set) children.set(parent, (set = new Set()));
        set.add(parts[i]!);
      }
      return parts;
    };
    for (const s of this.runtime.sandboxes.values()) if (s.state === 'SANDBOX_READY' && s.cgroupParent) addPath(s.cgroupParent);
    for (const c of this.runtime.containers.values()) {
      if (c.state !== 'CONTAINER_RUNNING') continue;
      const parent = this.runtime.sandboxes.get(c.podSandboxId);
      if (parent?.state !== 'SANDBOX_READY' || !parent.cgroupParent) continue;
      const parts = addPath(`${parent.cgroupParent}/${c.id}`);
      for (let i = 0; i <= parts.length; i++) {
        const path = `/${parts.slice(0, i).join('/')}`;
        let list = running.get(path);
        if (!list) running.set(path, (list = []));
        list.push(c.startedAt / 1e6);
      }
    }
    this.tree = { atMs: now, children, running };
    return this.tree;
  }

  private static key(cgroup: string): string {
    return `/${cgroup.split('/').filter(Boolean).join('/')}`;
  }

  override read(cgroup: string, timeMs = this.now()): CgroupSample | undefined {
    const key = HollowCgroupReader.key(cgroup);
    const root = key === '/';
    const tree = this.current();
    if (!root && !tree.children.has(key) && !tree.running.has(key)) return undefined;
    const running = tree.running.get(key) ?? [];
    let cpu = root ? NODE_NANOCORES * ((timeMs - this.bootMs) / 1000) : 0;
    for (const startedMs of running) cpu += CONTAINER_NANOCORES * (Math.max(0, timeMs - startedMs) / 1000);
    const bytes = (root ? NODE_BYTES : 0) + running.length * CONTAINER_BYTES;
    return { timeMs, usageCoreNanoSeconds: Math.round(cpu), usageBytes: bytes, workingSetBytes: bytes, rssBytes: bytes, pageFaults: 0, majorPageFaults: 0 };
  }

  override children(cgroup: string): string[] {
    return [...(this.current().children.get(HollowCgroupReader.key(cgroup)) ?? [])];
  }
}
