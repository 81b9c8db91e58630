import { notFound } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { StatusManager, statusMergePatch, type PodStatusClient } from './status-manager.js';

class FakePodStatusClient implements PodStatusClient {
  readonly patches: { ns: string; name: string; patch: Record<string, unknown> }[] = [];
  readonly deletes: { ns: string; name: string; uid: string }[] = [];
  gone = false;
  async patchStatus(ns: string, name: string, patch: Record<string, unknown>): Promise<Pod> {
    if (this.gone) throw notFound({ group: '', resource: 'pods' }, name);
    this.patches.push({ ns, name, patch });
    return {};
  }
  async deletePod(ns: string, name: string, uid: string): Promise<void> {
    this.deletes.push({ ns, name, uid });
  }
}

const pod = (): Pod => ({ metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] }, status: { phase: 'Pending', qosClass: 'BestEffort' } });

describe('StatusManager', () => {
  it('writes only when the status changed, with startTime and the uid, nulling removed fields', async () => {
    const client = new FakePodStatusClient();
    const sm = new StatusManager({ client, clock: new FakeClock() });
    const p = pod();
    expect(await sm.setPodStatus(p, { phase: 'Pending', qosClass: 'BestEffort', hostIP: '172.30.0.10' })).toBe(true);
    expect(client.patches[0]).toEqual({
      ns: 'default', name: 'web', patch: { metadata: { uid: 'u1' }, status: { hostIP: '172.30.0.10', startTime: '2025-01-01T00:00:00Z' } },
    });
    expect(await sm.setPodStatus(p, { phase: 'Pending', qosClass: 'BestEffort', hostIP: '172.30.0.10' })).toBe(false);
    expect(await sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.1' })).toBe(true);
    expect(client.patches[1]!.patch.status).toEqual({ phase: 'Running', podIP: '10.244.0.1' });
    expect(await sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10' })).toBe(true);
    expect(client.patches[2]!.patch.status).toEqual({ podIP: null });
  });

  it('keeps a terminal phase', async () => {
    const client = new FakePodStatusClient();
    const sm = new StatusManager({ client, clock: new FakeClock() });
    const p = pod();
    await sm.setPodStatus(p, { phase: 'Succeeded' });
    await sm.setPodStatus(p, { phase: 'Running' });
    expect(sm.getPodStatus('u1')!.phase).toBe('Succeeded');
    expect(client.patches).toHaveLength(1);
  });

  it('deletes a pod being deleted only once nothing runs, with its uid; a vanished pod is not an error', async () => {
    const client = new FakePodStatusClient();
    const sm = new StatusManager({ client, clock: new FakeClock() });
    expect(await sm.deletePodIfStopped(pod(), false)).toBe(false);
    const deleting = { ...pod(), metadata: { ...pod().metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } };
    expect(await sm.deletePodIfStopped(deleting, true)).toBe(false);
    expect(await sm.deletePodIfStopped(deleting, false)).toBe(true);
    expect(client.deletes).toEqual([{ ns: 'default', name: 'web', uid: 'u1' }]);
    client.gone = true;
    expect(await sm.setPodStatus(pod(), { phase: 'Running' })).toBe(false);
  });

  it('statusMergePatch replaces lists whole', () => {
    expect(statusMergePatch({ conditions: [{ type: 'A', status: 'True' }] }, { conditions: [{ type: 'B', status: 'True' }] })).toEqual({ conditions: [{ type: 'B', status: 'True' }] });
  });
});
