import { describe, expect, it } from 'vitest';
import { goArch, osImageFrom, type MachineInfo } from './machine-info.js';
import { initialNode, nodeStatus, statusChanged, type NodeIdentity, type NodeStatusInputs } from './node-status.js';

const machine: MachineInfo = {
  numCores: 2,
  memoryCapacityBytes: 24 * 1024 ** 3,
  rootfsCapacityBytes: 100 * 1024 ** 3,
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
};
const id: NodeIdentity = { name: 'node-1', nodeIP: '172.30.0.10', hostname: 'node-1', labels: { 'kubernetes.io/arch': 'amd64', tier: 'web' }, taints: [] };
const inputs = (runtime?: NodeStatusInputs['runtime']): NodeStatusInputs => ({
  machine,
  maxPods: 110,
  reserved: { cpuMillis: 100, memoryBytes: 100 * 1024 ** 2, ephemeralStorageBytes: 0 },
  containerRuntimeVersion: 'containerd://1.6.20',
  runtime,
  kubeletPort: 10250,
  images: [{ names: ['docker.io/library/busybox:latest'], sizeBytes: 2_000_000 }],
});

describe('node status', () => {
  it('registers with upstream labels', () => {
    const n = initialNode(id);
    expect(n.metadata!.labels).toEqual({
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': 'node-1',
      'kubernetes.io/os': 'linux',
      tier: 'web',
    });
  });

  it('reports capacity, allocatable, addresses and node info', () => {
    const s = nodeStatus(id, inputs({ runtimeReady: true, networkReady: true, message: '' }), undefined, Date.UTC(2026, 0, 1));
    expect(s.capacity).toMatchObject({ cpu: '2', memory: '25165824Ki', pods: '110' });
    expect(s.allocatable).toMatchObject({ cpu: '1900m', memory: '25063424Ki', pods: '110' });
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '172.30.0.10' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    expect(s.nodeInfo).toMatchObject({ kubeletVersion: 'v1.32.0', containerRuntimeVersion: 'containerd://1.6.20', architecture: 'amd64' });
    expect(s.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
  });

  it('is not Ready until the runtime and its network are, and keeps transition times', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const notReady = nodeStatus(id, inputs({ runtimeReady: true, networkReady: false, message: 'cni plugin not initialized' }), undefined, t0);
    const ready = notReady.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    expect(ready.message).toMatch(/NetworkReady=false/);
    const later = nodeStatus(id, inputs({ runtimeReady: true, networkReady: false, message: 'cni plugin not initialized' }), notReady, t0 + 10_000);
    expect(later.conditions![3]!.lastTransitionTime).toBe(ready.lastTransitionTime);
    expect(later.conditions![3]!.lastHeartbeatTime).not.toBe(ready.lastHeartbeatTime);
    expect(statusChanged(notReady, later)).toBe(false);
    const nowReady = nodeStatus(id, inputs({ runtimeReady: true, networkReady: true, message: '' }), later, t0 + 20_000);
    expect(nowReady.conditions![3]).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:20Z' });
    expect(statusChanged(later, nowReady)).toBe(true);
  });

  it('reads machine facts the upstream way', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(osImageFrom('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
  });
});
