// Upstream's replica_calculator_test.go resource cases, as tables: requests in cores, usage in millicores.
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import { getRawResourceReplicas, getResourceReplicas, type PodMetricsInfo } from './replica-calculator.js';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const OPTS = { tolerance: 0.1, cpuInitializationPeriodMs: 5 * 60_000, delayOfInitialReadinessStatusMs: 30_000 };
const iso = (ms: number) => new Date(ms).toISOString();

interface PodCase {
  request?: string;
  /** Usage in millicores; undefined: no metric for the pod. */
  level?: number;
  ready?: boolean;
  phase?: string;
  deleted?: boolean;
  /** Minutes since the pod started (default 10: past the CPU initialization period). */
  startedMinutesAgo?: number;
}

function build(cases: PodCase[]): { pods: Pod[]; metrics: PodMetricsInfo } {
  const pods: Pod[] = [];
  const metrics: PodMetricsInfo = new Map();
  cases.forEach((c, i) => {
    const name = `test-pod-${i}`;
    const start = NOW - (c.startedMinutesAgo ?? 10) * 60_000;
    pods.push({
      metadata: { name, namespace: 'default', ...(c.deleted ? { deletionTimestamp: iso(NOW) } : {}) },
      spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: c.request ?? '1' } } }] },
      status: {
        phase: c.phase ?? 'Running',
        startTime: iso(start),
        conditions: [{ type: 'Ready', status: c.ready === false ? 'False' : 'True', lastTransitionTime: iso(start + 10_000) }],
      },
    });
    if (c.level !== undefined) metrics.set(name, { value: c.level, timestampMs: NOW - 5_000, windowMs: 30_000 });
  });
  return { pods, metrics };
}

function calc(current: number, target: number, cases: PodCase[]) {
  const { pods, metrics } = build(cases);
  return getResourceReplicas(current, target, 'cpu', pods, metrics, OPTS, NOW);
}

describe('getResourceReplicas (CPU utilization)', () => {
  it.each([
    // name, current, target, pods, expected replicas, utilization, raw average
    ['scale up', 3, 30, [{ level: 300 }, { level: 500 }, { level: 700 }], 5, 50, 500],
    ['scale up, unready pods scale less', 3, 30, [{ level: 300, ready: false, startedMinutesAgo: 1 }, { level: 500 }, { level: 700 }], 4, 60, 600],
    ['scale up, unready pods do not scale', 3, 30, [{ level: 400 }, { level: 500, ready: false, startedMinutesAgo: 1 }, { level: 700, ready: false, startedMinutesAgo: 1 }], 3, 40, 400],
    ['scale up, ignores deleted and failed pods', 2, 30, [{ level: 500 }, { level: 700 }, { level: 100, deleted: true }, { level: 100, phase: 'Failed' }], 4, 60, 600],
    ['scale up, pending pods count as unready', 3, 30, [{ level: 300, phase: 'Pending' }, { level: 500 }, { level: 700 }], 4, 60, 600],
    ['scale up, a pending pod that would flip the direction keeps the count', 3, 30, [{ level: 300 }, { level: 500 }, { level: 700, phase: 'Pending' }], 3, 40, 400],
    ['scale down', 5, 50, [{ level: 100 }, { level: 300 }, { level: 500 }, { level: 250 }, { level: 250 }], 3, 28, 280],
    ['scale down, ignores unready pods', 5, 50, [{ level: 100 }, { level: 300 }, { level: 500 }, { level: 250, ready: false, startedMinutesAgo: 1 }, { level: 250, ready: false, startedMinutesAgo: 1 }], 2, 30, 300],
    ['within tolerance', 3, 100, [{ request: '0.9', level: 1010 }, { request: '1.0', level: 1030 }, { request: '1.1', level: 1020 }], 3, 102, 1020],
    ['missing metric, no change (equal)', 2, 100, [{ level: 1000 }, {}], 2, 100, 1000],
    ['missing metric, no change (scale up would flip)', 2, 100, [{ level: 1900 }, {}], 2, 190, 1900],
    ['missing metric, no change (scale down would flip)', 2, 100, [{ level: 600 }, {}], 2, 60, 600],
    ['missing metric, scale up', 2, 50, [{ level: 1500 }, {}], 3, 150, 1500],
    ['missing metric, scale down (missing pods use their whole request)', 4, 100, [{ level: 100 }, { level: 100 }, { level: 100 }, {}], 2, 10, 100],
  ] as const)('%s', (_name, current, target, pods, replicas, utilization, raw) => {
    expect(calc(current, target, pods as unknown as PodCase[])).toEqual({ replicas, utilization, rawUsage: raw });
  });

  it('fails with upstream messages', () => {
    expect(() => calc(1, 50, [])).toThrow('no pods returned by selector while calculating replica count');
    expect(() => calc(1, 50, [{ level: 100, ready: false, startedMinutesAgo: 1 }])).toThrow('did not receive metrics for targeted pods (pods might be unready)');
    const { pods, metrics } = build([{ level: 100 }]);
    delete pods[0]!.spec!.containers[0]!.resources;
    expect(() => getResourceReplicas(1, 50, 'cpu', pods, metrics, OPTS, NOW)).toThrow('missing request for cpu in container c of Pod test-pod-0');
  });

  it('a sample taken before a full window of readiness counts as unready in the initialization period', () => {
    const { pods, metrics } = build([{ level: 900, startedMinutesAgo: 1 }, { level: 900 }]);
    pods[0]!.status!.conditions![0]!.lastTransitionTime = iso(NOW - 20_000); // ready 20 s ago, window 30 s
    // Only the second pod counts as ready (90% against 50%: a scale-up); the unready one then counts as 0%:
    // (900 + 0) / 2000 = 45%, a ratio of 0.9 that would flip the direction, so the count stays.
    expect(getResourceReplicas(2, 50, 'cpu', pods, metrics, OPTS, NOW).replicas).toBe(2);
  });
});

describe('getRawResourceReplicas (average value)', () => {
  it('scales on the average usage per pod', () => {
    const { pods, metrics } = build([{ level: 300 }, { level: 500 }, { level: 700 }]);
    expect(getRawResourceReplicas(3, 300, 'cpu', pods, metrics, OPTS, NOW)).toEqual({ replicas: 5, rawUsage: 500 });
    expect(getRawResourceReplicas(3, 500, 'cpu', pods, metrics, OPTS, NOW)).toEqual({ replicas: 3, rawUsage: 500 });
  });
});
