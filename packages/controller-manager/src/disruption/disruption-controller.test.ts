import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { seededInformer } from '../testing.js';
import { DELETION_TIMEOUT_MS, DisruptionController } from './disruption-controller.js';

const rsRef = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true };

function pod(name: string, ready = true, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', labels: { app: 'web' }, ownerReferences: [rsRef], ...extra },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  } as KubeObject;
}

function pdb(spec: Record<string, unknown>, status?: PodDisruptionBudget['status']): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'ns', generation: 2 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status ? { status } : {}),
  } as KubeObject;
}

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns', uid: 'd-uid' }, spec: { replicas: 4 } } as KubeObject;
const rs = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-1', namespace: 'ns', uid: 'rs-uid', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }] },
  spec: { replicas: 4 },
} as KubeObject;

function setup(budget: KubeObject, pods: KubeObject[]) {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const pdbInf = seededInformer([budget]);
  const podInf = seededInformer(pods);
  const writes: PodDisruptionBudget[] = [];
  const ctrl = new DisruptionController({
    pdbInformer: pdbInf,
    podInformer: podInf,
    scale: { replicaSets: seededInformer([rs]), deployments: seededInformer([deployment]) },
    client: {
      updateStatus: async (p) => {
        writes.push(structuredClone(p));
        pdbInf.store.add(structuredClone(p) as KubeObject);
      },
    },
    clock,
  });
  const status = () => writes.at(-1)!.status!;
  return { ctrl, clock, writes, status, podInf };
}

describe('DisruptionController', () => {
  it('minAvailable: counts Ready pods not being deleted and allows the surplus', async () => {
    const env = setup(pdb({ minAvailable: 2 }), [pod('a'), pod('b'), pod('c'), pod('sick', false), pod('going', true, { deletionTimestamp: '2026-01-01T00:00:00Z' })]);
    await env.ctrl.sync('ns/web');
    expect(env.status()).toEqual({
      disruptionsAllowed: 1,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 5,
      observedGeneration: 2,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
    await env.ctrl.sync('ns/web');
    expect(env.writes).toHaveLength(1);
  });

  it("maxUnavailable and percentages scale with the pods' Deployment", async () => {
    const env = setup(pdb({ maxUnavailable: '25%' }), [pod('a'), pod('b'), pod('c')]);
    await env.ctrl.sync('ns/web');
    // 4 expected (the Deployment's replicas), 25% of 4 = 1 may be unavailable: 3 must stay healthy, 3 are.
    expect(env.status()).toMatchObject({ expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
    expect(env.status().conditions![0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
    const pct = setup(pdb({ minAvailable: '50%' }), [pod('a'), pod('b'), pod('c')]);
    await pct.ctrl.sync('ns/web');
    expect(pct.status()).toMatchObject({ expectedPods: 4, desiredHealthy: 2, disruptionsAllowed: 1 });
  });

  it('fails safe when a pod has no controller it can scale', async () => {
    const env = setup(pdb({ maxUnavailable: 1 }), [pod('a'), pod('orphan', true, { ownerReferences: [] })]);
    await env.ctrl.sync('ns/web');
    expect(env.status()).toMatchObject({ disruptionsAllowed: 0, observedGeneration: 2 });
    expect(env.status().conditions![0]).toMatchObject({ status: 'False', reason: 'SyncFailed', message: 'found no controller ref for pod "orphan"' });
  });

  it('does not count just-evicted pods as healthy until they go or time out', async () => {
    const evictedAt = '2026-01-01T00:00:00Z';
    const env = setup(pdb({ minAvailable: 1 }, { disruptedPods: { a: evictedAt, gone: evictedAt }, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 }), [pod('a'), pod('b')]);
    await env.ctrl.sync('ns/web');
    expect(env.status()).toMatchObject({ disruptedPods: { a: evictedAt }, currentHealthy: 1, disruptionsAllowed: 0 });
    await env.clock.step(DELETION_TIMEOUT_MS + 1000);
    expect(env.ctrl.queue.len()).toBe(1);
    await env.ctrl.sync('ns/web');
    expect(env.status().disruptedPods).toBeUndefined();
    expect(env.status()).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1 });
  });

  it('queues the budgets that select a changed pod', () => {
    const env = setup(pdb({ minAvailable: 1 }), []);
    env.ctrl.podChanged({ ...pod('x'), metadata: { name: 'x', namespace: 'ns', labels: { app: 'other' } } } as KubeObject);
    expect(env.ctrl.queue.len()).toBe(0);
    env.ctrl.podChanged(pod('y'));
    expect(env.ctrl.queue.len()).toBe(1);
  });
});
