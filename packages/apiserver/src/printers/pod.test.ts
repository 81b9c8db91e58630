import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '@kubelab/api';
import { printerFor } from './index.js';

const now = new Date('2024-06-01T12:00:00Z');
const pods = printerFor('', 'pods');

function pod(p: Partial<Pod> & { metadata?: Pod['metadata'] }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    ...p,
    metadata: { name: 'web-0', namespace: 'default', creationTimestamp: '2024-06-01T11:00:00Z', ...p.metadata },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...p.spec },
  } as KubeObject;
}

const running = { running: { startedAt: '2024-06-01T11:00:05Z' } };

describe('pod printer', () => {
  it('has upstream columns, wide ones at priority 1', () => {
    expect(pods.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Status', 'string', 0],
      ['Restarts', 'string', 0],
      ['Age', 'string', 0],
      ['IP', 'string', 1],
      ['Node', 'string', 1],
      ['Nominated Node', 'string', 1],
      ['Readiness Gates', 'string', 1],
    ]);
    expect(pods.columns[0]!.format).toBe('name');
  });

  it('prints a running pod with restarts and the last restart time', () => {
    const p = pod({
      spec: { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'pause' }], nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIP: '10.244.1.5',
        podIPs: [{ ip: '10.244.1.5' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            image: 'busybox',
            imageID: '',
            ready: true,
            restartCount: 2,
            state: running,
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-06-01T11:55:00Z' } },
          },
          { name: 'sidecar', image: 'pause', imageID: '', ready: true, restartCount: 0, state: running },
        ],
      },
    });
    expect(pods.row(p, now)).toEqual(['web-0', '2/2', 'Running', '2 (5m ago)', '60m', '10.244.1.5', 'node-1', '<none>', '<none>']);
    expect(pods.conditions?.(p)).toBeUndefined();
  });

  it('prints a pending, unscheduled pod', () => {
    const p = pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } });
    expect(pods.row(p, now)).toEqual(['web-0', '0/1', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>']);
  });

  it('shows the waiting reason of a container being created', () => {
    const p = pod({
      spec: { containers: [{ name: 'app' }], nodeName: 'node-1' },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
    });
    expect(pods.row(p, now).slice(1, 4)).toEqual(['0/1', 'ContainerCreating', '0']);
  });

  it('shows CrashLoopBackOff', () => {
    const p = pod({
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            image: 'busybox',
            imageID: '',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-06-01T11:58:30Z' } },
          },
        ],
      },
    });
    expect(pods.row(p, now).slice(1, 4)).toEqual(['0/1', 'CrashLoopBackOff', '5 (90s ago)']);
  });

  it('shows Completed and Error for finished pods, with a Completed row condition', () => {
    const done = pod({
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'app', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
    });
    expect(pods.row(done, now).slice(1, 4)).toEqual(['0/1', 'Completed', '0']);
    expect(pods.conditions?.(done)).toEqual([
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
    const failed = pod({
      status: {
        phase: 'Failed',
        containerStatuses: [
          { name: 'app', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error' } } },
        ],
      },
    });
    expect(pods.row(failed, now)[2]).toBe('Error');
    expect(pods.conditions?.(failed)?.[0]?.reason).toBe('Failed');
  });

  it('shows ExitCode and Signal when a terminated container has no reason', () => {
    const p = pod({
      status: {
        phase: 'Failed',
        containerStatuses: [{ name: 'app', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }],
      },
    });
    expect(pods.row(p, now)[2]).toBe('Signal:9');
  });

  it('prints Terminating when deleted, but Unknown on a lost node', () => {
    const base = {
      metadata: { name: 'web-0', deletionTimestamp: '2024-06-01T11:59:00Z' },
      status: {
        phase: 'Running' as const,
        containerStatuses: [{ name: 'app', image: 'b', imageID: '', ready: true, restartCount: 0, state: running }],
      },
    };
    expect(pods.row(pod(base), now).slice(1, 4)).toEqual(['1/1', 'Terminating', '0']);
    const lost = pod({ ...base, status: { ...base.status, reason: 'NodeLost' } });
    expect(pods.row(lost, now)[2]).toBe('Unknown');
    // A finished pod being deleted keeps its final status.
    const finished = pod({
      ...base,
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'app', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
    });
    expect(pods.row(finished, now)[2]).toBe('Completed');
  });

  it('shows NodeLost from status.reason when not deleted', () => {
    const p = pod({ status: { phase: 'Running', reason: 'NodeLost' } });
    expect(pods.row(p, now)[2]).toBe('NodeLost');
  });

  it('shows SchedulingGated', () => {
    const p = pod({
      spec: { containers: [{ name: 'app' }], schedulingGates: [{ name: 'example.com/gate' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    });
    expect(pods.row(p, now)[2]).toBe('SchedulingGated');
  });

  describe('init containers', () => {
    const spec = {
      initContainers: [{ name: 'init-a' }, { name: 'init-b' }],
      containers: [{ name: 'app' }],
    };
    const appWaiting = [
      { name: 'app', image: 'b', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
    ];

    it('shows Init:N/M while an init container runs', () => {
      const p = pod({
        spec,
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-a', image: 'b', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
            { name: 'init-b', image: 'b', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
          ],
          containerStatuses: appWaiting,
        },
      });
      expect(pods.row(p, now).slice(1, 4)).toEqual(['0/1', 'Init:0/2', '0']);
    });

    it('counts past completed init containers', () => {
      const p = pod({
        spec,
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-a', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
            { name: 'init-b', image: 'b', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
          ],
          containerStatuses: appWaiting,
        },
      });
      expect(pods.row(p, now)[2]).toBe('Init:1/2');
    });

    it('shows Init:Error and Init:CrashLoopBackOff with init restarts', () => {
      const failed = pod({
        spec,
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-a', image: 'b', imageID: '', ready: false, restartCount: 1, state: { terminated: { exitCode: 1, reason: 'Error' } } },
          ],
        },
      });
      expect(pods.row(failed, now).slice(1, 4)).toEqual(['0/1', 'Init:Error', '1']);
      const looping = pod({
        spec,
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            {
              name: 'init-a',
              image: 'b',
              imageID: '',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 1, finishedAt: '2024-06-01T11:59:00Z' } },
            },
          ],
        },
      });
      expect(pods.row(looping, now).slice(2, 4)).toEqual(['Init:CrashLoopBackOff', '3 (60s ago)']);
    });

    it('shows PodInitializing once init containers are done and the app container waits', () => {
      const p = pod({
        spec,
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            { name: 'init-a', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
            { name: 'init-b', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          ],
          containerStatuses: appWaiting,
        },
      });
      expect(pods.row(p, now)[2]).toBe('PodInitializing');
    });

    it('counts a started sidecar (restartable init container) as a ready container', () => {
      const p = pod({
        spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
          initContainerStatuses: [
            { name: 'proxy', image: 'b', imageID: '', ready: true, started: true, restartCount: 1, state: running },
          ],
          containerStatuses: [{ name: 'app', image: 'b', imageID: '', ready: true, restartCount: 0, state: running }],
        },
      });
      expect(pods.row(p, now).slice(1, 4)).toEqual(['2/2', 'Running', '1']);
    });
  });

  it('keeps Running when one container completed and another still runs', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'a', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'b', image: 'b', imageID: '', ready: true, restartCount: 0, state: running },
        ],
      },
    });
    expect(pods.row(p, now).slice(1, 3)).toEqual(['1/2', 'NotReady']);
  });

  it('fills the wide cells: nominated node and readiness gates', () => {
    const p = pod({
      spec: { containers: [{ name: 'app' }], readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/x' }] },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'node-2',
        podIP: '10.244.2.7',
        conditions: [{ type: 'example.com/lb', status: 'True' }],
      },
    });
    expect(pods.row(p, now).slice(5)).toEqual(['10.244.2.7', '<none>', 'node-2', '1/2']);
  });
});
