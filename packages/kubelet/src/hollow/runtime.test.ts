import { describe, expect, it } from 'vitest';
import { FakeClock } from '@kubelab/client';
import { podCgroups } from '../stats/cgroup.js';
import { HollowImageService, HollowRuntimeService, IPPool } from './runtime.js';
import { HollowCgroupReader, hollowMachineInfo } from './stats.js';

const sandboxConfig = (name: string, uid: string, extra: object = {}) => ({
  metadata: { name, namespace: 'default', uid, attempt: 0 },
  labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': name },
  linux: { cgroupParent: `/kubepods/besteffort/pod${uid}` },
  ...extra,
});
const containerConfig = (name: string) => ({ metadata: { name, attempt: 0 }, image: { image: 'nginx' }, labels: { 'io.kubernetes.container.name': name }, logPath: `${name}/0.log` });

describe('IPPool', () => {
  it('hands out the range from .2 (not the network, gateway or broadcast) and reuses released addresses', () => {
    const pool = new IPPool('10.244.7.0/30');
    expect(pool.allocate()).toBe('10.244.7.2');
    expect(() => pool.allocate()).toThrow('no IP addresses available in range set 10.244.7.0/30');
    pool.release('10.244.7.2');
    expect(pool.allocate()).toBe('10.244.7.2');
    expect(() => new IPPool('fd00::/64')).toThrow('invalid pod CIDR');
  });
});

describe('HollowRuntimeService', () => {
  it('runs a sandbox with an IP from the pod CIDR, and a container through created, running and exited', async () => {
    const clock = new FakeClock(1_000_000);
    const rt = new HollowRuntimeService({ clock, fallbackCIDR: '100.96.3.0/24' });
    expect((await rt.version()).runtimeName).toBe('hollow');
    const early = await rt.runPodSandbox(sandboxConfig('early', 'u0'));
    expect((await rt.podSandboxStatus(early)).status?.network?.ip).toBe('100.96.3.2');
    await rt.updateRuntimeConfig('10.244.7.0/24');
    const sb = await rt.runPodSandbox(sandboxConfig('web', 'u1'));
    const status = (await rt.podSandboxStatus(sb)).status!;
    expect(status).toMatchObject({ state: 'SANDBOX_READY', metadata: { name: 'web', uid: 'u1' }, network: { ip: '10.244.7.2' } });
    const host = await rt.runPodSandbox(sandboxConfig('host', 'u2', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }));
    expect((await rt.podSandboxStatus(host)).status?.network?.ip).toBe('');

    const id = await rt.createContainer(sb, containerConfig('web'), sandboxConfig('web', 'u1'));
    expect((await rt.containerStatus(id)).status).toMatchObject({ state: 'CONTAINER_CREATED', startedAt: 0, logPath: 'web/0.log' });
    await clock.step(500);
    await rt.startContainer(id);
    await expect(rt.startContainer(id)).rejects.toThrow('is not in created state');
    const running = (await rt.containerStatus(id)).status!;
    expect(running).toMatchObject({ state: 'CONTAINER_RUNNING', startedAt: 1_000_500 * 1e6, image: { image: 'nginx' } });
    expect(running.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await rt.execSync(id, ['cat', '/tmp/ready'], 1)).exitCode).toBe(0);
    await expect(rt.exec({ containerId: id, cmd: ['sh'] })).rejects.toThrow('no streaming server');

    // Filters as the kubelet's relist and pod status use them.
    expect((await rt.listContainers({ podSandboxId: sb })).map((c) => c.id)).toEqual([id]);
    expect(await rt.listContainers({ state: { state: 'CONTAINER_EXITED' } })).toEqual([]);
    expect((await rt.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': 'u1' } })).map((s) => s.id)).toEqual([sb]);

    // A graceful stop: the pretend process exits on SIGTERM at once.
    await rt.stopContainer(id, 30);
    expect((await rt.containerStatus(id)).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed' });
    await rt.stopPodSandbox(sb);
    expect((await rt.podSandboxStatus(sb)).status?.state).toBe('SANDBOX_NOTREADY');
    await expect(rt.createContainer(sb, containerConfig('late'), sandboxConfig('web', 'u1'))).rejects.toThrow('is not ready');
    await rt.removePodSandbox(sb);
    expect(rt.containers.size).toBe(0);
    await expect(rt.podSandboxStatus(sb)).rejects.toThrow('NotFound');
    // Its address goes back to the pool.
    expect((await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('next', 'u3')))).status?.network?.ip).toBe('10.244.7.2');
  });

  it('stopping a sandbox kills its running containers', async () => {
    const rt = new HollowRuntimeService();
    const sb = await rt.runPodSandbox(sandboxConfig('web', 'u1'));
    const id = await rt.createContainer(sb, containerConfig('web'), sandboxConfig('web', 'u1'));
    await rt.startContainer(id);
    await rt.stopPodSandbox(sb);
    expect((await rt.containerStatus(id)).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
  });
});

describe('HollowRuntimeService listing by pod', () => {
  it('finds a pod\'s sandboxes and containers by its uid label, and forgets them once removed', async () => {
    const rt = new HollowRuntimeService();
    const ids: Record<string, { sb: string; c: string }> = {};
    for (const uid of ['u1', 'u2']) {
      const sb = await rt.runPodSandbox(sandboxConfig(`pod-${uid}`, uid));
      const c = await rt.createContainer(sb, { ...containerConfig('app'), labels: { 'io.kubernetes.pod.uid': uid } }, sandboxConfig(`pod-${uid}`, uid));
      ids[uid] = { sb, c };
    }
    const byUID = { labelSelector: { 'io.kubernetes.pod.uid': 'u2' } };
    expect((await rt.listPodSandbox(byUID)).map((s) => s.id)).toEqual([ids.u2!.sb]);
    expect((await rt.listContainers(byUID)).map((c) => c.id)).toEqual([ids.u2!.c]);
    expect((await rt.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': 'u2', other: 'x' } }))).toEqual([]);
    await rt.removeContainer(ids.u2!.c);
    expect(await rt.listContainers(byUID)).toEqual([]);
    await rt.removePodSandbox(ids.u2!.sb);
    expect(await rt.listPodSandbox(byUID)).toEqual([]);
    expect((await rt.listPodSandbox()).map((s) => s.id)).toEqual([ids.u1!.sb]);
  });
});

describe('HollowImageService', () => {
  it('lists the images it starts with and any it "pulls", at once', async () => {
    const images = new HollowImageService({ images: ['registry.k8s.io/pause:3.10'] });
    expect((await images.imageStatus({ image: 'busybox' })).image).toBeNull();
    const ref = await images.pullImage({ image: 'busybox' });
    expect((await images.imageStatus({ image: 'busybox:latest' })).image?.id).toBe(ref);
    expect((await images.listImages()).flatMap((i) => i.repoTags)).toEqual(['registry.k8s.io/pause:3.10', 'busybox:latest']);
  });
});

describe('hollow stats', () => {
  it('a fixed machine, and the pods of the runtime as cgroups with usage growing while containers run', async () => {
    expect(hollowMachineInfo('hollow-1')).toMatchObject({ numCores: 4, memoryCapacityBytes: 16 * 1024 ** 3, operatingSystem: 'linux' });
    expect(hollowMachineInfo('hollow-1').machineID).not.toBe(hollowMachineInfo('hollow-2').machineID);
    let now = 1_000_000;
    const clock = new FakeClock(now);
    const rt = new HollowRuntimeService({ clock });
    const reader = new HollowCgroupReader(rt, () => now, 0);
    const sb = await rt.runPodSandbox(sandboxConfig('web', 'u1'));
    const id = await rt.createContainer(sb, containerConfig('web'), sandboxConfig('web', 'u1'));
    await rt.startContainer(id);
    expect(podCgroups(reader, '')).toEqual([{ uid: 'u1', path: '/kubepods/besteffort/podu1', children: [{ id, path: `/kubepods/besteffort/podu1/${id}` }] }]);
    now += 10_000;
    const pod = reader.read('/kubepods/besteffort/podu1', now)!;
    expect(pod).toMatchObject({ usageCoreNanoSeconds: 2e7, workingSetBytes: 4 * 1024 ** 2 });
    expect(reader.read('/', now)!.workingSetBytes).toBe(260 * 1024 ** 2);
    await rt.stopPodSandbox(sb);
    expect(reader.read('/kubepods/besteffort/podu1', now)).toBeUndefined();
    expect(podCgroups(reader, '')).toEqual([]);
  });
});
