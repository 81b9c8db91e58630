import { notFound } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { newHarness, newPod } from './kuberuntime/test-helpers.js';
import { KubeletPodSyncer, PodWorkers, type PodSyncer } from './pod-workers.js';
import { StatusManager, type PodStatusClient } from './status/status-manager.js';

class RecordingSyncer implements PodSyncer {
  readonly calls: string[] = [];
  release: (() => void) | undefined;
  block = false;
  terminal = false;
  fail = false;
  async syncPod(pod: Pod): Promise<boolean> {
    this.calls.push(`sync ${pod.metadata!.resourceVersion}`);
    if (this.block) await new Promise<void>((r) => (this.release = r));
    if (this.fail) throw new Error('CrashLoopBackOff');
    return this.terminal;
  }
  async syncTerminatingPod(pod: Pod, grace: number): Promise<void> {
    this.calls.push(`terminating ${pod.metadata!.resourceVersion} ${grace}`);
  }
  async syncTerminatedPod(pod: Pod, removed: boolean): Promise<boolean> {
    this.calls.push(`terminated ${pod.metadata!.resourceVersion} ${removed}`);
    return !!pod.metadata!.deletionTimestamp || removed;
  }
}

const version = (pod: Pod, rv: string, extra: Partial<NonNullable<Pod['metadata']>> = {}): Pod => ({ ...pod, metadata: { ...pod.metadata, resourceVersion: rv, ...extra } });

describe('PodWorkers', () => {
  it('serializes syncs per pod and coalesces updates that arrive during a sync into the latest', async () => {
    const clock = new FakeClock();
    const syncer = new RecordingSyncer();
    const workers = new PodWorkers({ syncer, clock, resyncIntervalMs: 0 });
    const pod = newPod();
    syncer.block = true;
    workers.updatePod(version(pod, '1'));
    await clock.step(0);
    workers.updatePod(version(pod, '2'));
    workers.updatePod(version(pod, '3'));
    syncer.block = false;
    syncer.release!();
    await workers.waitIdle();
    expect(syncer.calls).toEqual(['sync 1', 'sync 3']);
  });

  it('retries a failed sync after the backoff period and resyncs a healthy pod periodically', async () => {
    const clock = new FakeClock();
    const syncer = new RecordingSyncer();
    const workers = new PodWorkers({ syncer, clock, resyncIntervalMs: 60_000, backOffPeriodMs: 10_000 });
    syncer.fail = true;
    workers.updatePod(version(newPod(), '1'));
    await workers.waitIdle();
    await clock.step(9_999);
    expect(syncer.calls).toHaveLength(1);
    await clock.step(1);
    await workers.waitIdle();
    expect(syncer.calls).toHaveLength(2);
    syncer.fail = false;
    await clock.step(10_000);
    await workers.waitIdle();
    expect(syncer.calls).toHaveLength(3);
    await clock.step(60_000);
    await workers.waitIdle();
    expect(syncer.calls).toHaveLength(4);
  });

  it('a deleted pod terminates with its deletion grace period, then is terminated; later updates are ignored', async () => {
    const syncer = new RecordingSyncer();
    const workers = new PodWorkers({ syncer, clock: new FakeClock(), resyncIntervalMs: 0 });
    const pod = newPod({ terminationGracePeriodSeconds: 30 });
    workers.updatePod(version(pod, '1'));
    await workers.waitIdle();
    workers.updatePod(version(pod, '2', { deletionTimestamp: '2025-01-01T00:00:00Z', deletionGracePeriodSeconds: 7 }));
    await workers.waitIdle();
    expect(workers.state('uid-web')).toBe('terminated');
    workers.updatePod(version(pod, '3'));
    await workers.waitIdle();
    expect(syncer.calls).toEqual(['sync 1', 'terminating 2 7', 'terminated 2 false']);
  });

  it('a pod that reached a terminal phase is terminated with its spec grace period', async () => {
    const syncer = new RecordingSyncer();
    syncer.terminal = true;
    const workers = new PodWorkers({ syncer, clock: new FakeClock(), resyncIntervalMs: 0 });
    workers.updatePod(version(newPod({ restartPolicy: 'Never', terminationGracePeriodSeconds: 12 }), '1'));
    await workers.waitIdle();
    expect(syncer.calls).toEqual(['sync 1', 'terminating 1 12', 'terminated 1 false']);
  });
});

class FakePodStatusClient implements PodStatusClient {
  readonly patches: Record<string, unknown>[] = [];
  readonly deletes: string[] = [];
  gone = false;
  async patchStatus(_ns: string, name: string, patch: Record<string, unknown>): Promise<Pod> {
    if (this.gone) throw notFound({ group: '', resource: 'pods' }, name);
    this.patches.push(patch);
    return {};
  }
  async deletePod(ns: string, name: string, uid: string): Promise<void> {
    this.deletes.push(`${ns}/${name} uid=${uid}`);
  }
}

function kubelet() {
  const h = newHarness();
  const client = new FakePodStatusClient();
  const statusManager = new StatusManager({ client, clock: h.clock });
  const syncer = new KubeletPodSyncer({ runtimeManager: h.manager, statusManager, hostIPs: ['172.30.0.10'], clock: h.clock });
  const workers = new PodWorkers({ syncer, clock: h.clock, resyncIntervalMs: 0 });
  const update = async (pod: Pod) => {
    workers.updatePod(pod);
    await workers.waitIdle();
  };
  return { ...h, client, statusManager, workers, update };
}

describe('pod workers with the kubelet syncer', () => {
  it('runs a pod, and on deletion kills it with its grace period, then deletes it with its uid and removes the sandbox', async () => {
    const k = kubelet();
    const pod = newPod({ terminationGracePeriodSeconds: 30 });
    await k.update(pod);
    expect(k.statusManager.getPodStatus('uid-web')).toMatchObject({ phase: 'Running', podIP: '10.244.0.1' });
    expect(k.latest('app').state).toBe('CONTAINER_RUNNING');

    await k.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:00:30Z', deletionGracePeriodSeconds: 20 } });
    expect([...k.runtime.stopTimeouts.values()]).toEqual([20]);
    expect(k.recorder.events.at(-1)).toMatchObject({ reason: 'Killing', message: 'Stopping container app' });
    const last = k.client.patches.at(-1)!.status as NonNullable<Pod['status']>;
    expect(last.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 137 });
    expect(k.client.deletes).toEqual(['default/web uid=uid-web']);
    expect(k.runtime.sandboxes.size).toBe(0);
    expect(k.workers.state('uid-web')).toBe('terminated');
  });

  it('retries a kill that failed after the backoff period, and deletes the pod only then', async () => {
    const k = kubelet();
    const workers = new PodWorkers({
      syncer: new KubeletPodSyncer({ runtimeManager: k.manager, statusManager: k.statusManager, hostIPs: ['172.30.0.10'], clock: k.clock }),
      clock: k.clock,
      resyncIntervalMs: 0,
      backOffPeriodMs: 10_000,
    });
    const pod = newPod();
    workers.updatePod(pod);
    await workers.waitIdle();
    k.runtime.injectError('stopContainer', new Error('context deadline exceeded'));
    workers.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } });
    await workers.waitIdle();
    expect(workers.state('uid-web')).toBe('terminating');
    expect(k.client.deletes).toEqual([]);
    await k.clock.step(10_000);
    await workers.waitIdle();
    expect(workers.state('uid-web')).toBe('terminated');
    expect(k.client.deletes).toEqual(['default/web uid=uid-web']);
  });

  it('a finished restartPolicy Never pod is Succeeded and its sandbox stopped, but kept', async () => {
    const k = kubelet();
    const pod = newPod({ restartPolicy: 'Never' });
    await k.update(pod);
    k.runtime.exitContainer(k.latest('app').id, 0);
    await k.update(pod);
    expect(k.statusManager.getPodStatus('uid-web')!.phase).toBe('Succeeded');
    expect(k.workers.state('uid-web')).toBe('terminated');
    const sandbox = [...k.runtime.sandboxes.values()][0]!;
    expect(sandbox.state).toBe('SANDBOX_NOTREADY');
    expect(k.client.deletes).toEqual([]);
    expect(k.runtime.containers.size).toBe(1);

    // Deleted later: the kubelet finishes the deletion and removes the sandbox.
    await k.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:01:00Z', deletionGracePeriodSeconds: 30 } });
    expect(k.client.deletes).toEqual(['default/web uid=uid-web']);
    expect(k.runtime.sandboxes.size).toBe(0);
  });

  it('a pod removed from the apiserver is killed and its sandbox removed (its status writes find it gone)', async () => {
    const k = kubelet();
    const pod = newPod();
    await k.update(pod);
    const writes = k.client.patches.length;
    k.client.gone = true;
    k.workers.updatePod(pod, { kill: true, gracePeriodSeconds: 3 });
    await k.workers.waitIdle();
    expect([...k.runtime.stopTimeouts.values()]).toEqual([3]);
    expect(k.runtime.sandboxes.size).toBe(0);
    expect(k.client.deletes).toEqual([]);
    expect(k.client.patches).toHaveLength(writes);
    expect(k.workers.state('uid-web')).toBe('terminated');
  });

  it('a crashing container is retried by the worker after the backoff period, reaching CrashLoopBackOff', async () => {
    const k = kubelet();
    const workers = new PodWorkers({
      syncer: new KubeletPodSyncer({ runtimeManager: k.manager, statusManager: k.statusManager, hostIPs: ['172.30.0.10'], clock: k.clock }),
      clock: k.clock,
      resyncIntervalMs: 0,
      backOffPeriodMs: 10_000,
    });
    const pod = newPod();
    k.runtime.exitOnStart.set('app', 1);
    workers.updatePod(pod);
    await workers.waitIdle();
    // First sync: started and crashed. Retried on the next update (a PLEG event in the kubelet): immediate restart, then backoff.
    workers.updatePod(pod);
    await workers.waitIdle();
    workers.updatePod(pod);
    await workers.waitIdle();
    let cs = k.statusManager.getPodStatus('uid-web')!.containerStatuses![0]!;
    expect(cs.state!.waiting).toMatchObject({ reason: 'CrashLoopBackOff' });
    expect(cs.restartCount).toBe(1);
    await k.clock.step(10_000);
    await workers.waitIdle();
    cs = k.statusManager.getPodStatus('uid-web')!.containerStatuses![0]!;
    expect(cs.restartCount).toBe(2);
    // Older dead runs are removed: the newest run (crashed again at once) and the one before remain.
    expect(k.runtime.containersNamed('app').map((c) => c.config.metadata.attempt)).toEqual([1, 2]);
  });
});
