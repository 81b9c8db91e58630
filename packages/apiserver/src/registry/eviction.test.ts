import { describe, expect, it } from 'vitest';
import { conflict, findResource, StatusError, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { evictionREST, withDisruptionTarget } from './eviction.js';

const pods = findResource('', 'v1', 'pods')!;
const now = new Date('2026-01-01T00:00:00Z');

function pod(name: string, phase = 'Running', ready = true, labels: Record<string, string> = { app: 'web' }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '5', labels },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function pdb(name: string, status: Partial<NonNullable<PodDisruptionBudget['status']>>, selector: object | undefined = { matchLabels: { app: 'web' } }): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'ns', generation: 1, resourceVersion: '1' },
    spec: { minAvailable: 2, ...(selector ? { selector } : {}) },
    status: { observedGeneration: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, ...status },
  };
}

function setup(podList: Pod[], budgets: PodDisruptionBudget[], conflicts = 0) {
  const deleted: { name: string; opts: unknown }[] = [];
  const statusWrites: PodDisruptionBudget[] = [];
  const conditioned: string[] = [];
  let failures = conflicts;
  const rest = evictionREST(pods, {
    getPod: async (_ns, name) => structuredClone(podList.find((p) => p.metadata!.name === name)!),
    deletePod: async (_ns, name, opts) => void deleted.push({ name, opts }),
    addDisruptionTarget: async (_ns, name) => {
      conditioned.push(name);
      return '6';
    },
    listPodDisruptionBudgets: async () => structuredClone(budgets),
    updatePodDisruptionBudgetStatus: async (p) => {
      if (failures-- > 0) throw conflict({ group: 'policy', resource: 'poddisruptionbudgets' }, p.metadata!.name!, 'changed');
      statusWrites.push(p);
    },
    clock: () => now,
  });
  const evict = (name: string, body: object = {}, dryRun = false) =>
    rest.createNamed('ns', name, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'ns' }, ...body } as KubeObject, { dryRun });
  return { rest, evict, deleted, statusWrites, conditioned };
}

describe('pods/eviction', () => {
  it('deletes a pod no budget covers, answering Success', async () => {
    const env = setup([pod('a', 'Running', true, { app: 'other' })], [pdb('web', {})]);
    expect(env.rest.kind).toEqual({ apiVersion: 'policy/v1', kind: 'Eviction' });
    expect(await env.evict('a', { deleteOptions: { gracePeriodSeconds: 5 } })).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    expect(env.deleted).toEqual([{ name: 'a', opts: { gracePeriodSeconds: 5 } }]);
    expect(env.statusWrites).toEqual([]);
  });

  it('charges the budget, then deletes the pod it checked', async () => {
    const env = setup([pod('a')], [pdb('web', {})], 1);
    await env.evict('a');
    expect(env.statusWrites).toHaveLength(1);
    expect(env.statusWrites[0].status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { a: '2026-01-01T00:00:00Z' } });
    // The DisruptionTarget condition is written first; the delete is guarded by the pod's version after it.
    expect(env.conditioned).toEqual(['a']);
    expect(env.deleted).toEqual([{ name: 'a', opts: { preconditions: { uid: 'uid-a', resourceVersion: '6' } } }]);
  });

  it("refuses with 429 when the budget allows no disruption", async () => {
    const env = setup([pod('a')], [pdb('web', { disruptionsAllowed: 0, currentHealthy: 2 })]);
    const err = (await env.evict('a').catch((e) => e)) as StatusError;
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(429);
    expect(err.status).toMatchObject({
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });
    expect(env.deleted).toEqual([]);
    // Not yet observed by the disruption controller: also refused.
    const stale = setup([pod('a')], [{ ...pdb('web', {}), metadata: { name: 'web', namespace: 'ns', generation: 2 } }]);
    expect(((await stale.evict('a').catch((e) => e)) as StatusError).status.details?.causes?.[0]?.message).toBe('The disruption budget web is still being processed by the server.');
  });

  it('needs no budget for finished or pending pods, nor for an unready pod while the budget is met', async () => {
    const env = setup([pod('done', 'Succeeded'), pod('new', 'Pending'), pod('sick', 'Running', false)], [pdb('web', { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 })]);
    await env.evict('done');
    await env.evict('new');
    await env.evict('sick');
    expect(env.deleted.map((d) => d.name)).toEqual(['done', 'new', 'sick']);
    expect(env.statusWrites).toEqual([]);
  });

  it('marks the pod with the DisruptionTarget condition', () => {
    const p = withDisruptionTarget(pod('a'), now);
    expect(p.status!.conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
  });

  it('refuses two budgets, a mismatched name, and writes nothing on a dry run', async () => {
    const two = setup([pod('a')], [pdb('one', {}), pdb('all', {}, {})]);
    expect(((await two.evict('a').catch((e) => e)) as StatusError).message).toBe(
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
    const env = setup([pod('a')], [pdb('web', {})]);
    const bad = (await env.rest.createNamed('ns', 'a', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'b' } } as KubeObject, {}).catch((e) => e)) as StatusError;
    expect(bad.code).toBe(400);
    expect(bad.message).toBe('name in URL does not match name in Eviction object');
    await env.evict('a', {}, true);
    expect(env.statusWrites).toEqual([]);
    expect(env.deleted[0].opts).toMatchObject({ dryRun: ['All'] });
    expect(env.conditioned).toEqual([]);
  });
});
