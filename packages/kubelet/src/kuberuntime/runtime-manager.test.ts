import { describe, expect, it } from 'vitest';
import { newHarness, newPod } from './test-helpers.js';

describe('syncPod', () => {
  it('creates the sandbox, then runs init containers one at a time in order, then the containers', async () => {
    const h = newHarness();
    const pod = newPod({
      initContainers: [{ name: 'init-1', image: 'busybox:1.36' }, { name: 'init-2', image: 'busybox:1.36' }],
      containers: [{ name: 'a', image: 'busybox:1.36' }, { name: 'b', image: 'busybox:1.36' }],
    });
    let r = await h.sync(pod);
    expect(r.actions.createSandbox).toBe(true);
    expect(r.started).toEqual(['init-1']);
    expect(h.runtime.sandboxes.size).toBe(1);
    // Still running: nothing new.
    r = await h.sync(pod);
    expect(r.started).toEqual([]);
    h.runtime.exitContainer(h.latest('init-1').id, 0);
    expect((await h.sync(pod)).started).toEqual(['init-2']);
    h.runtime.exitContainer(h.latest('init-2').id, 0);
    expect((await h.sync(pod)).started).toEqual(['a', 'b']);
    expect((await h.sync(pod)).started).toEqual([]);
    expect(h.recorder.events.filter((e) => e.reason === 'Started').map((e) => e.message)).toEqual([
      'Started container init-1', 'Started container init-2', 'Started container a', 'Started container b',
    ]);
    const sandbox = [...h.runtime.sandboxes.values()][0]!;
    expect(h.latest('a').podSandboxId).toBe(sandbox.id);
    expect(h.latest('a').config.logPath).toBe('a/0.log');
    expect(h.dirs).toEqual(['/var/log/pods/default_web_uid-web', ...['init-1', 'init-2', 'a', 'b'].map((c) => `/var/log/pods/default_web_uid-web/${c}`)]);
  });

  it('creates the sandbox while the volumes are set up, and starts containers only once they are; a failed setup fails the sync', async () => {
    const h = newHarness();
    const pod = newPod();
    let mounted!: () => void;
    const volumesReady = new Promise<void>((resolve) => (mounted = resolve));
    const syncing = h.manager.syncPod(pod, await h.manager.getPodStatus(pod), [], volumesReady);
    for (let i = 0; i < 20 && h.runtime.sandboxes.size === 0; i++) await new Promise((r) => setImmediate(r));
    expect(h.runtime.sandboxes.size).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(h.runtime.containersNamed('app')).toHaveLength(0);
    mounted();
    expect((await syncing).started).toEqual(['app']);

    const other = newPod({}, 'other');
    await expect(h.manager.syncPod(other, await h.manager.getPodStatus(other), [], Promise.reject(new Error('configmap "x" not found')))).rejects.toThrow(
      'configmap "x" not found',
    );
    expect(h.runtime.containersNamed('app')).toHaveLength(1);
  });

  it('runs every init container again in a recreated sandbox', async () => {
    const h = newHarness();
    const pod = newPod({ initContainers: [{ name: 'init-1', image: 'busybox:1.36' }, { name: 'init-2', image: 'busybox:1.36' }] });
    await h.sync(pod);
    h.runtime.exitContainer(h.latest('init-1').id, 0);
    await h.sync(pod);
    h.runtime.exitContainer(h.latest('init-2').id, 0);
    expect((await h.sync(pod)).started).toEqual(['app']);
    h.runtime.killSandbox([...h.runtime.sandboxes.values()][0]!.id);
    expect((await h.sync(pod)).started).toEqual(['init-1']);
    expect(h.runtime.containersNamed('init-2')).toHaveLength(0);
    h.runtime.exitContainer(h.latest('init-1').id, 0);
    expect((await h.sync(pod)).started).toEqual(['init-2']);
    h.runtime.exitContainer(h.latest('init-2').id, 0);
    expect((await h.sync(pod)).started).toEqual(['app']);
    expect(h.latest('app').config.metadata.attempt).toBe(1);
  });

  it('restarts a failed init container (restartPolicy Always) and fails the pod on it with Never', async () => {
    const h = newHarness();
    const pod = newPod({ initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
    await h.sync(pod);
    h.runtime.exitContainer(h.latest('init').id, 1);
    expect((await h.sync(pod)).started).toEqual(['init']);
    expect(h.latest('init').config.metadata.attempt).toBe(1);

    const never = newPod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox:1.36' }] }, 'never');
    await h.sync(never);
    h.runtime.exitContainer(h.latest('init').id, 1);
    const r = await h.sync(never);
    expect(r.actions.killPod).toBe(true);
    expect(r.started).toEqual([]);
  });

  it('backs a crashing container off 10s, 20s, 40s (the first restart is immediate) and resets after 10 minutes running', async () => {
    const h = newHarness();
    const pod = newPod();
    await h.sync(pod);
    const crash = async () => {
      await h.clock.step(1000);
      h.runtime.exitContainer(h.latest('app').id, 1);
    };
    await crash();
    expect((await h.sync(pod)).started).toEqual(['app']);
    for (const delay of [10, 20, 40]) {
      await crash();
      const r = await h.sync(pod);
      expect(r.started).toEqual([]);
      expect(r.errors.get('app')).toEqual({ reason: 'CrashLoopBackOff', message: `back-off ${delay}s restarting failed container=app pod=web_default(uid-web)` });
      expect(h.manager.reasonCache.get('uid-web', 'app')?.reason).toBe('CrashLoopBackOff');
      await h.clock.step(delay * 1000 - 1000);
      expect((await h.sync(pod)).started).toEqual([]);
      await h.clock.step(1000);
      expect((await h.sync(pod)).started).toEqual(['app']);
      expect(h.manager.reasonCache.get('uid-web', 'app')).toBeUndefined();
    }
    expect(h.latest('app').config.metadata.attempt).toBe(4);
    expect(h.recorder.events.filter((e) => e.reason === 'BackOff')[0]).toEqual({
      object: 'default/web', type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_default(uid-web)',
    });
    // Ran fine for more than 10 minutes: the next crash restarts at once, then backs off 10s again.
    await h.clock.step(11 * 60_000);
    h.runtime.exitContainer(h.latest('app').id, 1);
    expect((await h.sync(pod)).started).toEqual(['app']);
    await crash();
    expect((await h.sync(pod)).errors.get('app')?.message).toMatch(/^back-off 10s /);
  });

  it('caps the backoff at 5 minutes', async () => {
    const h = newHarness();
    const pod = newPod();
    await h.sync(pod);
    const messages: string[] = [];
    for (let i = 0; i < 8; i++) {
      h.runtime.exitContainer(h.latest('app').id, 1);
      const r = await h.sync(pod);
      if (r.errors.get('app')) {
        messages.push(r.errors.get('app')!.message.split(' ')[1]!);
        await h.clock.step(300_000);
        await h.sync(pod);
      }
    }
    expect(messages).toEqual(['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s']);
  });

  it('restartPolicy Never and OnFailure: completed containers are not restarted and the pod is killed', async () => {
    const h = newHarness();
    const never = newPod({ restartPolicy: 'Never' });
    await h.sync(never);
    h.runtime.exitContainer(h.latest('app').id, 1);
    let r = await h.sync(never);
    expect(r.actions).toMatchObject({ killPod: true, createSandbox: false, containersToStart: [] });
    expect([...h.runtime.sandboxes.values()][0]!.state).toBe('SANDBOX_NOTREADY');
    // And the sandbox is not recreated.
    r = await h.sync(never);
    expect(r.actions.createSandbox).toBe(false);
    expect(h.runtime.sandboxes.size).toBe(1);

    const h2 = newHarness();
    const onFailure = newPod({ restartPolicy: 'OnFailure' });
    await h2.sync(onFailure);
    h2.runtime.exitContainer(h2.latest('app').id, 1);
    expect((await h2.sync(onFailure)).started).toEqual(['app']);
    h2.runtime.exitContainer(h2.latest('app').id, 0);
    r = await h2.sync(onFailure);
    expect(r.started).toEqual([]);
    expect(r.actions.killPod).toBe(true);
  });

  it('recreates a dead sandbox with the next attempt, and restarts a container whose spec changed', async () => {
    const h = newHarness();
    const pod = newPod();
    await h.sync(pod);
    const first = [...h.runtime.sandboxes.values()][0]!;
    h.runtime.killSandbox(first.id);
    const r = await h.sync(pod);
    expect(r.actions).toMatchObject({ killPod: true, createSandbox: true, attempt: 1 });
    expect(h.runtime.sandboxes.size).toBe(2);
    expect([...h.runtime.sandboxes.values()][1]!.config.metadata.attempt).toBe(1);
    expect(r.started).toEqual(['app']);

    const changed = newPod({ containers: [{ name: 'app', image: 'busybox:1.36', args: ['sleep', '3600'] }] });
    const old = h.latest('app').id;
    const r2 = await h.sync(changed);
    expect([...r2.actions.containersToKill.values()].map((k) => k.message)).toEqual(['Container app definition changed, will be restarted']);
    expect(h.runtime.containers.get(old)!.state).toBe('CONTAINER_EXITED');
    expect(h.latest('app').config.args).toEqual(['sleep', '3600']);
  });
});

describe('sandbox failures', () => {
  it('reports FailedCreatePodSandBox and creates it on the next sync', async () => {
    const h = newHarness();
    const pod = newPod();
    h.runtime.injectError('runPodSandbox', new Error('failed to setup network for sandbox: plugin type="bridge" failed'));
    const r = await h.sync(pod);
    expect(r.sandboxError).toMatch(/failed to setup network/);
    expect(h.recorder.events).toEqual([{
      object: 'default/web', type: 'Warning', reason: 'FailedCreatePodSandBox',
      message: 'Failed to create pod sandbox: failed to setup network for sandbox: plugin type="bridge" failed',
    }]);
    expect((await h.sync(pod)).started).toEqual(['app']);
  });
});

describe('image pulls', () => {
  it('pulls per imagePullPolicy with events', async () => {
    const h = newHarness({ images: ['busybox:1.36'] });
    await h.sync(newPod({ containers: [{ name: 'a', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent' }] }, 'p1'));
    expect(h.images.methods()).not.toContain('pullImage');
    expect(h.recorder.events.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      'Pulled: Container image "busybox:1.36" already present on machine', 'Created: Created container a', 'Started: Started container a',
    ]);
    h.recorder.events.length = 0;
    await h.sync(newPod({ containers: [{ name: 'a', image: 'nginx' }] }, 'p2'));
    expect(h.images.calls.find((c) => c.method === 'pullImage')!.args[0]).toEqual({ image: 'nginx:latest', userSpecifiedImage: 'nginx' });
    expect(h.recorder.events[0]).toMatchObject({ reason: 'Pulling', message: 'Pulling image "nginx"' });
    expect(h.recorder.events[1]!.message).toMatch(/^Successfully pulled image "nginx" in 0s \(0s including waiting\)\. Image size: \d+ bytes\.$/);
  });

  it('ErrImageNeverPull, then ErrImagePull and ImagePullBackOff', async () => {
    const h = newHarness({ images: [] });
    let r = await h.sync(newPod({ containers: [{ name: 'a', image: 'app:v1', imagePullPolicy: 'Never' }] }, 'p1'));
    expect(r.errors.get('a')).toEqual({ reason: 'ErrImageNeverPull', message: 'Container image "app:v1" is not present with pull policy of Never' });

    h.images.pullErrors.set('missing:v1', new Error('rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/missing:v1"'));
    const pod = newPod({ containers: [{ name: 'a', image: 'missing:v1' }] }, 'p2');
    r = await h.sync(pod);
    expect(r.errors.get('a')!.reason).toBe('ErrImagePull');
    expect(h.recorder.events.filter((e) => e.type === 'Warning').map((e) => e.message)).toContain('Error: ErrImagePull');
    r = await h.sync(pod);
    expect(r.errors.get('a')).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "missing:v1"' });
    await h.clock.step(10_000);
    r = await h.sync(pod);
    expect(r.errors.get('a')!.reason).toBe('ErrImagePull');
    h.images.pullErrors.clear();
    await h.clock.step(20_000);
    expect((await h.sync(pod)).started).toEqual(['a']);
  });

  it('reports a missing config map as CreateContainerConfigError', async () => {
    const h = newHarness();
    const r = await h.sync(newPod({ containers: [{ name: 'a', image: 'busybox:1.36', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }] }));
    expect(r.errors.get('a')).toEqual({ reason: 'CreateContainerConfigError', message: 'configmap "cfg" not found' });
    expect(h.recorder.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'Failed', message: 'Error: configmap "cfg" not found' });
  });
});

describe('lifecycle hooks and killing', () => {
  it('kills a container whose postStart exec hook fails (FailedPostStartHook)', async () => {
    const h = newHarness();
    h.runtime.execResults.set('sh -c exit 3', { stdout: Buffer.from(''), stderr: Buffer.from('boom'), exitCode: 3 });
    const r = await h.sync(newPod({ containers: [{ name: 'a', image: 'busybox:1.36', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 3'] } } } }] }));
    expect(r.errors.get('a')!.reason).toBe('PostStartHookError');
    expect(h.recorder.reasons()).toEqual(['Pulled', 'Created', 'Started', 'FailedPostStartHook', 'Killing']);
    expect(h.latest('a').state).toBe('CONTAINER_EXITED');
  });

  it('runs an httpGet postStart hook against the pod IP', async () => {
    const h = newHarness();
    const urls: string[] = [];
    (h.manager as unknown as { httpGet: (u: string) => Promise<number> }).httpGet = async (u) => {
      urls.push(u);
      return 200;
    };
    const r = await h.sync(newPod({ containers: [{ name: 'a', image: 'busybox:1.36', lifecycle: { postStart: { httpGet: { path: 'hook', port: 8080 } } } }] }));
    expect(r.started).toEqual(['a']);
    expect(urls).toEqual(['http://10.244.0.1:8080/hook']);
  });

  it('killPod runs preStop and stops each container with the grace period, then the sandbox', async () => {
    const h = newHarness();
    const pod = newPod({
      terminationGracePeriodSeconds: 45,
      containers: [{ name: 'a', image: 'busybox:1.36', lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } } }, { name: 'b', image: 'busybox:1.36' }],
    });
    await h.sync(pod);
    h.runtime.resetCalls();
    await h.manager.killPod(pod, await h.manager.getPodStatus(pod));
    expect(h.runtime.calls.filter((c) => c.method === 'execSync').map((c) => c.args[1])).toEqual([['nginx', '-s', 'quit']]);
    expect([...h.runtime.stopTimeouts.values()]).toEqual([45, 45]);
    expect(h.runtime.methods().at(-1)).toBe('stopPodSandbox');
    expect(h.recorder.events.filter((e) => e.reason === 'Killing').map((e) => e.message).sort()).toEqual(['Stopping container a', 'Stopping container b']);
    // A deletion's grace period wins over the spec's.
    const h2 = newHarness();
    const deleted = { ...newPod({ terminationGracePeriodSeconds: 45 }), metadata: { ...newPod().metadata, deletionGracePeriodSeconds: 5 } };
    await h2.sync(newPod({ terminationGracePeriodSeconds: 45 }));
    await h2.manager.killPod(deleted, await h2.manager.getPodStatus(deleted));
    expect([...h2.runtime.stopTimeouts.values()]).toEqual([5]);
  });
});
