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

  it('a pod deleted in backoffQ or unschedulablePods is gone for good: no flush or event brings it back', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock });
    for (const n of ['a', 'b', 'c']) q.add(makePod(n));
    const [a, b, c] = [(await q.pop())!, (await q.pop())!, (await q.pop())!];
    q.addUnschedulable(a, { error: true });
    q.addUnschedulable(b);
    q.addUnschedulable(c);
    expect(q.lengths()).toMatchObject({ backoff: 1, unschedulable: 2 });
    expect(q.delete(makePod('a'))).toBe(true);
    expect(q.delete(makePod('b'))).toBe(true);
    expect(q.lengths()).toMatchObject({ active: 0, backoff: 0, unschedulable: 1 });
    q.run();
    q.moveAllToActiveOrBackoff({ resource: 'Node', action: 'Add' });
    await clock.step(6 * 60_000);
    const keys: string[] = [];
    for (let p = q.activePods().length; p > 0; p--) keys.push((await q.pop())!.key);
    expect(keys).toEqual(['default/c']);
    expect(q.has('default/a') || q.has('default/b')).toBe(false);
    q.close();
  });

  it('a pod deleted while in flight is not requeued when its attempt fails', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add(makePod('p'));
    const p = (await q.pop())!;
    q.delete(makePod('p'));
    q.addUnschedulable(p);
    q.addUnschedulable(p, { error: true });
    expect(q.lengths()).toMatchObject({ active: 0, backoff: 0, unschedulable: 0 });
    expect(q.has('default/p')).toBe(false);
  });

  it('deleting an old pod leaves a new pod of the same name alone', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add(makePod('p'));
    const old = (await q.pop())!;
    q.delete(makePod('p'));
    const p = makePod('p');
    q.add({ ...p, metadata: { ...p.metadata, uid: 'uid-p-2' } });
    const again = (await q.pop())!;
    // The old attempt ends: it must neither requeue the old pod nor take the new one out of flight.
    q.addUnschedulable(old);
    expect(q.delete(makePod('p'))).toBe(false);
    q.addUnschedulable(again);
    expect(q.lengths()).toMatchObject({ unschedulable: 1 });
    expect(q.unschedulablePods()[0]!.info.pod.metadata?.uid).toBe('uid-p-2');
  });
});
