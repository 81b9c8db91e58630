import { notFound } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { STATUS_RETRY_PERIOD_MS, StatusManager, statusMergePatch, type PodStatusClient } from './status-manager.js';
import { GatedStatusClient } from '../kuberuntime/test-helpers.js';

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

  it("queues a pod's writes behind each other, in order, each from what the apiserver has; the cache is current at once", async () => {
    const client = new GatedStatusClient();
    const { patches, gates } = client;
    const written: string[] = [];
    const sm = new StatusManager({ client, clock: new FakeClock(), onWritten: (_pod, status) => written.push(status.phase ?? '') });
    const p = pod();
    const first = sm.setPodStatus(p, { phase: 'Pending', qosClass: 'BestEffort', hostIP: '172.30.0.10' });
    await new Promise((r) => setImmediate(r));
    // Set while the first write is in flight: written after it.
    const second = sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.1' });
    expect(sm.getPodStatus('u1')!.phase).toBe('Running');
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(1);
    gates.shift()!();
    expect(await first).toBe(true);
    expect(patches).toEqual([{ hostIP: '172.30.0.10', startTime: '2025-01-01T00:00:00Z' }]);
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    expect(await second).toBe(true);
    expect(patches[1]).toEqual({ phase: 'Running', podIP: '10.244.0.1' });
    expect(written).toEqual(['Pending', 'Running']);

    // Statuses set before their write starts are written once, the latest.
    const a = sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.1', reason: 'a' });
    const b = sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.1', reason: 'b' });
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    expect([await a, await b]).toEqual([true, false]);
    expect(patches.splice(2)).toEqual([{ reason: 'b' }]);

    // A failed write rejects its caller; the next status is patched from what the apiserver has (the failed change included).
    client.fail = true;
    const failed = sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.2' });
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await expect(failed).rejects.toThrow('request timed out');
    client.fail = false;
    const retried = sm.setPodStatus(p, { phase: 'Running', qosClass: 'BestEffort', hostIP: '172.30.0.10', podIP: '10.244.0.2', reason: 'b', message: 'm' });
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    expect(await retried).toBe(true);
    expect(patches[2]).toEqual({ podIP: '10.244.0.2', message: 'm' });
  });

  it('tries a failed write again after the retry period, with the latest status; not for a removed pod', async () => {
    const patches: Record<string, unknown>[] = [];
    let fail = true;
    const client: PodStatusClient = {
      patchStatus: async (_ns, _name, patch) => {
        if (fail) throw new Error('etcdserver: request timed out');
        patches.push(patch.status as Record<string, unknown>);
        return {};
      },
      deletePod: async () => {},
    };
    const clock = new FakeClock();
    const sm = new StatusManager({ client, clock });
    await expect(sm.setPodStatus(pod(), { phase: 'Running', qosClass: 'BestEffort' })).rejects.toThrow('request timed out');
    fail = false;
    await clock.step(STATUS_RETRY_PERIOD_MS - 1);
    expect(patches).toHaveLength(0);
    await clock.step(1);
    await sm.flush('u1');
    expect(patches).toEqual([{ phase: 'Running', startTime: '2025-01-01T00:00:00Z' }]);

    fail = true;
    await expect(sm.setPodStatus(pod(), { phase: 'Running', qosClass: 'BestEffort', podIP: '10.244.0.9' })).rejects.toThrow();
    sm.removePod('u1');
    fail = false;
    await clock.step(STATUS_RETRY_PERIOD_MS);
    expect(patches).toHaveLength(1);
  });

  it('statusMergePatch replaces lists whole', () => {
    expect(statusMergePatch({ conditions: [{ type: 'A', status: 'True' }] }, { conditions: [{ type: 'B', status: 'True' }] })).toEqual({ conditions: [{ type: 'B', status: 'True' }] });
  });
});
