import { describe, expect, it } from 'vitest';
import { EventRecorder } from './events.js';
import { FakeClock } from './clock.js';
import type { RestClient } from './rest.js';

/** A RestClient stand-in that records what the recorder writes (pure logic: no server involved). */
function recordingClient() {
  const calls: { verb: string; name?: string; body: any }[] = [];
  const client = {
    resource: () => ({
      create: async (body: any) => {
        calls.push({ verb: 'create', body });
        return body;
      },
      patch: async (name: string, body: any) => {
        calls.push({ verb: 'patch', name, body });
        return body;
      },
    }),
  } as unknown as RestClient;
  return { client, calls };
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };

describe('EventRecorder', () => {
  it('writes an Event about the object, then folds repeats into its count', async () => {
    const { client, calls } = recordingClient();
    const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));
    const r = new EventRecorder({ client, component: 'default-scheduler', instance: 'h1', clock });
    r.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available');
    await r.flush();
    await clock.step(5000);
    r.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available');
    await r.flush();
    expect(calls[0]!.verb).toBe('create');
    expect(calls[0]!.body).toMatchObject({
      metadata: { namespace: 'ns' },
      involvedObject: { kind: 'Pod', name: 'web', uid: 'u1' },
      type: 'Warning',
      reason: 'FailedScheduling',
      count: 1,
      source: { component: 'default-scheduler' },
      firstTimestamp: '2026-11-23T10:00:00Z',
      reportingInstance: 'h1',
    });
    expect(calls[0]!.body.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(calls[1]).toEqual({ verb: 'patch', name: calls[0]!.body.metadata.name, body: { count: 2, lastTimestamp: '2026-11-23T10:00:05Z' } });
  });

  it('keeps at most maxInFlight writes going and flush waits for all', async () => {
    let running = 0;
    let peak = 0;
    const client = {
      resource: () => ({
        create: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        },
      }),
    } as unknown as RestClient;
    const r = new EventRecorder({ client, component: 'c', clock: new FakeClock(0), maxInFlight: 2 });
    for (let i = 0; i < 6; i++) r.event({ ...pod, metadata: { ...pod.metadata, uid: `u${i}` } }, 'Normal', 'R', `m${i}`);
    await r.flush();
    expect(peak).toBe(2);
    expect(running).toBe(0);
  });
});
