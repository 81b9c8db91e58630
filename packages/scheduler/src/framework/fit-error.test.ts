import { describe, expect, it } from 'vitest';
import { FitError } from './fit-error.js';
import { Status } from './status.js';

describe('FitError message', () => {
  it('is upstream\'s histogram, sorted as strings, with the preemption suffix', () => {
    const statuses = new Map([
      ['a', Status.unschedulable('Insufficient cpu')],
      ['b', Status.unresolvable("node(s) didn't match Pod's node affinity/selector")],
      ['c', Status.unresolvable("node(s) didn't match Pod's node affinity/selector")],
    ]);
    const e = new FitError(3, { nodeToStatus: statuses, unschedulablePlugins: new Set() });
    expect(e.message).toBe("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
    e.diagnosis.postFilterMsg = 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    expect(e.refresh().message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );
  });
  it('counts each reason of a node (several insufficient resources)', () => {
    const e = new FitError(2, {
      nodeToStatus: new Map([
        ['a', Status.unschedulable('Insufficient cpu', 'Insufficient memory')],
        ['b', Status.unschedulable('Insufficient cpu')],
      ]),
      unschedulablePlugins: new Set(),
    });
    expect(e.message).toBe('0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.');
  });
});
