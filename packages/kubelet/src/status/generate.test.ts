import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { newHarness, newPod } from '../kuberuntime/test-helpers.js';
import { generateAPIPodStatus } from './generate.js';

async function statusOf(h: ReturnType<typeof newHarness>, pod: { -readonly [K in keyof Pod]: Pod[K] }, readiness?: Map<string, boolean>) {
  const s = generateAPIPodStatus(pod, await h.manager.getPodStatus(pod), {
    hostIPs: ['172.30.0.10'], now: h.clock.now(), reasonCache: h.manager.reasonCache, readiness,
  });
  pod.status = s;
  return s;
}

const cond = (s: NonNullable<Pod['status']>, type: string) => s.conditions!.find((c) => c.type === type);

describe('generateAPIPodStatus', () => {
  it('a new pod is Pending with ContainerCreating, then Running and Ready with IPs, ids and times', async () => {
    const h = newHarness();
    const pod = newPod();
    Object.assign(pod, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-12-31T00:00:00Z' }] } });
    let s = await statusOf(h, pod);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses).toEqual([
      { name: 'app', image: 'busybox:1.36', imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
    ]);
    expect(s.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['PodScheduled=True', 'PodReadyToStartContainers=False', 'Initialized=True', 'Ready=False', 'ContainersReady=False']);
    expect(cond(s, 'ContainersReady')).toMatchObject({ reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    expect(s.qosClass).toBe('BestEffort');
    expect(s.hostIP).toBe('172.30.0.10');

    await h.sync(pod);
    await h.clock.step(3000);
    s = await statusOf(h, pod);
    const id = h.latest('app').id;
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.244.0.1');
    expect(s.podIPs).toEqual([{ ip: '10.244.0.1' }]);
    expect(s.containerStatuses![0]).toEqual({
      name: 'app', image: 'busybox:1.36', imageID: h.latest('app').imageRef, containerID: `containerd://${id}`, ready: true, started: true, restartCount: 0,
      state: { running: { startedAt: '2025-01-01T00:00:00Z' } },
    });
    expect(s.conditions!.every((c) => c.status === 'True')).toBe(true);
    expect(cond(s, 'Ready')!.lastTransitionTime).toBe('2025-01-01T00:00:03Z');
    expect(cond(s, 'PodScheduled')!.lastTransitionTime).toBe('2024-12-31T00:00:00Z');

    // Not ready by the prober: Ready and ContainersReady turn False.
    await h.clock.step(1000);
    s = await statusOf(h, pod, new Map([['app', false]]));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', lastTransitionTime: '2025-01-01T00:00:04Z' });
    expect(cond(s, 'Initialized')!.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
  });

  it('a running container with a readiness probe is not ready until the prober says so', async () => {
    const h = newHarness();
    const pod = newPod({ containers: [{ name: 'app', image: 'busybox:1.36', readinessProbe: { httpGet: { path: '/', port: 80 } } }] });
    await h.sync(pod);
    expect((await statusOf(h, pod)).containerStatuses![0]).toMatchObject({ started: true, ready: false });
    expect((await statusOf(h, pod, new Map([['app', true]]))).containerStatuses![0]!.ready).toBe(true);
  });

  it('a crash shows lastState, restartCount and CrashLoopBackOff', async () => {
    const h = newHarness();
    const pod = newPod();
    await h.sync(pod);
    for (let i = 0; i < 2; i++) {
      await h.clock.step(1000);
      h.runtime.exitContainer(h.latest('app').id, 2);
      await h.sync(pod);
    }
    const s = await statusOf(h, pod);
    const cs = s.containerStatuses![0]!;
    expect(cs.restartCount).toBe(1);
    expect(cs.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-web)' } });
    expect(cs.lastState!.terminated).toMatchObject({ exitCode: 2, reason: 'Error', startedAt: '2025-01-01T00:00:01Z', finishedAt: '2025-01-01T00:00:02Z' });
    expect(s.phase).toBe('Running');
  });

  it('a running container that vanished from the runtime is shown as terminated with ContainerStatusUnknown', async () => {
    const h = newHarness();
    const pod = newPod();
    await h.sync(pod);
    await statusOf(h, pod);
    h.runtime.containers.clear();
    const cs = (await statusOf(h, pod)).containerStatuses![0]!;
    expect(cs.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(cs.lastState!.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect(cs.restartCount).toBe(1);
  });

  it('an OOM kill is reported as OOMKilled', async () => {
    const h = newHarness();
    const pod = newPod({ restartPolicy: 'Never' });
    await h.sync(pod);
    h.runtime.oomKill(h.latest('app').id);
    const s = await statusOf(h, pod);
    expect(s.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(s.phase).toBe('Failed');
  });

  it('restartPolicy Never: Succeeded when all exit 0, Failed when one fails; the phase stays terminal', async () => {
    const h = newHarness();
    const ok = newPod({ restartPolicy: 'Never', containers: [{ name: 'a', image: 'busybox:1.36' }, { name: 'b', image: 'busybox:1.36' }] }, 'ok');
    await h.sync(ok);
    h.runtime.exitContainer(h.latest('a').id, 0);
    expect((await statusOf(h, ok)).phase).toBe('Running');
    h.runtime.exitContainer(h.latest('b').id, 0);
    const s = await statusOf(h, ok);
    expect(s.phase).toBe('Succeeded');
    expect(s.containerStatuses!.map((c) => c.state!.terminated!.reason)).toEqual(['Completed', 'Completed']);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });

    const bad = newPod({ restartPolicy: 'Never', containers: [{ name: 'a', image: 'busybox:1.36' }, { name: 'b', image: 'busybox:1.36' }] }, 'bad');
    await h.sync(bad);
    h.runtime.exitContainer(h.latest('a').id, 0);
    h.runtime.exitContainer(h.latest('b').id, 1);
    expect((await statusOf(h, bad)).phase).toBe('Failed');
  });

  it('init containers: PodInitializing, Initialized False with a message, then True', async () => {
    const h = newHarness();
    const pod = newPod({ initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
    await h.sync(pod);
    let s = await statusOf(h, pod);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses![0]!.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(s.initContainerStatuses![0]!.state!.running).toBeDefined();
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [init]' });
    h.runtime.exitContainer(h.latest('init').id, 0);
    await h.sync(pod);
    s = await statusOf(h, pod);
    expect(s.initContainerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(s.initContainerStatuses![0]).toMatchObject({ ready: true, started: false });
    expect(cond(s, 'Initialized')!.status).toBe('True');
    expect(s.phase).toBe('Running');
  });

  it('a failed init container fails a Never pod', async () => {
    const h = newHarness();
    const pod = newPod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
    await h.sync(pod);
    h.runtime.exitContainer(h.latest('init').id, 1);
    expect((await statusOf(h, pod)).phase).toBe('Failed');
  });

  it('an image pull error shows ErrImagePull as the waiting reason', async () => {
    const h = newHarness({ images: [] });
    h.images.pullErrors.set('nope:1', new Error('not found'));
    const pod = newPod({ containers: [{ name: 'a', image: 'nope:1' }] });
    await h.sync(pod);
    const s = await statusOf(h, pod);
    expect(s.containerStatuses![0]!.state).toEqual({ waiting: { reason: 'ErrImagePull', message: 'not found' } });
    expect(s.phase).toBe('Pending');
  });
});
