import { rfc3339 } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Container, Pod, PodStatus, Probe } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { FakeRecorder } from '../kuberuntime/test-helpers.js';
import { ProberManager } from './prober-manager.js';
import { Prober } from './prober.js';
import type { ProbeResultUpdate } from './results.js';

/** A pod with one container `app` and the given probes (exec `check`), its status set by the test. */
function setup(probes: Pick<Container, 'livenessProbe' | 'readinessProbe' | 'startupProbe'>, restartPolicy = 'Always') {
  const clock = new FakeClock();
  const recorder = new FakeRecorder();
  let exitCode = 0;
  const execs: string[] = [];
  const runtime = {
    async execSync(id: string, cmd: string[]) {
      execs.push(`${id} ${cmd.join(' ')}`);
      return { stdout: Buffer.from(exitCode ? 'unhealthy' : 'ok'), stderr: Buffer.alloc(0), exitCode };
    },
  };
  const statuses = new Map<string, PodStatus>();
  const manager = new ProberManager({ podStatus: (uid) => statuses.get(uid), runtime, recorder, clock, random: () => 0 });
  const updates: string[] = [];
  const log = (kind: string) => (u: ProbeResultUpdate) => updates.push(`${kind} ${u.containerID} ${u.result}`);
  manager.livenessManager.onUpdate(log('liveness'));
  manager.readinessManager.onUpdate(log('readiness'));
  manager.startupManager.onUpdate(log('startup'));
  const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { restartPolicy, containers: [{ name: 'app', image: 'busybox', ...probes }] } };
  /** The kubelet's status: container `id` running since `startedAt` (started per the prober, as the status generation sets it). */
  const running = (id: string, startedAt = clock.now()) => {
    const status: PodStatus = {
      phase: 'Running', podIP: '10.244.0.5',
      containerStatuses: [{ name: 'app', image: 'busybox', imageID: '', containerID: `containerd://${id}`, restartCount: 0, ready: false, state: { running: { startedAt: rfc3339(startedAt) } } }],
    };
    manager.updatePodStatus('uid-web', status);
    statuses.set('uid-web', status);
    return status;
  };
  return { clock, recorder, manager, pod, statuses, running, updates, execs, fail: (code: number) => (exitCode = code) };
}

const exec = (extra: Partial<Probe> = {}): Probe => ({ exec: { command: ['check'] }, periodSeconds: 10, ...extra });

describe('probe workers', () => {
  it('readiness starts as Failure, turns Success after successThreshold successes in a row, Failure after failureThreshold failures', async () => {
    const t = setup({ readinessProbe: exec({ successThreshold: 3, failureThreshold: 3 }) });
    t.manager.addPod(t.pod);
    // The status update without a readiness result runs a probe at once; the worker's first tick another.
    expect(t.running('c1').containerStatuses![0]).toMatchObject({ started: true, ready: false });
    await t.clock.step(0);
    expect(t.updates).toEqual(['readiness c1 Failure']);
    expect(t.execs).toEqual(['c1 check', 'c1 check']);
    await t.clock.step(10_000);
    expect(t.updates).toEqual(['readiness c1 Failure', 'readiness c1 Success']);
    expect(t.running('c1').containerStatuses![0]).toMatchObject({ started: true, ready: true });
    t.fail(1);
    await t.clock.step(20_000);
    expect(t.manager.readinessManager.get('c1')).toBe('Success');
    await t.clock.step(10_000);
    expect(t.manager.readinessManager.get('c1')).toBe('Failure');
    expect(t.recorder.events.at(-1)).toEqual({ object: 'default/web', type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: unhealthy' });
    expect(t.execs).toHaveLength(6);
  });

  it('waits initialDelaySeconds after the container started, and for a container at all', async () => {
    const t = setup({ livenessProbe: exec({ initialDelaySeconds: 15, periodSeconds: 5 }) });
    t.manager.addPod(t.pod);
    await t.clock.step(10_000);
    expect(t.execs).toEqual([]);
    t.running('c1');
    await t.clock.step(10_000);
    expect(t.execs).toEqual([]);
    expect(t.manager.livenessManager.get('c1')).toBe('Success');
    await t.clock.step(5_000);
    expect(t.execs).toEqual(['c1 check']);
  });

  it('a liveness failure is cached once failureThreshold is reached; the container is then left alone until it is replaced', async () => {
    const t = setup({ livenessProbe: exec({ failureThreshold: 2 }) });
    t.manager.addPod(t.pod);
    t.running('c1');
    t.fail(1);
    await t.clock.step(0);
    expect(t.manager.livenessManager.get('c1')).toBe('Success');
    await t.clock.step(10_000);
    expect(t.updates).toEqual(['liveness c1 Success', 'liveness c1 Failure']);
    await t.clock.step(30_000);
    expect(t.execs).toHaveLength(2);
    // The restarted container: a fresh Success, probed again; the old result is gone.
    t.running('c2');
    await t.clock.step(10_000);
    expect(t.execs.at(-1)).toBe('c2 check');
    expect(t.manager.livenessManager.get('c1')).toBeUndefined();
    expect(t.manager.livenessManager.get('c2')).toBe('Success');
    expect(t.recorder.events.map((e) => e.message)).toEqual(['Liveness probe failed: unhealthy', 'Liveness probe failed: unhealthy', 'Liveness probe failed: unhealthy']);
  });

  it('liveness and readiness wait for the startup probe; the startup probe stops once it succeeded', async () => {
    const t = setup({ startupProbe: exec({ periodSeconds: 1, failureThreshold: 30 }), livenessProbe: exec({ periodSeconds: 3 }), readinessProbe: exec({ periodSeconds: 3 }) });
    t.manager.addPod(t.pod);
    t.fail(1);
    let status = t.running('c1');
    expect(status.containerStatuses![0]).toMatchObject({ started: false, ready: false });
    await t.clock.step(5_000);
    expect(t.execs).toHaveLength(6);
    expect(t.manager.startupManager.get('c1')).toBe('Unknown');
    t.fail(0);
    await t.clock.step(1_000);
    expect(t.manager.startupManager.get('c1')).toBe('Success');
    status = t.running('c1');
    expect(status.containerStatuses![0]).toMatchObject({ started: true, ready: false });
    const before = t.execs.length;
    await t.clock.step(3_000);
    // Only liveness and readiness now (a readiness run triggered by the status update, then one tick each), no more startup probes.
    expect(t.execs.length - before).toBe(3);
    expect(t.manager.readinessManager.get('c1')).toBe('Success');
    expect(t.running('c1').containerStatuses![0]).toMatchObject({ started: true, ready: true });
  });

  it('a failed startup probe is cached as Failure after failureThreshold', async () => {
    const t = setup({ startupProbe: exec({ periodSeconds: 1, failureThreshold: 3 }) });
    t.manager.addPod(t.pod);
    t.fail(1);
    t.running('c1');
    await t.clock.step(2_000);
    expect(t.manager.startupManager.get('c1')).toBe('Failure');
    expect(t.updates).toEqual(['startup c1 Unknown', 'startup c1 Failure']);
  });

  it('a stopped container fails readiness; workers stop with a terminal pod, and liveness ends with Success on deletion', async () => {
    const t = setup({ readinessProbe: exec(), livenessProbe: exec() });
    t.manager.addPod(t.pod);
    t.running('c1');
    await t.clock.step(0);
    expect(t.manager.readinessManager.get('c1')).toBe('Success');
    t.manager.addPod({ ...t.pod, metadata: { ...t.pod.metadata, deletionTimestamp: rfc3339(t.clock.now()) } });
    await t.clock.step(10_000);
    expect(t.manager.worker('uid-web', 'app', 'Liveness')).toBeUndefined();
    expect(t.manager.worker('uid-web', 'app', 'Readiness')).toBeDefined();
    const status = t.statuses.get('uid-web')!;
    status.containerStatuses![0]!.state = { terminated: { exitCode: 0 } };
    await t.clock.step(10_000);
    expect(t.manager.readinessManager.get('c1')).toBe('Failure');
    status.phase = 'Succeeded';
    await t.clock.step(10_000);
    expect(t.manager.workerCount()).toBe(0);
    expect(t.manager.readinessManager.get('c1')).toBeUndefined();
  });

  it('removePod stops every worker and forgets the results', async () => {
    const t = setup({ readinessProbe: exec(), livenessProbe: exec(), startupProbe: exec() });
    t.manager.addPod(t.pod);
    t.manager.addPod(t.pod);
    expect(t.manager.workerCount()).toBe(3);
    t.running('c1');
    await t.clock.step(0);
    t.manager.removePod(t.pod);
    expect(t.manager.workerCount()).toBe(0);
    expect([t.manager.startupManager.get('c1'), t.manager.livenessManager.get('c1'), t.manager.readinessManager.get('c1')]).toEqual([undefined, undefined, undefined]);
    const n = t.execs.length;
    await t.clock.step(60_000);
    expect(t.execs).toHaveLength(n);
  });

  it('sets started and ready: at once without probes, never for a stopped container; init containers by their exit code', () => {
    const t = setup({});
    const status: PodStatus = {
      containerStatuses: [
        { name: 'app', image: '', imageID: '', containerID: 'containerd://c1', restartCount: 0, ready: false, state: { running: {} } },
        { name: 'old', image: '', imageID: '', containerID: 'containerd://c2', restartCount: 0, ready: false, state: { terminated: { exitCode: 0 } } },
      ],
      initContainerStatuses: [{ name: 'init', image: '', imageID: '', restartCount: 0, ready: false, state: { terminated: { exitCode: 0 } } }],
    };
    t.manager.updatePodStatus('uid-web', status);
    expect(status.containerStatuses!.map((c) => [c.started, c.ready])).toEqual([[true, true], [false, false]]);
    expect(status.initContainerStatuses![0]!.ready).toBe(true);
  });
});

describe('Prober', () => {
  const status: PodStatus = { podIP: '127.0.0.1' };
  const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' } };

  it('retries a handler error 3 times, records "probe errored" and throws; a 3xx not followed is a success with a ProbeWarning', async () => {
    const recorder = new FakeRecorder();
    const prober = new Prober({ runtime: { execSync: async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }) }, recorder });
    let calls = 0;
    const container: Container = { name: 'app', readinessProbe: { httpGet: { port: 'metrics' } } };
    const run = prober.runProbe.bind(prober);
    prober.runProbe = (...args) => {
      calls++;
      return run(...args);
    };
    await expect(prober.probe('Readiness', pod, status, container, 'c1')).rejects.toThrow('port metrics not found');
    expect(calls).toBe(3);
    expect(recorder.events).toEqual([{ object: 'default/web', type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe errored: port metrics not found' }]);
    // No probe of that type: a success.
    expect(await prober.probe('Liveness', pod, status, container, 'c1')).toBe('Success');
  });

  it('a Warning outcome counts as a success with a ProbeWarning event; exec commands expand $(VAR) from literal env only', async () => {
    const recorder = new FakeRecorder();
    const cmds: string[][] = [];
    const runtime = {
      async execSync(_id: string, cmd: string[]) {
        cmds.push(cmd);
        return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
      },
    };
    const prober = new Prober({ runtime, recorder });
    prober.runProbe = async () => ({ result: 'Warning', output: 'Probe terminated redirects, Response body: moved' });
    const container: Container = { name: 'app', livenessProbe: { exec: { command: ['check', '$(FILE)', '$(SECRET)', '$$(FILE)'] } } };
    expect(await prober.probe('Liveness', pod, status, container, 'c1')).toBe('Success');
    expect(recorder.events).toEqual([{ object: 'default/web', type: 'Warning', reason: 'ProbeWarning', message: 'Liveness probe warning: Probe terminated redirects, Response body: moved' }]);
    const real = new Prober({ runtime, recorder });
    const env = [{ name: 'FILE', value: '/tmp/ok' }, { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    expect(await real.probe('Liveness', pod, status, { ...container, env }, 'c1')).toBe('Success');
    expect(cmds).toEqual([['check', '/tmp/ok', '', '$(FILE)']]);
  });
});
