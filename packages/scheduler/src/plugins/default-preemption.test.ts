import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { CycleState } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import { info, makeNode, makePod, makeSnapshot } from '../framework/testing.js';
import { DefaultPreemption, filterPodsWithPDBViolation, type PreemptionHandle } from './default-preemption.js';

const pdb = (name: string, app: string, disruptionsAllowed: number, disruptedPods?: Record<string, string>): PodDisruptionBudget => ({
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: { app } } },
  status: { disruptionsAllowed, disruptedPods, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
});

const pod = (name: string, priority: number, cpu: string, app?: string, start = '2026-12-01T00:00:00Z'): Pod => ({
  ...makePod(name, { priority }, { cpu, labels: app ? { app } : undefined }),
  status: { startTime: start },
});

/** CPU is the only filter: the pod fits when the node's requested CPU leaves room for it. */
function preemption(pdbs: PodDisruptionBudget[] = []) {
  const evicted: string[] = [];
  const handle: PreemptionHandle = {
    runFilter: (_s, p: PodInfo, n: NodeInfo) =>
      n.requested.milliCPU + p.requests.milliCPU <= n.allocatable.milliCPU ? Status.success() : Status.unschedulable('Insufficient cpu'),
    runAddPod: () => undefined,
    runRemovePod: () => undefined,
    evict: async (victim) => {
      evicted.push(victim.metadata!.name!);
    },
    listPDBs: () => pdbs,
  };
  return { plugin: new DefaultPreemption(() => handle), evicted };
}

describe('filterPodsWithPDBViolation', () => {
  it("counts each pod against its budgets' disruptionsAllowed in order; pods already being disrupted do not count", () => {
    const pods = ['a1', 'a2', 'a3', 'b1'].map((n) => info(pod(n, 0, '100m', n[0] === 'a' ? 'a' : 'b')));
    const { violating, nonViolating } = filterPodsWithPDBViolation(pods, [pdb('pa', 'a', 1, { a1: '2026-12-01T00:00:00Z' }), pdb('pb', 'b', 0)]);
    expect(nonViolating.map((p) => p.pod.metadata!.name)).toEqual(['a1', 'a2']);
    expect(violating.map((p) => p.pod.metadata!.name)).toEqual(['a3', 'b1']);
  });
  it('ignores budgets of other namespaces and with empty selectors', () => {
    const other = { ...pdb('x', 'a', 0), metadata: { name: 'x', namespace: 'other' } };
    const empty = { ...pdb('y', 'a', 0), spec: { selector: {} } };
    expect(filterPodsWithPDBViolation([info(pod('a1', 0, '1', 'a'))], [other, empty]).violating).toEqual([]);
  });
});

describe('DefaultPreemption with PodDisruptionBudgets', () => {
  it('keeps a victim its budget protects when evicting another makes room on the node', () => {
    const snapshot = makeSnapshot([makeNode('n1', { cpu: '2' })], [
      [pod('guarded', 0, '1', 'db', '2026-12-02T00:00:00Z'), 'n1'],
      [pod('plain', 0, '1', undefined, '2026-12-01T00:00:00Z'), 'n1'],
    ]);
    const { plugin } = preemption();
    const incoming = info(pod('high', 100, '1'));
    const node = snapshot.get('n1')!;
    // Without a budget the most important pod is reprieved first: of equal priorities, the one started first.
    const without = plugin.selectVictimsOnNode(new CycleState(), incoming, node, snapshot, []);
    expect(without.victims?.map((v) => v.pod.metadata!.name)).toEqual(['guarded']);
    const withBudget = plugin.selectVictimsOnNode(new CycleState(), incoming, node, snapshot, [pdb('db', 'db', 0)]);
    expect(withBudget).toMatchObject({ pdbViolations: 0 });
    expect(withBudget.victims?.map((v) => v.pod.metadata!.name)).toEqual(['plain']);
    // When both must go, the budget's pod is a counted violation.
    const both = plugin.selectVictimsOnNode(new CycleState(), info(pod('big', 100, '2')), node, snapshot, [pdb('db', 'db', 0)]);
    expect(both.pdbViolations).toBe(1);
    expect(both.victims).toHaveLength(2);
  });

  it('prefers the node whose victims violate no budget, even over fewer or lower-priority victims', async () => {
    const snapshot = makeSnapshot([makeNode('guarded-node', { cpu: '1' }), makeNode('free-node', { cpu: '1' })], [
      [pod('db-0', 0, '1', 'db'), 'guarded-node'],
      [pod('web-0', 10, '1'), 'free-node'],
    ]);
    const { plugin, evicted } = preemption([pdb('db', 'db', 0)]);
    const statuses = new Map([
      ['guarded-node', Status.unschedulable('Insufficient cpu')],
      ['free-node', Status.unschedulable('Insufficient cpu')],
    ]);
    const r = await plugin.postFilter(new CycleState(), info(pod('high', 100, '1')), statuses, snapshot);
    expect(r.result?.nominatedNodeName).toBe('free-node');
    expect(evicted).toEqual(['web-0']);
  });
});
