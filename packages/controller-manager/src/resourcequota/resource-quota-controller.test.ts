import { describe, expect, it } from 'vitest';
import { conflict, type KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { ResourceQuota } from 'kubernetes-types/core/v1';
import { seededInformer } from '../testing.js';
import { ResourceQuotaController } from './resource-quota-controller.js';

function quota(name: string, hard: Record<string, string>, status?: ResourceQuota['status']): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'ns', resourceVersion: '1' }, spec: { hard }, ...(status ? { status } : {}) } as KubeObject;
}

function pod(name: string, cpu: string, phase = 'Running'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', resourceVersion: '1' },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } } }] },
    status: { phase },
  } as KubeObject;
}

const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' } }) as KubeObject;

function setup(quotas: KubeObject[], pods: KubeObject[] = [], configmaps: KubeObject[] = []) {
  const clock = new FakeClock();
  const quotaInf = seededInformer(quotas);
  const podInf = seededInformer(pods);
  const cmInf = seededInformer(configmaps);
  const writes: ResourceQuota[] = [];
  let conflicts = 0;
  const ctrl = new ResourceQuotaController({
    quotaInformer: quotaInf,
    informers: [
      { group: '', resource: 'pods', informer: podInf },
      { group: '', resource: 'configmaps', informer: cmInf },
    ],
    client: {
      updateStatus: async (q) => {
        if (conflicts > 0) {
          conflicts--;
          throw conflict({ group: '', resource: 'resourcequotas' }, q.metadata!.name!, 'the object has been modified');
        }
        writes.push(structuredClone(q));
        // The watch delivers the write back into the cache.
        quotaInf.store.add(structuredClone(q) as KubeObject);
      },
    },
    resyncPeriodMs: 60_000,
    clock,
  });
  return { ctrl, clock, quotaInf, podInf, cmInf, writes, failNext: (n: number) => (conflicts = n) };
}

describe('ResourceQuotaController', () => {
  it('fills status.hard and status.used from the namespace, then has nothing to write', async () => {
    const env = setup(
      [quota('q', { pods: '10', 'requests.cpu': '2', 'limits.memory': '1Gi', 'count/configmaps': '5', configmaps: '5', 'count/deployments.apps': '3' })],
      [pod('a', '500m'), pod('b', '250m'), pod('done', '1', 'Succeeded')],
      [cm('one'), cm('two')],
    );
    await env.ctrl.sync('ns/q');
    expect(env.writes).toHaveLength(1);
    expect(env.writes[0].status).toEqual({
      hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '1Gi', 'count/configmaps': '5', configmaps: '5', 'count/deployments.apps': '3' },
      used: { configmaps: '2', 'count/configmaps': '2', 'count/deployments.apps': '0', 'limits.memory': '128Mi', pods: '2', 'requests.cpu': '750m' },
    });
    await env.ctrl.sync('ns/q');
    expect(env.writes).toHaveLength(1);
    await env.ctrl.sync('ns/missing');
    expect(env.writes).toHaveLength(1);
  });

  it('recalculates when a pod finishes or is deleted, not when its status changes otherwise', async () => {
    const env = setup([quota('q', { pods: '10', 'requests.cpu': '2' }), quota('cms', { configmaps: '3' })], [pod('a', '500m'), pod('b', '250m')]);
    await env.ctrl.sync('ns/q');
    expect(env.writes.at(-1)!.status!.used).toEqual({ pods: '2', 'requests.cpu': '750m' });

    const a = env.podInf.lister.get('ns', 'a')!;
    const ready = { ...structuredClone(a), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as KubeObject;
    env.ctrl.objectChanged('', 'pods', a, ready);
    expect(env.ctrl.queue.len()).toBe(0);

    const finished = { ...structuredClone(a), status: { phase: 'Succeeded' } } as KubeObject;
    env.podInf.store.add(finished);
    env.ctrl.objectChanged('', 'pods', ready, finished);
    // Only the quota that counts pods is queued.
    expect(env.ctrl.queue.len()).toBe(1);
    await env.ctrl.sync('ns/q');
    expect(env.writes.at(-1)!.status!.used).toEqual({ pods: '1', 'requests.cpu': '250m' });

    const b = env.podInf.lister.get('ns', 'b')!;
    env.podInf.store.deleteKey('ns/b');
    env.ctrl.objectChanged('', 'pods', undefined, b);
    await env.ctrl.sync('ns/q');
    expect(env.writes.at(-1)!.status!.used).toEqual({ pods: '0', 'requests.cpu': '0' });
  });

  it('looks again when a deleted pod’s grace period ends', async () => {
    const env = setup([quota('q', { pods: '10' })], [pod('a', '100m')]);
    await env.ctrl.sync('ns/q');
    const a = env.podInf.lister.get('ns', 'a')!;
    const terminating = structuredClone(a);
    terminating.metadata = { ...terminating.metadata, deletionTimestamp: new Date(env.clock.now()).toISOString(), deletionGracePeriodSeconds: 30 };
    env.podInf.store.add(terminating);
    env.ctrl.objectChanged('', 'pods', a, terminating);
    // Still counted during the grace period: nothing to do yet.
    expect(env.ctrl.queue.len()).toBe(0);
    await env.clock.step(31_000);
    expect(env.ctrl.queue.len()).toBe(1);
    await env.ctrl.sync('ns/q');
    expect(env.writes.at(-1)!.status!.used).toEqual({ pods: '0' });
  });

  it('queues a quota whose spec changed or whose status is stale, not its own status write', () => {
    const synced = quota('q', { pods: '2' }, { hard: { pods: '2' }, used: { pods: '1' } });
    const env = setup([synced]);
    env.ctrl.quotaUpdated(quota('q', { pods: '2' }), synced);
    expect(env.ctrl.queue.len()).toBe(0);
    env.ctrl.quotaUpdated(synced, quota('q', { pods: '3' }, { hard: { pods: '2' }, used: { pods: '1' } }));
    expect(env.ctrl.queue.len()).toBe(1);
  });

  it('requeues on a conflict and resyncs every quota each period', async () => {
    const env = setup([quota('q', { configmaps: '3' }), quota('r', { pods: '1' })], [], [cm('x')]);
    env.failNext(1);
    await env.ctrl.sync('ns/q');
    expect(env.writes).toHaveLength(0);
    await env.clock.step(1000);
    expect(env.ctrl.queue.len()).toBe(1);

    const abort = new AbortController();
    const running = env.ctrl.run(1, abort.signal);
    for (let i = 0; i < 50 && env.writes.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(env.writes.map((w) => w.metadata!.name).sort()).toEqual(['q']);
    // A configmap created without an event reaching the controller is found by the periodic resync.
    env.cmInf.store.add(cm('y'));
    await env.clock.step(60_000);
    for (let i = 0; i < 50 && env.writes.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    const last = (name: string) => env.writes.filter((w) => w.metadata!.name === name).at(-1)!.status!.used;
    expect(last('q')).toEqual({ configmaps: '2' });
    // The quota no event ever queued is filled in too.
    expect(last('r')).toEqual({ pods: '0' });
    abort.abort();
    await running;
  });
});
