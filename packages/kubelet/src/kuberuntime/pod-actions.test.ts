import { FakeClock } from '@kubelab/client';
import { describe, expect, it } from 'vitest';
import type { PodSandboxStatus } from '../cri/runtime-service.js';
import { Backoff } from './backoff.js';
import { hashContainer } from './container-config.js';
import { computePodActions, doBackOff, formatDuration } from './pod-actions.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from './runtime-pod-status.js';
import { newPod } from './test-helpers.js';

const sandbox = (state: PodSandboxStatus['state'], attempt = 0, ip = '10.244.0.5'): PodSandboxStatus => ({
  id: `sb-${attempt}`, metadata: { name: 'web', uid: 'uid-web', namespace: 'default', attempt }, state, createdAt: attempt,
  network: { ip, additionalIps: [] }, linux: { namespaces: { options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } }, labels: {}, annotations: {}, runtimeHandler: '',
});

const container = (name: string, state: RuntimeContainerStatus['state'], extra: Partial<RuntimeContainerStatus> = {}): RuntimeContainerStatus => ({
  id: `c-${name}`, name, state, createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, image: 'busybox', imageRef: 'sha256:1', hash: '', restartCount: 0,
  reason: '', message: '', ...extra,
});

const status = (sandboxes: PodSandboxStatus[], containers: RuntimeContainerStatus[]): RuntimePodStatus => ({
  uid: 'uid-web', name: 'web', namespace: 'default', ips: [], sandboxStatuses: sandboxes, containerStatuses: containers,
});

describe('computePodActions', () => {
  it('a new pod: create the sandbox and start all containers (or the first init container)', () => {
    const pod = newPod({ containers: [{ name: 'a' }, { name: 'b' }] });
    expect(computePodActions(pod, status([], []))).toMatchObject({ killPod: true, createSandbox: true, attempt: 0, containersToStart: [0, 1] });
    const withInit = newPod({ initContainers: [{ name: 'i1' }, { name: 'i2' }] });
    const a = computePodActions(withInit, status([], []));
    expect(a.nextInitContainerToStart?.name).toBe('i1');
    expect(a.containersToStart).toEqual([]);
  });

  it('a sandbox without an IP or with two ready sandboxes is replaced', () => {
    const pod = newPod();
    expect(computePodActions(pod, status([sandbox('SANDBOX_READY', 2, '')], []))).toMatchObject({ createSandbox: true, attempt: 3, sandboxID: 'sb-2' });
    expect(computePodActions(pod, status([sandbox('SANDBOX_READY', 1), sandbox('SANDBOX_READY', 0)], []))).toMatchObject({ createSandbox: true, attempt: 2 });
    expect(computePodActions(pod, status([sandbox('SANDBOX_READY', 1)], [container('app', 'running', { hash: hashContainer(pod.spec!.containers[0]!) })])))
      .toMatchObject({ killPod: false, createSandbox: false, sandboxID: 'sb-1', containersToStart: [] });
  });

  it('OnFailure with a succeeded container and a dead sandbox: no new sandbox', () => {
    const pod = newPod({ restartPolicy: 'OnFailure' });
    const a = computePodActions(pod, status([sandbox('SANDBOX_NOTREADY', 0)], [container('app', 'exited', { exitCode: 0 })]));
    expect(a).toMatchObject({ killPod: true, createSandbox: false });
  });

  it('waits for a running init container, then moves to the next', () => {
    const pod = newPod({ initContainers: [{ name: 'i1' }, { name: 'i2' }] });
    const sb = [sandbox('SANDBOX_READY', 0)];
    const running = computePodActions(pod, status(sb, [container('i1', 'running')]));
    expect(running.nextInitContainerToStart).toBeUndefined();
    expect(running.containersToStart).toEqual([]);
    expect(computePodActions(pod, status(sb, [container('i1', 'exited')])).nextInitContainerToStart?.name).toBe('i2');
    expect(computePodActions(pod, status(sb, [container('i2', 'exited'), container('i1', 'exited')])).containersToStart).toEqual([0]);
  });

  it('kills a running container whose liveness or startup probe failed, and restarts it unless the policy is Never', () => {
    const pod = newPod({ containers: [{ name: 'a' }, { name: 'b' }] });
    const sb = [sandbox('SANDBOX_READY', 0)];
    const running = status(sb, [container('a', 'running', { id: 'ca' }), container('b', 'running', { id: 'cb' })]);
    const results = (m: Record<string, string>) => ({ get: (id: string) => m[id] });
    const live = computePodActions(pod, running, { liveness: results({ ca: 'Failure', cb: 'Success' }), startup: results({}) });
    expect(live).toMatchObject({ killPod: false, createSandbox: false, containersToStart: [0] });
    expect([...live.containersToKill]).toEqual([['ca', { name: 'a', container: pod.spec!.containers[0], message: 'Container a failed liveness probe, will be restarted', reason: 'LivenessProbe' }]]);
    const startup = computePodActions(pod, running, { startup: results({ cb: 'Failure' }) });
    expect(startup.containersToKill.get('cb')).toMatchObject({ message: 'Container b failed startup probe, will be restarted', reason: 'StartupProbe' });
    expect(startup.containersToStart).toEqual([1]);
    // Unknown (a startup probe that has not answered yet) keeps the container.
    expect(computePodActions(pod, running, { startup: results({ ca: 'Unknown', cb: 'Success' }) }).containersToKill.size).toBe(0);
    const never = computePodActions({ ...pod, spec: { ...pod.spec!, restartPolicy: 'Never' } }, running, { liveness: results({ ca: 'Failure' }) });
    expect(never).toMatchObject({ killPod: false, containersToStart: [] });
    expect(never.containersToKill.get('ca')?.message).toBe('Container a failed liveness probe');
  });
});

describe('doBackOff', () => {
  it('keys the backoff per pod and container, measured from the container finish', () => {
    const clock = new FakeClock(0);
    const backoff = new Backoff({ clock, initialMs: 10_000, maxMs: 300_000 });
    const pod = newPod();
    const c = pod.spec!.containers[0]!;
    const exited = (finishedAt: number) => status([sandbox('SANDBOX_READY')], [container('app', 'exited', { exitCode: 1, finishedAt })]);
    expect(doBackOff(pod, c, exited(0), backoff)).toBeUndefined();
    expect(doBackOff(pod, c, exited(0), backoff)).toBe('back-off 10s restarting failed container=app pod=web_default(uid-web)');
    // Another pod's container of the same name has its own backoff.
    expect(doBackOff(newPod({}, 'other'), c, exited(0), backoff)).toBeUndefined();
  });

  it('does not back off a running container being restarted, even with an older dead run', () => {
    const clock = new FakeClock(0);
    const backoff = new Backoff({ clock, initialMs: 10_000, maxMs: 300_000 });
    const pod = newPod();
    const c = pod.spec!.containers[0]!;
    const dead = container('app', 'exited', { id: 'old', exitCode: 137, finishedAt: 0 });
    expect(doBackOff(pod, c, status([sandbox('SANDBOX_READY')], [dead]), backoff)).toBeUndefined();
    const runningAgain = status([sandbox('SANDBOX_READY')], [container('app', 'running', { id: 'new', restartCount: 1 }), dead]);
    expect(doBackOff(pod, c, runningAgain, backoff)).toBeUndefined();
    expect(doBackOff(pod, c, status([sandbox('SANDBOX_READY')], [dead]), backoff)).toMatch(/^back-off 10s/);
  });

  it('formats delays as Go durations', () => {
    expect([0, 250, 1500, 10_000, 80_000, 300_000, 3_600_000, 61_050].map(formatDuration)).toEqual(['0s', '250ms', '1.5s', '10s', '1m20s', '5m0s', '1h0m0s', '1m1.05s']);
  });
});
