import { describe, expect, it } from 'vitest';
import { notFound, type KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { seededInformer } from '../testing.js';
import { PodGCController, QUARANTINE_MS } from './podgc-controller.js';

function pod(name: string, opts: { phase?: string; node?: string; created?: string; deleting?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: opts.created ?? '2025-01-01T00:00:00Z', deletionTimestamp: opts.deleting ? '2025-01-01T00:00:00Z' : undefined },
    spec: { nodeName: opts.node, containers: [] },
    status: { phase: opts.phase ?? 'Running' },
  } as Pod as KubeObject;
}

const node = (name: string, ready: boolean, taints: object[] = []) =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }) as KubeObject;

function setup(pods: KubeObject[], nodes: KubeObject[], threshold = 12500, apiNodes: string[] = []) {
  const clock = new FakeClock();
  const deleted: string[] = [];
  const patched: Array<{ name: string; status: any }> = [];
  const gc = new PodGCController({
    podInformer: seededInformer(pods),
    nodeInformer: seededInformer(nodes),
    terminatedPodThreshold: threshold,
    clock,
    client: {
      getNode: async (name) => {
        if (!apiNodes.includes(name)) throw notFound({ group: '', resource: 'nodes' }, name);
        return {};
      },
      patchPodStatus: async (_ns, name, status) => patched.push({ name, status }),
      forceDeletePod: async (_ns, name) => deleted.push(name),
    },
  });
  return { gc, clock, deleted, patched };
}

describe('PodGCController.gc', () => {
  it('deletes the oldest terminated pods above the threshold, and none at 0 (disabled)', async () => {
    const pods = [
      pod('new', { phase: 'Succeeded', node: 'n1', created: '2025-01-03T00:00:00Z' }),
      pod('old', { phase: 'Failed', node: 'n1', created: '2025-01-01T00:00:00Z' }),
      pod('mid', { phase: 'Succeeded', node: 'n1', created: '2025-01-02T00:00:00Z' }),
      pod('running', { node: 'n1' }),
    ];
    const { gc, deleted } = setup(pods, [node('n1', true)], 1);
    await gc.gc();
    expect(deleted.sort()).toEqual(['mid', 'old']);
    const off = setup(pods, [node('n1', true)], 0);
    await off.gc.gc();
    expect(off.deleted).toEqual([]);
  });

  it('deletes pods of a vanished node only after the quarantine and a check against the API, marking them Failed', async () => {
    const pods = [pod('orphan', { node: 'gone' }), pod('kept', { node: 'n1' }), pod('flaky', { node: 'lagging' })];
    const { gc, clock, deleted, patched } = setup(pods, [node('n1', true)], 12500, ['lagging']);
    await gc.gc();
    expect(deleted).toEqual([]);
    await clock.step(QUARANTINE_MS - 1000);
    await gc.gc();
    expect(deleted).toEqual([]);
    await clock.step(2000);
    await gc.gc();
    expect(deleted).toEqual(['orphan']);
    expect(patched[0]!.status.phase).toBe('Failed');
    expect(patched[0]!.status.conditions[0]).toMatchObject({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
  });

  it('force-deletes terminating pods that are unscheduled or on not-ready out-of-service nodes', async () => {
    const pods = [
      pod('unscheduled', { deleting: true }),
      pod('oos', { node: 'down', deleting: true }),
      pod('notready-only', { node: 'sick', deleting: true }),
      pod('ready-node', { node: 'n1', deleting: true }),
    ];
    const nodes = [node('n1', true), node('down', false, [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }]), node('sick', false)];
    const { gc, deleted } = setup(pods, nodes);
    await gc.gc();
    expect(deleted.sort()).toEqual(['oos', 'unscheduled']);
  });
});
