import { describe, expect, it } from 'vitest';
import { StatusError } from '@kubelab/api';
import { FakeClock, flushMicrotasks } from './clock.js';
import { EventBroadcaster, FakeRecorder } from './events.js';
import { sprintf } from './events-queue.js';
import { EventsV1Broadcaster, FakeEventsV1Recorder } from './events-v1.js';
import type { RestClient } from './rest.js';

interface Call {
  verb: 'create' | 'patch';
  resource: string;
  name: string;
  body: any;
}

/** A RestClient stand-in that records what the broadcasters write (pure logic: no server involved). */
function recordingClient(opts: { hold?: Promise<void>; fail?: (call: Call) => unknown } = {}) {
  const calls: Call[] = [];
  const client = {
    resource: (info: { group: string }) => {
      const resource = info.group ? `events.${info.group}` : 'events';
      const call = async (c: Call) => {
        calls.push(c);
        await opts.hold;
        const err = opts.fail?.(c);
        if (err) throw err;
        return c.body;
      };
      return {
        create: (body: any) => call({ verb: 'create', resource, name: body.metadata.name, body }),
        patch: (name: string, body: any, type: string) => call({ verb: 'patch', resource, name, body: { ...body, type } }),
      };
    },
  } as unknown as RestClient;
  return { client, calls };
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };
const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'n-uid' } };

describe('EventBroadcaster (core/v1, client-go tools/record)', () => {
  it('creates an Event about the object, then counts repeats in it with a patch', async () => {
    const { client, calls } = recordingClient();
    const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));
    const b = new EventBroadcaster({ client, clock });
    const r = b.newRecorder({ component: 'replicaset-controller' });
    r.eventf(pod, 'Normal', 'SuccessfulCreate', 'Created pod: %v', 'web-1');
    await b.flush();
    await clock.step(5000);
    r.event(pod, 'Normal', 'SuccessfulCreate', 'Created pod: web-1');
    await b.flush();
    expect(calls[0]).toMatchObject({ verb: 'create', resource: 'events' });
    expect(calls[0]!.body).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: calls[0]!.name, namespace: 'ns' },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7' },
      reason: 'SuccessfulCreate',
      message: 'Created pod: web-1',
      firstTimestamp: '2026-11-23T10:00:00Z',
      lastTimestamp: '2026-11-23T10:00:00Z',
      count: 1,
      type: 'Normal',
      source: { component: 'replicaset-controller' },
      reportingComponent: 'replicaset-controller',
      reportingInstance: '',
    });
    expect(calls[0]!.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(calls[1]).toEqual({
      verb: 'patch',
      resource: 'events',
      name: calls[0]!.name,
      body: { count: 2, lastTimestamp: '2026-11-23T10:00:05Z', message: 'Created pod: web-1', type: 'strategic' },
    });
  });

  it('puts events about cluster-scoped objects in default, with the source host', async () => {
    const { client, calls } = recordingClient();
    const b = new EventBroadcaster({ client, clock: new FakeClock() });
    b.newRecorder({ component: 'kubelet', host: 'n1' }).event(node, 'Normal', 'NodeReady', 'ready');
    await b.flush();
    expect(calls[0]!.body).toMatchObject({ metadata: { namespace: 'default' }, source: { component: 'kubelet', host: 'n1' }, reportingInstance: 'n1' });
  });

  it('combines the 10th event in 10 minutes that differs only by message, and counts later ones in it', async () => {
    const { client, calls } = recordingClient();
    const clock = new FakeClock();
    const b = new EventBroadcaster({ client, clock });
    const r = b.newRecorder({ component: 'job-controller' });
    for (let i = 0; i < 11; i++) r.event(pod, 'Warning', 'FailedCreate', `error ${i}`);
    await b.flush();
    const messages = calls.map((c) => `${c.verb} ${c.body.count} ${c.body.message}`);
    expect(messages.slice(0, 9)).toEqual([...Array(9).keys()].map((i) => `create 1 error ${i}`));
    expect(messages.slice(9)).toEqual(['create 1 (combined from similar events): error 9', 'patch 2 (combined from similar events): error 10']);
    expect(calls[10]!.name).toBe(calls[9]!.name);
    // Ten minutes later a different message is an event of its own again.
    await clock.step(600_001);
    r.event(pod, 'Warning', 'FailedCreate', 'error 11');
    await b.flush();
    expect(calls.at(-1)!.body).toMatchObject({ count: 1, message: 'error 11' });
  });

  it('lets a source write 25 events about an object, then one every 5 minutes', async () => {
    const { client, calls } = recordingClient();
    const clock = new FakeClock();
    const b = new EventBroadcaster({ client, clock });
    const r = b.newRecorder({ component: 'kubelet', host: 'n1' });
    for (let i = 0; i < 30; i++) r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    // Another object has its own budget.
    r.event({ ...pod, metadata: { ...pod.metadata, name: 'other', uid: 'u2' } }, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await b.flush();
    const about = (name: string) => calls.filter((c) => c.name.startsWith(`${name}.`));
    expect(about('web').map((c) => c.body.count)).toEqual([...Array(25).keys()].map((i) => i + 1));
    expect(about('other')).toHaveLength(1);
    await clock.step(290_000);
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await b.flush();
    expect(calls).toHaveLength(26);
    await clock.step(20_000);
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await b.flush();
    // The skipped repeats were still counted.
    expect(calls.at(-1)).toMatchObject({ verb: 'patch', body: { count: 32 } });
  });

  it('creates the event again when the one to patch is gone', async () => {
    const { client, calls } = recordingClient({ fail: (c) => c.verb === 'patch' && new StatusError({ code: 404, reason: 'NotFound', message: 'gone' }) });
    const b = new EventBroadcaster({ client, clock: new FakeClock() });
    const r = b.newRecorder({ component: 'c' });
    r.event(pod, 'Normal', 'R', 'm');
    r.event(pod, 'Normal', 'R', 'm');
    await b.flush();
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch', 'create']);
    expect(calls[2]!.body).toMatchObject({ count: 2, metadata: { name: calls[0]!.name } });
  });

  it('retries a write the server did not answer, up to 12 tries, and drops one it refused', async () => {
    let down = true;
    const { client, calls } = recordingClient({
      fail: (c) => (c.body.reason === 'Refused' ? new StatusError({ code: 422, reason: 'Invalid', message: 'bad' }) : down && new Error('ECONNREFUSED')),
    });
    const clock = new FakeClock();
    const errors: string[] = [];
    const b = new EventBroadcaster({ client, clock, random: () => 0.5, onError: (err) => errors.push((err as Error).message) });
    const r = b.newRecorder({ component: 'c' });
    r.event(pod, 'Normal', 'Refused', 'm');
    r.event(node, 'Normal', 'Retried', 'm');
    await flushMicrotasks();
    expect(calls.map((c) => c.body.reason)).toEqual(['Refused', 'Retried']);
    await clock.step(5000); // the first sleep is randomized (here half of 10 s)
    expect(calls).toHaveLength(3);
    down = false;
    await clock.step(10_000);
    await b.flush();
    expect(calls.map((c) => c.body.reason)).toEqual(['Refused', 'Retried', 'Retried', 'Retried']);
    expect(errors).toEqual(['bad', 'ECONNREFUSED', 'ECONNREFUSED']);
    down = true;
    r.event(node, 'Normal', 'GivenUp', 'm');
    for (let i = 0; i < 12; i++) await clock.step(10_000);
    await b.flush();
    expect(calls.filter((c) => c.body.reason === 'GivenUp')).toHaveLength(12);
  });

  it('keeps at most maxInFlight writes going, at most 1000 waiting, and flush waits for all', async () => {
    let release!: () => void;
    const { client, calls } = recordingClient({ hold: new Promise<void>((r) => (release = r)) });
    const b = new EventBroadcaster({ client, clock: new FakeClock(), maxInFlight: 2 });
    const r = b.newRecorder({ component: 'c' });
    for (let i = 0; i < 1500; i++) r.event({ ...pod, metadata: { ...pod.metadata, name: `p${i}`, uid: `u${i}` } }, 'Normal', 'R', 'm');
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    expect(b.dropped).toBe(500);
    release();
    await b.flush();
    expect(calls).toHaveLength(1000);
  });
});

describe('FakeRecorder', () => {
  it('keeps events as "type reason message"', () => {
    const r = new FakeRecorder();
    r.eventf(pod, 'Warning', 'FailedCreate', 'Error creating: %v', 'quota');
    r.event(pod, 'Normal', 'SuccessfulCreate', 'Created pod: web-1');
    expect(r.events).toEqual(['Warning FailedCreate Error creating: quota', 'Normal SuccessfulCreate Created pod: web-1']);
    const withObject = new FakeRecorder(true);
    withObject.event(pod, 'Normal', 'R', 'm');
    expect(withObject.events).toEqual(['Normal R m involvedObject{kind=Pod,apiVersion=v1}']);
  });
});

describe('sprintf', () => {
  it('formats the Go verbs events use', () => {
    expect(sprintf('%s/%v to %d%% (%q)', 'ns', 'p', 3.7, 'x')).toBe('ns/p to 3% ("x")');
    expect(sprintf('%v and %v', 1)).toBe('1 and %!v(MISSING)');
    expect(sprintf('no verbs', 'x')).toBe('no verbs%!(EXTRA string=x)');
  });
});

describe('EventsV1Broadcaster (events.k8s.io/v1, client-go tools/events)', () => {
  const failed = '0/1 nodes are available: 1 Insufficient cpu.';

  it('creates an event, patches its series on the first repeat, and writes the final count when the series ends', async () => {
    const { client, calls } = recordingClient();
    const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));
    const b = new EventsV1Broadcaster({ client, clock, hostname: 'h1' });
    const r = b.newRecorder('default-scheduler');
    for (let i = 0; i < 100; i++) r.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', failed);
    await b.flush();
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch']);
    expect(calls[0]).toMatchObject({ resource: 'events.events.k8s.io' });
    expect(calls[0]!.body).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: calls[0]!.name, namespace: 'ns' },
      eventTime: '2026-11-23T10:00:00.000000Z',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-h1',
      action: 'Scheduling',
      reason: 'FailedScheduling',
      regarding: { kind: 'Pod', apiVersion: 'v1', name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7' },
      note: failed,
      type: 'Warning',
    });
    expect(calls[1]).toEqual({
      verb: 'patch',
      resource: 'events.events.k8s.io',
      name: calls[0]!.name,
      body: { series: { count: 2, lastObservedTime: '2026-11-23T10:00:00.000000Z' }, type: 'strategic' },
    });
    // A repeat with another note belongs to the same series; another pod is an event of its own.
    await clock.step(60_000);
    r.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', '0/2 nodes are available');
    r.eventf({ ...pod, metadata: { ...pod.metadata, name: 'q', uid: 'u2' } }, undefined, 'Warning', 'FailedScheduling', 'Scheduling', failed);
    await b.flush();
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch', 'create']);
    // Not seen for 6 minutes: written a last time at the next 6-minute check, then forgotten.
    await clock.step(11 * 60_000);
    await b.flush();
    expect(calls.slice(3)).toEqual([
      { verb: 'patch', resource: 'events.events.k8s.io', name: calls[0]!.name, body: { series: { count: 101, lastObservedTime: '2026-11-23T10:01:00.000000Z' }, type: 'strategic' } },
    ]);
    r.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', failed);
    await b.flush();
    expect(calls.at(-1)).toMatchObject({ verb: 'create', body: { note: failed } });
    expect(calls.at(-1)!.name).not.toBe(calls[0]!.name);
    b.shutdown();
    expect(clock.pending()).toBe(0);
  });

  it('refers to the related object and formats the note', async () => {
    const { client, calls } = recordingClient();
    const b = new EventsV1Broadcaster({ client, clock: new FakeClock(), hostname: 'h1' });
    const preemptor = { ...pod, metadata: { ...pod.metadata, name: 'high', uid: 'u9' } };
    b.newRecorder('default-scheduler').eventf(pod, preemptor, 'Normal', 'Preempted', 'Preempting', 'Preempted by pod %v on node %v', 'u9', 'n1');
    await b.flush();
    b.shutdown();
    expect(calls[0]!.body).toMatchObject({ related: { name: 'high', uid: 'u9' }, note: 'Preempted by pod u9 on node n1', action: 'Preempting' });
  });

  it('keeps at most 1000 events waiting while the API client is stuck, dropping the rest', async () => {
    let release!: () => void;
    const { client, calls } = recordingClient({ hold: new Promise<void>((r) => (release = r)) });
    const b = new EventsV1Broadcaster({ client, clock: new FakeClock(), hostname: 'h1' });
    const r = b.newRecorder('default-scheduler');
    for (let i = 0; i < 1500; i++) r.eventf({ ...pod, metadata: { ...pod.metadata, name: `p${i}`, uid: `u${i}` } }, undefined, 'Warning', 'FailedScheduling', 'Scheduling', 'no nodes');
    await flushMicrotasks();
    expect(calls.length).toBeLessThanOrEqual(16);
    expect(b.dropped).toBe(500);
    release();
    await b.flush();
    b.shutdown();
    expect(calls).toHaveLength(1000);
  });

  it('FakeEventsV1Recorder keeps "type reason note"', () => {
    const r = new FakeEventsV1Recorder();
    r.eventf(pod, undefined, 'Normal', 'Scheduled', 'Binding', 'Successfully assigned %v/%v to %v', 'ns', 'web', 'n1');
    expect(r.events).toEqual(['Normal Scheduled Successfully assigned ns/web to n1']);
    expect(r.regarding[0]).toBe(pod);
  });
});
