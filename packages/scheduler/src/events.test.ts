// The scheduler's event writes: repeats folded into a series refreshed every 6 minutes, and a bounded queue.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks, type RestClient } from '@kubelab/client';
import { EventRecorder } from './events.js';
import { makePod } from './framework/testing.js';

function fakeClient(hold?: Promise<void>) {
  const writes: Array<{ verb: string; name: string }> = [];
  const client = {
    resource: () => ({
      create: async (o: { metadata: { name: string } }) => {
        writes.push({ verb: 'create', name: o.metadata.name });
        await hold;
        return o;
      },
      patch: async (name: string) => {
        writes.push({ verb: 'patch', name });
        await hold;
        return {};
      },
    }),
  } as unknown as RestClient;
  return { client, writes };
}

describe('scheduler EventRecorder', () => {
  it('writes a repeated FailedScheduling once, then once per 6 minutes', async () => {
    const clock = new FakeClock();
    const { client, writes } = fakeClient();
    const rec = new EventRecorder(client, { component: 'default-scheduler', instance: 'x', clock });
    const pod = makePod('p');
    for (let i = 0; i < 100; i++) rec.emit(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    await rec.flush();
    expect(writes.map((w) => w.verb)).toEqual(['create']);
    await clock.step(5 * 60_000);
    rec.emit(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    await rec.flush();
    expect(writes).toHaveLength(1);
    await clock.step(60_000);
    rec.emit(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    // A different message, or another pod, is written at once.
    rec.emit(pod, 'Warning', 'FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.');
    rec.emit(makePod('q'), 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    await rec.flush();
    expect(writes.map((w) => w.verb)).toEqual(['create', 'patch', 'create', 'create']);
  });

  it('keeps at most 1000 events waiting while the API client is stuck, dropping the rest', async () => {
    let release!: () => void;
    const { client, writes } = fakeClient(new Promise<void>((r) => (release = r)));
    const rec = new EventRecorder(client, { component: 'default-scheduler', instance: 'x', clock: new FakeClock() });
    for (let i = 0; i < 1500; i++) rec.emit(makePod(`p${i}`), 'Warning', 'FailedScheduling', 'no nodes');
    await flushMicrotasks();
    expect(writes.length).toBeLessThanOrEqual(16);
    expect(rec.dropped).toBe(1500 - 1000 - writes.length);
    release();
    await rec.flush();
    expect(writes).toHaveLength(1500 - rec.dropped);
  });
});
