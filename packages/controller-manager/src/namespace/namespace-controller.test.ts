import { describe, expect, it } from 'vitest';
import { findResource, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Namespace } from 'kubernetes-types/core/v1';
import { seededInformer } from '../testing.js';
import { NamespaceController, type NamespaceContentClient } from './namespace-controller.js';

const pods = findResource('', 'v1', 'pods')!;
const cms = findResource('', 'v1', 'configmaps')!;

function setup(remaining: Record<string, number>) {
  const ns: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'x', deletionTimestamp: '2025-01-01T00:00:00Z', resourceVersion: '3' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Terminating' },
  };
  const calls: string[] = [];
  const statuses: Namespace[] = [];
  const content: NamespaceContentClient = {
    deleteCollection: async (info: ResourceInfo, n: string) => void calls.push(`deletecollection ${info.resource} ${n}`),
    count: async (info: ResourceInfo) => ({ total: remaining[info.resource] ?? 0, withFinalizers: 0, finalizers: [] }),
    updateStatus: async (n) => {
      statuses.push(n);
      return n;
    },
    finalize: async (n) => {
      calls.push(`finalize ${JSON.stringify(n.spec?.finalizers)}`);
      return n;
    },
  };
  const clock = new FakeClock();
  const ctrl = new NamespaceController({ namespaceInformer: seededInformer([ns]), content, resources: [cms, pods], clock, recheckMs: 1000 });
  return { ctrl, calls, statuses, clock };
}

describe('NamespaceController.sync', () => {
  it('deletes all content, then removes the kubernetes finalizer', async () => {
    const { ctrl, calls } = setup({});
    await ctrl.sync('x');
    expect(calls).toEqual(['deletecollection configmaps x', 'deletecollection pods x', 'finalize []']);
  });

  it('reports remaining content in the conditions and checks again later', async () => {
    const { ctrl, calls, statuses, clock } = setup({ pods: 2 });
    await ctrl.sync('x');
    expect(calls.some((c) => c.startsWith('finalize'))).toBe(false);
    const conds = Object.fromEntries(statuses[0]!.status!.conditions!.map((c) => [c.type, c]));
    expect(conds.NamespaceContentRemaining).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods has 2 resource instances' });
    expect(conds.NamespaceDeletionContentFailure).toMatchObject({ status: 'False', reason: 'ContentDeleted' });
    await clock.step(1000);
    expect(ctrl.queue.len()).toBe(1);
  });

  it('leaves active namespaces alone', async () => {
    const { ctrl, calls } = setup({});
    await ctrl.sync('missing');
    expect(calls).toEqual([]);
  });
});
