// The scheduler loop (upstream's schedule_one_test / queue tests around deletion) over a fake API: real
// informers fed by fake list/watch streams, so deletes arrive as the watch would deliver them.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { notFound, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { FakeClock, FakeEventsV1Recorder, Watch, flushMicrotasks, type RestClient } from '@kubelab/client';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { defaults, validate } from './config.js';
import { makeNode, makePod } from './framework/testing.js';
import { Scheduler, truncateMessage } from './scheduler.js';

interface Call {
  method: string;
  name: string;
  sub?: string;
}

/** Pods, nodes and namespaces in memory; list/watch, pods/status patches and pods/binding. */
class FakeApi {
  readonly objects = new Map<string, Map<string, KubeObject>>([
    ['pods', new Map()],
    ['nodes', new Map()],
    ['namespaces', new Map()],
    ['poddisruptionbudgets', new Map()],
    ['persistentvolumeclaims', new Map()],
    ['persistentvolumes', new Map()],
    ['storageclasses', new Map()],
  ]);
  private readonly watchers = new Map<string, Set<PassThrough>>();
  private rv = 1;
  readonly calls: Call[] = [];
  /** When set, writes wait for it (a throttled client). */
  gate?: Promise<void>;
  /** Bindings answer NotFound, as when the pod was deleted before the scheduler heard of it. */
  bindNotFound = false;

  private key(o: KubeObject): string {
    return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!;
  }

  private emit(resource: string, type: string, o: KubeObject): void {
    for (const w of this.watchers.get(resource) ?? []) w.write(JSON.stringify({ type, object: o }) + '\n');
  }

  put(resource: string, o: KubeObject): void {
    const store = this.objects.get(resource)!;
    const obj = { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
    const had = store.has(this.key(obj));
    store.set(this.key(obj), obj);
    this.emit(resource, had ? 'MODIFIED' : 'ADDED', obj);
  }

  remove(resource: string, ns: string, name: string): void {
    const store = this.objects.get(resource)!;
    const k = ns ? `${ns}/${name}` : name;
    const o = store.get(k);
    if (!o) return;
    store.delete(k);
    this.emit(resource, 'DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Deletes without telling the watchers: an informer that lags behind. */
  removeUnseen(resource: string, ns: string, name: string): void {
    this.objects.get(resource)!.delete(ns ? `${ns}/${name}` : name);
  }

  callsFor(name: string, sub?: string): Call[] {
    return this.calls.filter((c) => c.name === name && (sub === undefined || c.sub === sub));
  }

  client(): RestClient {
    const resource = (info: ResourceInfo, ns?: string) => {
      const store = this.objects.get(info.resource)!;
      const get = (name: string) => store.get(ns ? `${ns}/${name}` : name);
      return {
        list: async () => ({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.rv) }, items: [...store.values()] }),
        watch: async () => {
          const stream = new PassThrough();
          let set = this.watchers.get(info.resource);
          if (!set) this.watchers.set(info.resource, (set = new Set()));
          set.add(stream);
          return new Watch(stream, () => {
            set.delete(stream);
            stream.end();
          });
        },
        patch: async (name: string, patch: { status?: object; metadata?: { annotations?: object } }, _type: string, opts: { subresource?: string } = {}) => {
          this.calls.push({ method: 'PATCH', name, sub: opts.subresource ?? 'annotations' });
          await this.gate;
          const cur = get(name);
          if (!cur) throw notFound({ group: '', resource: info.resource }, name);
          const next = { ...cur, status: { ...cur.status, ...(patch.status ?? {}) } };
          if (patch.metadata?.annotations) next.metadata = { ...cur.metadata, annotations: { ...cur.metadata.annotations, ...patch.metadata.annotations } };
          this.put(info.resource, next);
          return next;
        },
        delete: async (name: string) => this.remove(info.resource, ns ?? '', name),
      };
    };
    const request = async (opts: { method?: string; path: string; body?: { target?: { name: string } } }) => {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/binding$/.exec(opts.path);
      if (!m) throw new Error(`unexpected request ${opts.method} ${opts.path}`);
      const [, ns, name] = m as unknown as [string, string, string];
      this.calls.push({ method: 'POST', name, sub: 'binding' });
      await this.gate;
      const cur = this.objects.get('pods')!.get(`${ns}/${name}`);
      if (!cur || this.bindNotFound) throw notFound({ group: '', resource: 'pods' }, name);
      this.put('pods', { ...cur, spec: { ...cur.spec, nodeName: opts.body!.target!.name } });
      return {};
    };
    return { config: {}, resource, request, close: () => {} } as unknown as RestClient;
  }
}

/** Counts FailedScheduling events by pod name. */
class Events extends FakeEventsV1Recorder {
  about(name: string): string[] {
    return this.events.filter((_, i) => this.regarding[i]!.metadata.name === name);
  }
  attempts(name: string): number {
    return this.about(name).filter((e) => e.startsWith('Warning FailedScheduling ')).length;
  }
}

const asObj = (o: Pod | Node, kind: string) => ({ apiVersion: 'v1', kind, ...o }) as KubeObject;

let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
});

async function startWith(api: FakeApi, clock: FakeClock, events: Events): Promise<Scheduler> {
  const s = new Scheduler(validate({ ...defaults(), securePort: 0, leaderElect: false }), { client: api.client(), clock, eventRecorder: events });
  await s.start();
  return s;
}

/** Lets the loop, the informers and the writers run until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await flushMicrotasks();
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Scheduler and deleted pods', () => {
  it('a pod deleted while unschedulable or backing off leaves the queue and is never attempted again', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const events = new Events();
    api.put('nodes', asObj(makeNode('n1', { cpu: '1' }), 'Node'));
    const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const n of names) api.put('pods', asObj(makePod(n, {}, { cpu: '4' }), 'Pod'));
    scheduler = await startWith(api, clock, events);
    await until(() => scheduler!.queue.lengths().unschedulable === 10, 'every pod to be tried once');
    expect(names.map((n) => events.attempts(n))).toEqual(names.map(() => 1));

    // p0..p4 go while they wait in unschedulablePods.
    for (const n of names.slice(0, 5)) api.remove('pods', 'default', n);
    await until(() => scheduler!.queue.lengths().unschedulable === 5, 'deletes to reach the queue');
    // A node change sends the rest to backoffQ (their 1s backoff has not passed); p5..p7 go from there.
    api.put('nodes', asObj(makeNode('n1', { cpu: '2' }), 'Node'));
    await until(() => scheduler!.queue.lengths().backoff === 5, 'pods to move to backoffQ');
    for (const n of names.slice(5, 8)) api.remove('pods', 'default', n);
    await until(() => scheduler!.queue.lengths().backoff === 2, 'deletes to reach backoffQ');

    // Backoff completes, more cluster events, the 5-minute unschedulable flush: only p8 and p9 are tried.
    for (let i = 0; i < 4; i++) {
      await clock.step(10_000);
      api.put('nodes', asObj(makeNode(`extra-${i}`, { cpu: '1' }), 'Node'));
      await flushMicrotasks();
    }
    await clock.step(6 * 60_000);
    await until(() => events.attempts('p8') > 1 && events.attempts('p9') > 1, 'live pods to be retried');
    expect(names.slice(0, 8).map((n) => events.attempts(n))).toEqual(names.slice(0, 8).map(() => 1));
    const keys = [...scheduler.queue.activePods(), ...scheduler.queue.backoffPods(), ...scheduler.queue.unschedulablePods()].map((p) => p.key);
    expect(keys.every((k) => k === 'default/p8' || k === 'default/p9')).toBe(true);
    for (const n of names.slice(0, 8)) expect(scheduler.queue.has(`default/${n}`)).toBe(false);
  });

  it('status writes queued for a pod are dropped when it is deleted, and repeated failures do not pile up writes', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const events = new Events();
    let open!: () => void;
    api.gate = new Promise<void>((r) => (open = r));
    api.put('nodes', asObj(makeNode('n1', { cpu: '1' }), 'Node'));
    const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
    for (const n of names) api.put('pods', asObj(makePod(n, {}, { cpu: '4' }), 'Pod'));
    scheduler = await startWith(api, clock, events);
    await until(() => scheduler!.queue.lengths().unschedulable === 20, 'every pod to be tried once');
    // Retried again and again while the writes are stuck: still one write per pod.
    for (let i = 0; i < 3; i++) {
      api.put('nodes', asObj(makeNode('n1', { cpu: '1', labels: { round: String(i) } }), 'Node'));
      await clock.step(11_000);
      await until(() => scheduler!.queue.lengths().unschedulable === 20, 'pods to be parked again');
    }
    expect(events.attempts('p0')).toBeGreaterThan(1);
    expect(scheduler.pendingWrites()).toBe(20);
    const sentBeforeDelete = api.calls.length;
    expect(sentBeforeDelete).toBeLessThan(20);

    for (const n of names) api.remove('pods', 'default', n);
    await until(() => scheduler!.queue.lengths().unschedulable === 0, 'deletes to reach the queue');
    open();
    await scheduler.waitForWrites();
    // Only the writes already sent when the pods went were made; none was sent afterwards.
    expect(api.calls.length).toBe(sentBeforeDelete);
    expect(scheduler.pendingWrites()).toBe(0);
  });

  it('a pod whose status write answers NotFound leaves the queue though the informer has not heard of the delete', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const events = new Events();
    let open!: () => void;
    api.gate = new Promise<void>((r) => (open = r));
    api.put('nodes', asObj(makeNode('n1', { cpu: '1' }), 'Node'));
    for (const n of ['ghost', 'live']) api.put('pods', asObj(makePod(n, {}, { cpu: '4' }), 'Pod'));
    scheduler = await startWith(api, clock, events);
    await until(() => api.callsFor('ghost', 'status').length === 1, 'the status write to be sent');
    api.removeUnseen('pods', 'default', 'ghost');
    open();
    await scheduler.waitForWrites();
    expect(scheduler.queue.has('default/ghost')).toBe(false);
    for (let i = 0; i < 3; i++) {
      api.put('nodes', asObj(makeNode(`extra-${i}`, { cpu: '1' }), 'Node'));
      await clock.step(11_000);
      await flushMicrotasks();
    }
    await until(() => events.attempts('live') > 1, 'the live pod to be retried');
    expect(events.attempts('ghost')).toBe(1);
    expect(api.callsFor('ghost')).toHaveLength(1);
  });

  it('a binding that fails with NotFound is not requeued', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const events = new Events();
    api.bindNotFound = true;
    api.put('nodes', asObj(makeNode('n1', { cpu: '4' }), 'Node'));
    api.put('pods', asObj(makePod('gone', {}, { cpu: '1' }), 'Pod'));
    scheduler = await startWith(api, clock, events);
    await until(() => api.callsFor('gone', 'binding').length === 1, 'the binding');
    await scheduler.waitForBindings();
    expect(scheduler.queue.has('default/gone')).toBe(false);
    expect(scheduler.queue.lengths()).toMatchObject({ active: 0, backoff: 0, unschedulable: 0 });
    // Cluster events and time do not bring it back; no FailedScheduling, no status write about it.
    api.put('nodes', asObj(makeNode('n2', { cpu: '4' }), 'Node'));
    await clock.step(6 * 60_000);
    await flushMicrotasks();
    expect(api.callsFor('gone', 'binding')).toHaveLength(1);
    expect(api.callsFor('gone', 'status')).toHaveLength(0);
    expect(events.about('gone')).toEqual([]);
    expect(scheduler.queue.has('default/gone')).toBe(false);
  });
});

describe('truncateMessage', () => {
  it('keeps a FailedScheduling note within the 1024 characters events.k8s.io allows', () => {
    const short = '0/3 nodes are available: 3 Insufficient cpu.';
    expect(truncateMessage(short)).toBe(short);
    const long = `0/500 nodes are available: ${'1 node(s) had untolerated taint {x: y}, '.repeat(40)}`;
    const t = truncateMessage(long);
    expect(t).toHaveLength(1024);
    expect(t.endsWith(' ...')).toBe(true);
    expect(long.startsWith(t.slice(0, -4))).toBe(true);
  });
});
