import { FakeClock } from '@kubelab/client';
import { describe, expect, it } from 'vitest';
import { FakeImageService, FakeRuntimeService } from './fake-runtime.js';

const sandboxConfig = { metadata: { name: 'web', uid: 'u1', namespace: 'default', attempt: 0 }, labels: { 'io.kubernetes.pod.uid': 'u1' } };

describe('FakeRuntimeService', () => {
  it('runs a sandbox and a container through created, running and exited', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntimeService({ clock });
    const sb = await rt.runPodSandbox(sandboxConfig);
    expect((await rt.podSandboxStatus(sb)).status).toMatchObject({ state: 'SANDBOX_READY', network: { ip: '10.244.0.1' } });
    const id = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'busybox' }, labels: { 'io.kubernetes.pod.uid': 'u1' } }, sandboxConfig);
    expect((await rt.containerStatus(id)).status!.state).toBe('CONTAINER_CREATED');
    await rt.startContainer(id);
    await clock.step(5000);
    rt.exitContainer(id, 2);
    const s = (await rt.containerStatus(id)).status!;
    expect(s).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 2, reason: 'Error' });
    expect(s.finishedAt - s.startedAt).toBe(5000 * 1e6);
    expect(await rt.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': 'u1' } })).toHaveLength(1);
    expect(await rt.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': 'other' } })).toHaveLength(0);
    expect(rt.methods()).toEqual(['runPodSandbox', 'podSandboxStatus', 'createContainer', 'containerStatus', 'startContainer', 'containerStatus', 'listContainers', 'listContainers']);
  });

  it('reports an OOM kill, stops containers with their sandbox, and fails injected calls once', async () => {
    const rt = new FakeRuntimeService();
    const sb = await rt.runPodSandbox(sandboxConfig);
    const a = await rt.createContainer(sb, { metadata: { name: 'a' }, image: { image: 'busybox' } }, sandboxConfig);
    const b = await rt.createContainer(sb, { metadata: { name: 'b' }, image: { image: 'busybox' } }, sandboxConfig);
    await rt.startContainer(a);
    await rt.startContainer(b);
    rt.oomKill(a);
    expect((await rt.containerStatus(a)).status).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    await rt.stopPodSandbox(sb);
    expect((await rt.containerStatus(b)).status!.state).toBe('CONTAINER_EXITED');
    rt.injectError('runPodSandbox', new Error('no network'));
    await expect(rt.runPodSandbox(sandboxConfig)).rejects.toThrow('no network');
    await expect(rt.runPodSandbox(sandboxConfig)).resolves.toBeTruthy();
  });

  it('pulls images and fails pulls on demand', async () => {
    const images = new FakeImageService({ images: ['busybox'] });
    expect((await images.imageStatus({ image: 'busybox:latest' })).image).not.toBeNull();
    expect((await images.imageStatus({ image: 'nginx' })).image).toBeNull();
    images.pullErrors.set('nope:1', new Error('not found'));
    await expect(images.pullImage({ image: 'nope:1' })).rejects.toThrow('not found');
    await images.pullImage({ image: 'nginx' });
    expect((await images.imageStatus({ image: 'nginx' })).image!.repoTags).toEqual(['nginx:latest']);
  });
});
