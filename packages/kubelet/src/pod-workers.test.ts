import { notFound } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { KubeGenericRuntimeManager } from './kuberuntime/runtime-manager.js';
import { GatedStatusClient, newHarness, newPod } from './kuberuntime/test-helpers.js';
import { KubeletPodSyncer, PodWorkers, type PodSyncer } from './pod-workers.js';
import { ProberManager } from './prober/prober-manager.js';
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

  it("starts a pod without waiting for its status writes, which reach the apiserver in order; a failed one is made again by the next sync", async () => {
    const h = newHarness();
    const client = new GatedStatusClient('the server was unable to return a response in the time allotted');
    const { patches, gates } = client;
    const statusManager = new StatusManager({ client, clock: h.clock });
    const syncer = new KubeletPodSyncer({ runtimeManager: h.manager, statusManager, hostIPs: ['172.30.0.10'], clock: h.clock });
    const pod = newPod();
    // The first status (Pending) is being written while the sandbox and the container start.
    expect(await syncer.syncPod(pod)).toBe(false);
    expect(h.latest('app').state).toBe('CONTAINER_RUNNING');
    expect(statusManager.getPodStatus('uid-web')).toMatchObject({ phase: 'Running', podIP: '10.244.0.1' });
    expect(gates).toHaveLength(1);
    gates.shift()!();
    for (let i = 0; i < 20 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await statusManager.flush('uid-web');
    // The pod's first status (still Pending, as the API has it: no phase in the patch), then Running.
    expect(patches[0]).toHaveProperty('startTime');
    expect(patches.map((p) => p.phase)).toEqual([undefined, 'Running']);

    // Lets every queued write through.
    const settle = async () => {
      for (let i = 0; i < 50; i++) {
        for (const g of gates.splice(0)) g();
        await new Promise((r) => setImmediate(r));
      }
      await statusManager.flush('uid-web');
    };
    h.runtime.exitContainer(h.latest('app').id, 1);
    client.fail = true;
    await syncer.syncPod(pod).catch(() => undefined);
    await settle();
    expect(patches).toHaveLength(2);
    client.fail = false;
    await syncer.syncPod(pod).catch(() => undefined);
    await settle();
    expect((patches[2]!.containerStatuses as { lastState?: { terminated?: { exitCode: number } } }[])[0]!.lastState?.terminated?.exitCode).toBe(1);
  });

  it('a static pod gets its mirror pod before it starts, and runs even when that fails; an API pod gets none', async () => {
    const h = newHarness();
    const statusManager = new StatusManager({ client: new FakePodStatusClient(), clock: h.clock });
    const mirrored: string[] = [];
    let fail = true;
    const mirrorPods = {
      syncMirrorPod: async (pod: Pod) => {
        mirrored.push(pod.metadata!.name!);
        if (fail) throw new Error('failed to get node UID');
      },
    };
    const workers = new PodWorkers({ syncer: new KubeletPodSyncer({ runtimeManager: h.manager, statusManager, mirrorPods, hostIPs: ['172.30.0.10'], clock: h.clock }), clock: h.clock, resyncIntervalMs: 0 });
    const base = newPod();
    const staticPod = { ...base, metadata: { ...base.metadata, name: 'web-n1', annotations: { 'kubernetes.io/config.source': 'file' } } };
    workers.updatePod(staticPod);
    await workers.waitIdle();
    expect(mirrored).toEqual(['web-n1']);
    expect(statusManager.getPodStatus('uid-web')).toMatchObject({ phase: 'Running' });
    fail = false;
    workers.updatePod({ ...base, metadata: { ...base.metadata, uid: 'uid-api' } });
    await workers.waitIdle();
    expect(mirrored).toEqual(['web-n1']);
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

/** The kubelet's wiring of the prober: results reach the runtime manager, a changed result syncs the pod. */
function probedKubelet() {
  const h = newHarness();
  const client = new FakePodStatusClient();
  const statusManager = new StatusManager({ client, clock: h.clock });
  const probeManager = new ProberManager({ podStatus: (uid) => statusManager.getPodStatus(uid), runtime: h.runtime, recorder: h.recorder, clock: h.clock, random: () => 0 });
  const runtimeManager = new KubeGenericRuntimeManager({
    runtime: h.runtime, images: h.images, recorder: h.recorder, clock: h.clock,
    envSources: { getConfigMap: async () => undefined, getSecret: async () => undefined, listServices: async () => [] },
    dns: { clusterDNS: [], clusterDomain: 'cluster.local', hostResolvConf: { servers: [], searches: [], options: [] } },
    nodeName: 'node-1', hostIPs: ['172.30.0.10'], memoryCapacity: 4 * 1024 ** 3, mkdirAll: async () => {},
    probeResults: { liveness: probeManager.livenessManager, startup: probeManager.startupManager },
  });
  const syncer = new KubeletPodSyncer({ runtimeManager, statusManager, probeManager, hostIPs: ['172.30.0.10'], clock: h.clock });
  const workers = new PodWorkers({ syncer, clock: h.clock, resyncIntervalMs: 0 });
  let current: Pod | undefined;
  const resync = (u: { podUID: string }) => current?.metadata?.uid === u.podUID && workers.updatePod(current);
  probeManager.livenessManager.onUpdate((u) => u.result === 'Failure' && resync(u));
  probeManager.readinessManager.onUpdate(resync);
  probeManager.startupManager.onUpdate(resync);
  const update = async (pod: Pod) => {
    current = pod;
    workers.updatePod(pod);
    await workers.waitIdle();
  };
  /** Moves time on, letting the syncs that probe results caused finish. */
  const step = async (ms: number) => {
    await h.clock.step(ms);
    await workers.waitIdle();
  };
  const status = () => statusManager.getPodStatus('uid-web')!;
  const condition = (type: string) => status().conditions!.find((c) => c.type === type)!;
  return { ...h, probeManager, workers, update, step, status, condition };
}

describe('pod workers with the prober', () => {
  const failing = (k: ReturnType<typeof probedKubelet>, cmd: string) =>
    k.runtime.execResults.set(cmd, { stdout: Buffer.alloc(0), stderr: Buffer.from(`${cmd.split(' ').at(-1)}: No such file or directory\n`), exitCode: 1 });

  it('a failing liveness probe kills the container with its reason and restarts it: restartCount 1, lastState terminated', async () => {
    const k = probedKubelet();
    const pod = newPod({ containers: [{ name: 'app', image: 'busybox:1.36', livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 5, failureThreshold: 2 } }] });
    await k.update(pod);
    await k.step(0);
    const first = k.latest('app').id;
    expect(k.status().containerStatuses![0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
    failing(k, 'cat /tmp/healthy');
    await k.step(5_000);
    expect(k.latest('app').id).toBe(first);
    await k.step(5_000);
    const cs = k.status().containerStatuses![0]!;
    expect(k.latest('app').id).not.toBe(first);
    expect(cs).toMatchObject({ restartCount: 1, ready: true, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'Error' } } });
    const events = k.recorder.events.map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(events).toContain('Warning Unhealthy Liveness probe failed: /tmp/healthy: No such file or directory\n');
    expect(events).toContain('Normal Killing Container app failed liveness probe, will be restarted');
    expect(events.filter((e) => e.startsWith('Normal Started'))).toHaveLength(2);
    // The new container is probed again (and passes): no more restarts.
    k.runtime.execResults.clear();
    await k.step(30_000);
    expect(k.status().containerStatuses![0]!.restartCount).toBe(1);
  });

  it('a liveness probe with its own terminationGracePeriodSeconds stops the container with it', async () => {
    const k = probedKubelet();
    const probe = { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 4 };
    await k.update(newPod({ terminationGracePeriodSeconds: 60, containers: [{ name: 'app', image: 'busybox:1.36', livenessProbe: probe }] }));
    const first = k.latest('app').id;
    failing(k, 'cat /tmp/healthy');
    await k.step(1_000);
    expect(k.runtime.stopTimeouts.get(first)).toBe(4);
  });

  it('readiness: not ready until the first success, then Ready and ContainersReady follow the probe', async () => {
    const k = probedKubelet();
    const pod = newPod({ containers: [{ name: 'app', image: 'busybox:1.36', readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 10, initialDelaySeconds: 5 } }] });
    await k.update(pod);
    expect(k.status().containerStatuses![0]).toMatchObject({ ready: false, started: true, state: { running: {} } });
    expect(k.condition('Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    // Within initialDelaySeconds, not probed; the next tick (10 s) is the first probe.
    await k.step(9_000);
    expect(k.status().containerStatuses![0]!.ready).toBe(false);
    await k.step(1_000);
    expect(k.status().containerStatuses![0]!.ready).toBe(true);
    expect(k.condition('Ready').status).toBe('True');
    expect(k.condition('ContainersReady').status).toBe('True');
    failing(k, 'cat /tmp/ready');
    await k.step(30_000);
    expect(k.status().containerStatuses![0]!.ready).toBe(false);
    expect(k.condition('Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(k.status().containerStatuses![0]!.restartCount).toBe(0);
    expect(k.recorder.events.at(-1)).toMatchObject({ reason: 'Unhealthy', message: 'Readiness probe failed: /tmp/ready: No such file or directory\n' });
  });

  it('a startup probe holds started and ready until it succeeds; failing it restarts the container', async () => {
    const k = probedKubelet();
    const pod = newPod({
      containers: [{
        name: 'app', image: 'busybox:1.36',
        startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 3 },
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
      }],
    });
    failing(k, 'cat /tmp/started');
    failing(k, 'cat /tmp/healthy');
    await k.update(pod);
    expect(k.status().containerStatuses![0]).toMatchObject({ started: false, ready: false });
    await k.step(2_000);
    // Three startup failures: killed and restarted; the liveness probe never ran.
    expect(k.status().containerStatuses![0]!.restartCount).toBe(1);
    const events = k.recorder.events.map((e) => e.message);
    expect(events).toContain('Container app failed startup probe, will be restarted');
    expect(events.some((m) => m.startsWith('Liveness'))).toBe(false);
    k.runtime.execResults.clear();
    await k.step(1_000);
    expect(k.status().containerStatuses![0]).toMatchObject({ started: true, ready: true, restartCount: 1 });
    // Started: now the liveness probe runs.
    failing(k, 'cat /tmp/healthy');
    await k.step(1_000);
    expect(k.status().containerStatuses![0]!.restartCount).toBe(2);
    expect(k.recorder.events.map((e) => e.message)).toContain('Container app failed liveness probe, will be restarted');
  });

  it('on deletion the liveness probe stops (no restart while terminating) and the probes go with the pod', async () => {
    const k = probedKubelet();
    const pod = newPod({ containers: [{ name: 'app', image: 'busybox:1.36', livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1 } }] });
    await k.update(pod);
    expect(k.probeManager.workerCount()).toBe(1);
    await k.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } });
    expect(k.workers.state('uid-web')).toBe('terminated');
    expect(k.probeManager.workerCount()).toBe(0);
    failing(k, 'cat /tmp/healthy');
    await k.step(10_000);
    expect(k.runtime.methods().filter((m) => m === 'startContainer')).toHaveLength(1);
    expect(k.runtime.methods().filter((m) => m === 'execSync')).toHaveLength(0);
  });
});
