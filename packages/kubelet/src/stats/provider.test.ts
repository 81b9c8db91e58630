import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container } from '../cri/runtime-service.js';
import { CgroupReader, parseFlatKeyed, podCgroups } from './cgroup.js';
import { promValue, resourceMetricsText, StatsProvider, usageNanoCores } from './provider.js';

const NODE = '/kubelab/n1';
const POD_UID = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const POD = `${NODE}/kubepods/burstable/pod${POD_UID}`;
const SANDBOX = 'aaaa';
const CTR = 'bbbb';

let root: string;

/** Writes a cgroup v1 fixture: cpuacct.usage (ns) and memory usage/stat. */
function v1(path: string, cpuNs: number, usage: number, inactiveFile: number) {
  mkdirSync(join(root, 'cpuacct', path), { recursive: true });
  mkdirSync(join(root, 'memory', path), { recursive: true });
  writeFileSync(join(root, 'cpuacct', path, 'cpuacct.usage'), `${cpuNs}\n`);
  writeFileSync(join(root, 'memory', path, 'memory.usage_in_bytes'), `${usage}\n`);
  writeFileSync(join(root, 'memory', path, 'memory.stat'), `cache 1\nrss 2\ntotal_rss 4096\ntotal_inactive_file ${inactiveFile}\ntotal_pgfault 7\ntotal_pgmajfault 1\n`);
}

function container(id: string, name: string): Container {
  return {
    id,
    podSandboxId: SANDBOX,
    metadata: { name, attempt: 0 },
    image: null,
    imageRef: '',
    state: 'CONTAINER_RUNNING',
    createdAt: 1_700_000_000_000 * 1e6,
    labels: { 'io.kubernetes.pod.uid': POD_UID, 'io.kubernetes.pod.name': 'burner', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.container.name': name },
    annotations: {},
    imageId: '',
  };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cgroup-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup reading', () => {
  it('reads cgroup v1 cpu time and the working set (usage minus inactive file)', () => {
    v1(NODE, 5_000_000_000, 300 << 20, 100 << 20);
    const r = new CgroupReader(root);
    expect(r.version).toBe(1);
    const s = r.read(NODE, 1000)!;
    expect(s).toMatchObject({ usageCoreNanoSeconds: 5e9, usageBytes: 300 << 20, workingSetBytes: 200 << 20, rssBytes: 4096, pageFaults: 7, majorPageFaults: 1 });
    expect(r.read('/missing')).toBeUndefined();
  });

  it('reads cgroup v2 (unified) files', () => {
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory\n');
    mkdirSync(join(root, 'k'));
    writeFileSync(join(root, 'k', 'cpu.stat'), 'usage_usec 2500000\nuser_usec 2000000\n');
    writeFileSync(join(root, 'k', 'memory.current'), '1000000\n');
    writeFileSync(join(root, 'k', 'memory.stat'), 'anon 600000\ninactive_file 250000\npgfault 3\npgmajfault 0\n');
    const r = new CgroupReader(root);
    expect(r.version).toBe(2);
    expect(r.read('/k', 1)).toMatchObject({ usageCoreNanoSeconds: 2.5e9, workingSetBytes: 750000, rssBytes: 600000 });
  });

  it('finds pod cgroups of every QoS class with their child cgroups', () => {
    v1(`${NODE}/kubepods/podg`, 1, 1, 0);
    v1(`${POD}/${CTR}`, 1, 1, 0);
    v1(`${NODE}/kubepods/besteffort/podb`, 1, 1, 0);
    const pods = podCgroups(new CgroupReader(root), NODE);
    expect(pods.map((p) => p.uid).sort()).toEqual(['b', POD_UID, 'g'].sort());
    expect(pods.find((p) => p.uid === POD_UID)!.children).toEqual([{ id: CTR, path: `${POD}/${CTR}` }]);
  });

  it('parses flat keyed files, ignoring malformed lines', () => {
    expect({ ...parseFlatKeyed('a 1\nb x\n\nc 3 \n') }).toEqual({ a: 1, c: 3 });
  });
});

describe('usageNanoCores', () => {
  const s = (timeMs: number, ns: number) => ({ timeMs, usageCoreNanoSeconds: ns, usageBytes: 0, workingSetBytes: 0, rssBytes: 0, pageFaults: 0, majorPageFaults: 0 });
  it('is the CPU time rate between two samples', () => {
    // 5 s of CPU over 10 s: half a core.
    expect(usageNanoCores(s(0, 0), s(10_000, 5e9))).toBe(5e8);
  });
  it('is unknown from one sample or a counter reset', () => {
    expect(usageNanoCores(undefined, s(1, 1))).toBeUndefined();
    expect(usageNanoCores(s(0, 10), s(1000, 5))).toBeUndefined();
  });
});

describe('StatsProvider', () => {
  it('serves the Summary and resource metrics of the node, pods and containers from two housekeeping passes', async () => {
    let now = 1_700_000_100_000;
    v1(NODE, 10e9, 500 << 20, 100 << 20);
    v1(POD, 2e9, 20 << 20, 0);
    v1(`${POD}/${SANDBOX}`, 1e6, 1 << 20, 0);
    v1(`${POD}/${CTR}`, 2e9, 19 << 20, 0);
    const provider = new StatsProvider({
      nodeName: 'n1',
      cgroupRoot: NODE,
      reader: new CgroupReader(root),
      memoryCapacityBytes: 4 * 2 ** 30,
      listContainers: async () => [container(CTR, 'burn')],
      pods: () => [],
      nodeStartTimeMs: 1_600_000_000_000,
      now: () => now,
    });
    await provider.housekeep();
    expect(provider.summary().node.cpu?.usageNanoCores).toBeUndefined();
    now += 10_000;
    v1(NODE, 21e9, 600 << 20, 100 << 20); // 1.1 cores
    v1(POD, 12e9, 20 << 20, 0);
    v1(`${POD}/${CTR}`, 12e9, 19 << 20, 0); // 1 core
    await provider.housekeep();

    const summary = provider.summary();
    expect(summary.node).toMatchObject({
      nodeName: 'n1',
      startTime: '2020-09-13T12:26:40Z',
      cpu: { usageNanoCores: 1_100_000_000, usageCoreNanoSeconds: 21e9, time: '2023-11-14T22:15:10Z' },
      memory: { workingSetBytes: 500 << 20, usageBytes: 600 << 20, availableBytes: 4 * 2 ** 30 - (500 << 20) },
    });
    expect(summary.pods).toHaveLength(1);
    const pod = summary.pods[0]!;
    expect(pod.podRef).toEqual({ name: 'burner', namespace: 'default', uid: POD_UID });
    expect(pod.cpu?.usageNanoCores).toBe(1e9);
    // The sandbox's cgroup counts in the pod's, but is no container.
    expect(pod.containers.map((c) => [c.name, c.cpu?.usageNanoCores, c.memory?.workingSetBytes])).toEqual([['burn', 1e9, 19 << 20]]);

    const text = provider.resourceMetrics();
    const ts = Date.parse('2023-11-14T22:15:10Z');
    expect(text).toContain('# TYPE container_cpu_usage_seconds_total counter\n');
    expect(text).toContain(`container_cpu_usage_seconds_total{container="burn",namespace="default",pod="burner"} 12 ${ts}\n`);
    expect(text).toContain(`container_memory_working_set_bytes{container="burn",namespace="default",pod="burner"} 1.9922944e+07 ${ts}\n`);
    expect(text).toContain(`node_cpu_usage_seconds_total 21 ${ts}\n`);
    expect(text).toContain(`node_memory_working_set_bytes 5.24288e+08 ${ts}\n`);
    expect(text).toContain(`pod_cpu_usage_seconds_total{namespace="default",pod="burner"} 12 ${ts}\n`);
    expect(text).toContain(`pod_memory_working_set_bytes{namespace="default",pod="burner"} 2.097152e+07 ${ts}\n`);
    expect(text).toContain('resource_scrape_error 0\n');
  });

  it('reports a scrape error when the runtime does not answer, and drops vanished cgroups', async () => {
    v1(NODE, 1, 1, 0);
    v1(`${POD}/${CTR}`, 1, 1, 0);
    const provider = new StatsProvider({
      nodeName: 'n1',
      cgroupRoot: NODE,
      reader: new CgroupReader(root),
      memoryCapacityBytes: 1 << 30,
      listContainers: async () => {
        throw new Error('runtime down');
      },
      pods: () => [],
    });
    await provider.housekeep();
    // No name for the pod without the runtime's labels or a bound pod: not reported.
    expect(provider.summary().pods).toEqual([]);
    expect(provider.resourceMetrics()).toContain('resource_scrape_error 1\n');
    rmSync(join(root, 'cpuacct', NODE), { recursive: true });
    await provider.housekeep();
    expect(provider.summary().node.cpu).toBeUndefined();
  });

  it('escapes label values in the text format', () => {
    const text = resourceMetricsText({
      node: { nodeName: 'n', startTime: '2024-01-01T00:00:00Z' },
      pods: [{ podRef: { name: 'a"b', namespace: 'x\\y', uid: 'u' }, startTime: '2024-01-01T00:00:00Z', containers: [], memory: { time: '2024-01-01T00:00:00Z', usageBytes: 1, workingSetBytes: 1, rssBytes: 0, pageFaults: 0, majorPageFaults: 0 } }],
    });
    expect(text).toContain('pod_memory_working_set_bytes{namespace="x\\\\y",pod="a\\"b"} 1 1704067200000\n');
  });
});

describe('promValue', () => {
  it('formats as Go %g shortest', () => {
    expect([12, 21.5, 123456, 1234567, 1.7e9, 524288000, 0.0001, 0.00001, 0].map(promValue)).toEqual([
      '12', '21.5', '123456', '1.234567e+06', '1.7e+09', '5.24288e+08', '0.0001', '1e-05', '0',
    ]);
  });
});
