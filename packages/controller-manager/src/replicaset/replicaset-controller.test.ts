import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { FakePodControl, seededInformer } from '../testing.js';
import { ReplicaSetController, podsToDelete, slowStartBatch } from './replicaset-controller.js';
import { calculateStatus } from './replicaset-status.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function newRS(replicas: number, extra: Partial<KubeObject['spec']> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 2, resourceVersion: '10' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...extra,
    },
    status: { replicas: 0 },
  };
}

let podSeq = 0;
function newPod(name: string, opts: { owner?: KubeObject; ready?: boolean; readySince?: number; node?: string; phase?: string; labels?: Record<string, string>; created?: number } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `pod-${name}`,
      resourceVersion: String(++podSeq),
      labels: opts.labels ?? { app: 'web' },
      creationTimestamp: new Date(opts.created ?? T0).toISOString(),
      ownerReferences: opts.owner
        ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner.metadata.name!, uid: opts.owner.metadata.uid!, controller: true }]
        : undefined,
    },
    spec: { nodeName: opts.node, containers: [{ name: 'c', image: 'nginx' }] },
    status: {
      phase: (opts.phase as 'Running') ?? (opts.ready ? 'Running' : 'Pending'),
      conditions: opts.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(opts.readySince ?? T0).toISOString() }] : [],
    },
  };
}

function setup(rs: KubeObject, pods: Pod[] = []) {
  const clock = new FakeClock(T0 + 60_000);
  const rsInformer = seededInformer([rs]);
  const podInformer = seededInformer(pods as KubeObject[]);
  const podControl = new FakePodControl();
  const recorder = new FakeRecorder();
  const statuses: KubeObject[] = [];
  const ctrl = new ReplicaSetController({
    rsInformer,
    podInformer,
    podControl,
    recorder,
    clock,
    updateStatus: async (obj) => {
      statuses.push(obj);
      return obj;
    },
  });
  return { ctrl, clock, rsInformer, podInformer, podControl, statuses };
}

describe('ReplicaSetController.sync', () => {
  it('creates the missing pods with a controllerRef, in slow-start batches, and expects them', async () => {
    const rs = newRS(3);
    const { ctrl, podControl, statuses } = setup(rs);
    await ctrl.sync('default/web');
    expect(podControl.created).toHaveLength(3);
    const pod = podControl.created[0]!;
    expect(pod.metadata!.generateName).toBe('web-');
    expect(pod.metadata!.labels).toEqual({ app: 'web' });
    expect(pod.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }]);
    expect(ctrl.expectations.satisfied('default/web')).toBe(false);
    expect(statuses.at(-1)!.status).toMatchObject({ replicas: 0, observedGeneration: 2 });

    // A second sync before the cache shows the pods must not create again.
    await ctrl.sync('default/web');
    expect(podControl.created).toHaveLength(3);
  });

  it('does not double-create once the pods are observed, and creates again when one disappears', async () => {
    const rs = newRS(2);
    const { ctrl, podControl, podInformer } = setup(rs);
    await ctrl.sync('default/web');
    for (const p of podControl.created) {
      (p.metadata as any).uid = p.metadata!.name;
      (p.metadata as any).resourceVersion = "1";
      podInformer.store.add(p as KubeObject);
      ctrl.expectations.creationObserved('default/web');
    }
    expect(ctrl.expectations.satisfied('default/web')).toBe(true);
    await ctrl.sync('default/web');
    expect(podControl.created).toHaveLength(2);
    podInformer.store.delete(podControl.created[0] as KubeObject);
    await ctrl.sync('default/web');
    expect(podControl.created).toHaveLength(3);
  });

  it('stops after the first failing batch and lowers expectations for the skipped creates', async () => {
    const rs = newRS(10);
    const { ctrl, podControl, statuses } = setup(rs);
    podControl.createLimit = 2;
    await expect(ctrl.sync('default/web')).rejects.toThrow('fake create failure');
    // Batches 1 and 2: the first succeeds, the second has one success and one failure; 7 skipped.
    expect(podControl.created).toHaveLength(2);
    expect(ctrl.expectations.pending('default/web')).toEqual({ add: 2, del: 0 });
    const cond = statuses.at(-1)!.status.conditions[0];
    expect(cond).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'fake create failure' });
  });

  it('deletes surplus pods: unscheduled, then not ready, then newest', async () => {
    const rs = newRS(2);
    const pods = [
      newPod('old-ready', { owner: rs, ready: true, node: 'n1', created: T0 - 5000 }),
      newPod('new-ready', { owner: rs, ready: true, node: 'n1', created: T0 - 1000 }),
      newPod('not-ready', { owner: rs, node: 'n1', phase: 'Running' }),
      newPod('unscheduled', { owner: rs }),
    ];
    const { ctrl, podControl } = setup(rs, pods);
    await ctrl.sync('default/web');
    expect(podControl.deleted).toEqual(['unscheduled', 'not-ready']);
    expect(ctrl.expectations.pending('default/web')).toEqual({ add: 0, del: 2 });
    expect(podsToDelete(pods.slice(0, 2), pods, 1).map((p) => p.metadata!.name)).toEqual(['new-ready']);
  });

  it('adopts matching orphans and releases owned pods that no longer match', async () => {
    const rs = newRS(2);
    const orphan = newPod('orphan', { ready: true });
    const stray = newPod('stray', { owner: rs, labels: { app: 'other' } });
    const owned = newPod('owned', { owner: rs });
    const foreign = newPod('foreign', { labels: { app: 'web' } });
    foreign.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'x', controller: true }];
    const { ctrl, podControl } = setup(rs, [orphan, stray, owned, foreign]);
    await ctrl.sync('default/web');
    const byName = Object.fromEntries(podControl.patched.map((p) => [p.name, p.patch as any]));
    expect(Object.keys(byName).sort()).toEqual(['orphan', 'stray']);
    expect(byName.orphan.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', uid: 'rs-uid', controller: true });
    expect(byName.stray.metadata.ownerReferences).toEqual([]);
    // orphan + owned = 2 = replicas: nothing to create or delete.
    expect(podControl.created).toHaveLength(0);
    expect(podControl.deleted).toHaveLength(0);
  });

  it('does not count terminating or finished pods', async () => {
    const rs = newRS(2);
    const gone = newPod('terminating', { owner: rs, ready: true });
    (gone.metadata as any).deletionTimestamp = new Date(T0).toISOString();
    const done = newPod('done', { owner: rs, phase: 'Succeeded' });
    const { ctrl, podControl } = setup(rs, [gone, done, newPod('live', { owner: rs })]);
    await ctrl.sync('default/web');
    expect(podControl.created).toHaveLength(1);
  });

  it('writes status only when it changes and requeues for minReadySeconds', async () => {
    const rs = newRS(2, { minReadySeconds: 30 });
    const now = T0 + 60_000;
    const pods = [newPod('a', { owner: rs, ready: true, readySince: now - 40_000 }), newPod('b', { owner: rs, ready: true, readySince: now - 10_000 })];
    const { ctrl, statuses, rsInformer, clock } = setup(rs, pods);
    await ctrl.sync('default/web');
    expect(statuses).toHaveLength(1);
    expect(statuses[0]!.status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 2 });
    rsInformer.store.add(statuses[0]!);
    await ctrl.sync('default/web');
    expect(statuses).toHaveLength(1);
    // The key comes back once pod b has been ready for 30s.
    expect(ctrl.queue.len()).toBe(0);
    await clock.step(30_000);
    expect(ctrl.queue.len()).toBe(1);
    await ctrl.sync('default/web');
    expect(statuses.at(-1)!.status.availableReplicas).toBe(2);
  });

  it('propagates a status conflict so the key is requeued', async () => {
    const rs = newRS(0);
    const { ctrl } = setup(rs, [newPod('a', { owner: rs })]);
    (ctrl as any).opts.updateStatus = async () => {
      throw Object.assign(new Error('conflict'), { status: { reason: 'Conflict' } });
    };
    await expect(ctrl.sync('default/web')).rejects.toThrow('conflict');
  });

  it('forgets a deleted ReplicaSet', async () => {
    const rs = newRS(1);
    const { ctrl, rsInformer, podControl } = setup(rs);
    ctrl.expectations.expectCreations('default/web', 1);
    rsInformer.store.delete(rs);
    await ctrl.sync('default/web');
    expect(ctrl.expectations.pending('default/web')).toBeUndefined();
    expect(podControl.created).toHaveLength(0);
  });
});

describe('calculateStatus and slowStartBatch', () => {
  it('counts fully labeled pods', () => {
    const rs = newRS(2, { template: { metadata: { labels: { app: 'web', tier: 'fe' } } } });
    const s = calculateStatus(rs as never, [newPod('a', { labels: { app: 'web', tier: 'fe' } }), newPod('b')], undefined, T0, '');
    expect(s).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1, readyReplicas: 0, availableReplicas: 0 });
  });

  it('batches 1, 2, 4, ... and stops after a failing batch', async () => {
    let calls = 0;
    // Call 4 fails: it is in the third batch (calls 4..7), which still runs to the end; no fourth batch.
    const r = await slowStartBatch(10, 1, async () => {
      if (++calls === 4) throw new Error('boom');
    });
    expect(calls).toBe(7);
    expect(r.succeeded).toBe(6);
    expect(r.error?.message).toBe('boom');
    expect(await slowStartBatch(7, 1, async () => undefined)).toEqual({ succeeded: 7 });
  });
});
