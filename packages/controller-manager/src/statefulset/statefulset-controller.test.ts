import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { FakeHistoryClient } from '../history/controller-history.js';
import { FakePodWriter } from '../history/pod-writer.js';
import { seededInformer } from '../testing.js';
import { StatefulSetController, type StatefulSetControllerOptions } from './statefulset-controller.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function newSet(spec: Partial<StatefulSet['spec']> = {}, image = 'nginx:1'): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 1 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  };
}

function setup(set: StatefulSet, extra: Partial<StatefulSetControllerOptions> = {}) {
  const clock = new FakeClock(T0);
  const setInformer = seededInformer([set as KubeObject]);
  const podInformer = seededInformer();
  const revisionInformer = seededInformer();
  const writer = new FakePodWriter();
  const history = new FakeHistoryClient();
  const recorder = new FakeRecorder();
  const statuses: StatefulSet[] = [];
  const ctrl = new StatefulSetController({
    setInformer,
    podInformer,
    revisionInformer,
    pods: writer,
    history,
    recorder,
    clock,
    updateStatus: async (s) => {
      statuses.push(structuredClone(s));
      setInformer.store.update(s as KubeObject);
      return s;
    },
    ...extra,
  });
  /** Moves what the fakes wrote into the caches, as informers would, optionally marking pods Running and Ready. */
  const observe = (ready: boolean) => {
    for (const p of writer.created.splice(0)) podInformer.store.add(p as KubeObject);
    for (const name of writer.deleted.splice(0)) {
      const p = podInformer.lister.get('default', name);
      if (p) podInformer.store.delete(p);
    }
    if (ready) for (const p of podInformer.lister.list('default')) podInformer.store.update(readyPod(p as Pod) as KubeObject);
    for (const r of history.list()) revisionInformer.store.add(r as KubeObject);
  };
  return { ctrl, writer, history, recorder, statuses, observe, setInformer, podInformer, last: () => statuses[statuses.length - 1]! };
}

const readyPod = (p: Pod): Pod => ({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }] } });
const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);

describe('StatefulSetController.sync', () => {
  it('creates web-0 first with its identity, and web-1 only once web-0 is Running and Ready', async () => {
    const { ctrl, writer, history, recorder, observe, last } = setup(newSet());
    await ctrl.sync('default/web');
    expect(names(writer.created)).toEqual(['web-0']);
    const pod = writer.created[0]!;
    const rev = history.list()[0]!;
    expect(rev.revision).toBe(1);
    expect(rev.metadata!.name).toMatch(/^web-[a-z0-9]+$/);
    expect(pod.metadata!.labels).toEqual({
      app: 'web',
      'statefulset.kubernetes.io/pod-name': 'web-0',
      'apps.kubernetes.io/pod-index': '0',
      'controller-revision-hash': rev.metadata!.name,
    });
    expect(pod.spec).toMatchObject({ hostname: 'web-0', subdomain: 'nginx' });
    expect(pod.metadata!.ownerReferences![0]).toMatchObject({ kind: 'StatefulSet', name: 'web', controller: true });
    expect(recorder.events).toEqual(['Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful']);

    observe(false); // web-0 exists but is Pending
    await ctrl.sync('default/web');
    expect(writer.created).toEqual([]);
    observe(true);
    await ctrl.sync('default/web');
    expect(names(writer.created)).toEqual(['web-1']);
    observe(true);
    await ctrl.sync('default/web');
    expect(names(writer.created)).toEqual(['web-2']);
    observe(true);
    await ctrl.sync('default/web');
    expect(last().status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, currentReplicas: 3, observedGeneration: 1 });
    expect(last().status!.currentRevision).toBe(last().status!.updateRevision);
  });

  it('Parallel creates every pod at once', async () => {
    const { ctrl, writer } = setup(newSet({ podManagementPolicy: 'Parallel' }));
    await ctrl.sync('default/web');
    expect(names(writer.created).sort()).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('scales down from the highest ordinal, one pod at a time', async () => {
    const s = setup(newSet({ podManagementPolicy: 'Parallel' }));
    await s.ctrl.sync('default/web');
    s.observe(true);
    const smaller = { ...newSet({ replicas: 1 }), status: s.setInformer.lister.get('default', 'web')!.status };
    s.setInformer.store.update(smaller as KubeObject);
    await s.ctrl.sync('default/web');
    expect(s.writer.deleted).toEqual(['web-2']);
    expect(s.recorder.events).toContain('Normal SuccessfulDelete delete Pod web-2 in StatefulSet web successful');
    s.observe(true);
    await s.ctrl.sync('default/web');
    expect(s.writer.deleted).toEqual(['web-1']);
  });

  it('rolls an update from the highest ordinal down to the partition', async () => {
    const s = setup(newSet({ podManagementPolicy: 'Parallel' }));
    await s.ctrl.sync('default/web');
    s.observe(true);
    await s.ctrl.sync('default/web');
    const oldRev = s.last().status!.updateRevision;
    const updated = { ...newSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, 'nginx:2'), status: s.last().status };
    s.setInformer.store.update(updated as KubeObject);
    await s.ctrl.sync('default/web');
    expect(s.writer.deleted).toEqual(['web-2']);
    const st = s.last().status!;
    expect(st.currentRevision).toBe(oldRev);
    expect(st.updateRevision).not.toBe(oldRev);
    expect(s.history.list().map((r) => r.revision).sort()).toEqual([1, 2]);
    s.observe(true);
    await s.ctrl.sync('default/web'); // recreates web-2 at the update revision
    expect(s.writer.created[0]!.metadata!.labels!['controller-revision-hash']).toBe(st.updateRevision);
    expect(s.writer.created[0]!.spec!.containers[0]!.image).toBe('nginx:2');
    s.observe(true);
    await s.ctrl.sync('default/web');
    expect(s.writer.deleted).toEqual(['web-1']);
    s.observe(true);
    await s.ctrl.sync('default/web');
    expect(names(s.writer.created)).toEqual(['web-1']);
    s.observe(true);
    await s.ctrl.sync('default/web');
    // web-0 is below the partition: it stays at the old revision.
    expect(s.writer.deleted).toEqual([]);
    expect(s.last().status).toMatchObject({ updatedReplicas: 2, currentReplicas: 1, currentRevision: oldRev });
  });

  it('creates a claim per volumeClaimTemplate before each pod and mounts it', async () => {
    const set = newSet({
      replicas: 2,
      podManagementPolicy: 'Parallel',
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    set.spec!.template.spec!.volumes = [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }];
    const claims: PersistentVolumeClaim[] = [];
    const claimInformer = seededInformer([{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-web-1', namespace: 'default' } } as KubeObject]);
    const s = setup(set, { claimInformer, createClaim: async (c) => claims.push(c) });
    await s.ctrl.sync('default/web');
    expect(claims.map((c) => c.metadata)).toEqual([{ name: 'data-web-0', namespace: 'default', labels: { app: 'web' } }]);
    expect(claims[0]!.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    const web0 = s.writer.created.find((p) => p.metadata!.name === 'web-0')!;
    expect(web0.spec!.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }, { name: 'tmp', emptyDir: {} }]);
    expect(s.recorder.events).toContain('Normal SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success');
  });

  it('claims of a set whose retention policy deletes them with the set are owned by it', async () => {
    const set = newSet({
      replicas: 1,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    const claims: PersistentVolumeClaim[] = [];
    const s = setup(set, { claimInformer: seededInformer(), createClaim: async (c) => claims.push(c) });
    await s.ctrl.sync('default/web');
    expect(claims[0]!.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid' }]);
  });

  it('replaces a failed pod', async () => {
    const s = setup(newSet({ replicas: 1 }));
    await s.ctrl.sync('default/web');
    s.observe(false);
    const p = s.podInformer.lister.get('default', 'web-0') as Pod;
    s.podInformer.store.update({ ...p, status: { phase: 'Failed' } } as KubeObject);
    await s.ctrl.sync('default/web');
    expect(s.writer.deleted).toEqual(['web-0']);
  });
});
