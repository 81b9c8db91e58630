import { describe, expect, it } from 'vitest';
import { FakeClock } from '@kubelab/client';
import { SchedulingQueue } from './scheduling-queue.js';
import { makePod } from './framework/testing.js';

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add(makePod('low', { priority: 1 }));
    q.add(makePod('high', { priority: 100 }));
    q.add(makePod('low2', { priority: 1 }));
    expect([(await q.pop())!.key, (await q.pop())!.key, (await q.pop())!.key]).toEqual(['default/high', 'default/low', 'default/low2']);
  });

  it('parks unschedulable pods until a helpful event, then backs off', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, eventMayHelp: (p, ev) => !(p.unschedulablePlugins.has('NodeAffinity') && ev.resource === 'AssignedPod') });
    q.add(makePod('p'));
    const p = (await q.pop())!;
    p.unschedulablePlugins = new Set(['NodeAffinity']);
    q.addUnschedulable(p);
    expect(q.lengths()).toMatchObject({ active: 0, unschedulable: 1 });
    q.moveAllToActiveOrBackoff({ resource: 'AssignedPod', action: 'Delete' });
    expect(q.lengths()).toMatchObject({ unschedulable: 1 });
    q.moveAllToActiveOrBackoff({ resource: 'Node', action: 'Add' });
    // Still inside its 1s backoff after the first attempt.
    expect(q.lengths()).toMatchObject({ unschedulable: 0, backoff: 1 });
    q.run();
    await clock.step(1000);
    expect(q.lengths()).toMatchObject({ backoff: 0, active: 1 });
    q.close();
  });

  it('sends a pod to backoff if an event arrived while it was in flight', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add(makePod('p'));
    const p = (await q.pop())!;
    q.moveAllToActiveOrBackoff({ resource: 'Node', action: 'Add' });
    q.addUnschedulable(p);
    expect(q.lengths()).toMatchObject({ unschedulable: 0, backoff: 1 });
  });

  it('backoff doubles per attempt up to the max', () => {
    const q = new SchedulingQueue({ initialBackoffMs: 1000, maxBackoffMs: 10_000 });
    const at = (attempts: number) => q.backoffDurationMs({ attempts } as never);
    expect([at(1), at(2), at(3), at(4), at(5)]).toEqual([1000, 2000, 4000, 8000, 10_000]);
  });
});
