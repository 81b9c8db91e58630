import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Toleration } from 'kubernetes-types/core/v1';
import { seededInformer } from '../testing.js';
import { TaintEvictionController } from './taint-eviction-controller.js';

const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const node = (taints: object[]) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints } }) as KubeObject;
const pod = (name: string, tolerations: Toleration[] = []) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', tolerations, containers: [] }, status: { conditions: [] } }) as KubeObject;
const tolerate = (seconds?: number): Toleration => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });

function setup(pods: KubeObject[], taints: object[]) {
  const clock = new FakeClock();
  const nodeInformer = seededInformer([node(taints)]);
  const deleted: string[] = [];
  const conditions: any[] = [];
  const recorder = new FakeRecorder();
  const ctrl = new TaintEvictionController({
    nodeInformer,
    podInformer: seededInformer(pods),
    recorder,
    clock,
    client: {
      patchPodStatus: async (_ns, _name, status) => conditions.push(...status.conditions),
      deletePod: async (_ns, name) => deleted.push(name),
    },
  });
  return { ctrl, clock, deleted, conditions, recorder, nodeInformer };
}

describe('TaintEvictionController.sync', () => {
  it('evicts a pod that does not tolerate the taint at once, with the DisruptionTarget condition and an event', async () => {
    const { ctrl, deleted, conditions, recorder } = setup([pod('p')], [unreachable]);
    await ctrl.sync('default/p');
    expect(deleted).toEqual(['p']);
    expect(conditions[0]).toMatchObject({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
    expect(recorder.events).toEqual(['Normal TaintManagerEviction Marking for deletion Pod default/p']);
  });

  it('evicts after tolerationSeconds counted from when the eviction was first scheduled; never with an unbounded toleration', async () => {
    const { ctrl, clock, deleted } = setup([pod('timed', [tolerate(300)]), pod('forever', [tolerate()])], [unreachable]);
    await ctrl.sync('default/timed');
    await ctrl.sync('default/forever');
    expect(ctrl.isScheduled('default/timed')).toBe(true);
    await clock.step(200_000);
    await ctrl.sync('default/timed'); // a resync meanwhile does not restart the countdown
    await clock.step(99_000);
    await ctrl.sync('default/timed');
    expect(deleted).toEqual([]);
    await clock.step(1_000);
    await ctrl.sync('default/timed');
    await ctrl.sync('default/forever');
    expect(deleted).toEqual(['timed']);
  });

  it('cancels a scheduled eviction when the taint goes away', async () => {
    const { ctrl, clock, deleted, recorder, nodeInformer } = setup([pod('p', [tolerate(60)])], [unreachable]);
    await ctrl.sync('default/p');
    nodeInformer.store.add(node([]));
    await ctrl.sync('default/p');
    expect(ctrl.isScheduled('default/p')).toBe(false);
    expect(recorder.events).toEqual(['Normal TaintManagerEviction Cancelling deletion of Pod default/p']);
    await clock.step(120_000);
    expect(deleted).toEqual([]);
  });
});
