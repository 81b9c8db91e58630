import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { configFromFlags } from '../config.js';
import { seededInformer } from '../testing.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';
import { toleratesTaint } from '@kubelab/api';
import { reconcileTaints } from './taints.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function readyNode(name: string, status = 'True'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, creationTimestamp: iso(T0), resourceVersion: '1' },
    spec: {},
    status: {
      conditions: [
        { type: 'Ready', status, reason: 'KubeletReady', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0) },
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0) },
      ],
    },
  };
}

const lease = (name: string, renew: number) =>
  ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, renewTime: new Date(renew).toISOString() } }) as KubeObject;

const podOn = (name: string, node: string) =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }) as KubeObject;

function setup(nodes: KubeObject[], leases: KubeObject[], pods: KubeObject[] = []) {
  const clock = new FakeClock(T0);
  const nodeInformer = seededInformer(nodes);
  const leaseInformer = seededInformer(leases);
  const podInformer = seededInformer(pods);
  const recorder = new FakeRecorder();
  const podStatuses: Pod[] = [];
  const ctrl = new NodeLifecycleController({
    nodeInformer,
    leaseInformer,
    podInformer,
    recorder,
    clock,
    nodeMonitorGracePeriodMs: 40_000,
    client: {
      // The "apiserver" stores what it is sent, so the cache follows.
      updateNodeStatus: async (n) => {
        nodeInformer.store.add(n as KubeObject);
        return n;
      },
      updateNode: async (n) => {
        nodeInformer.store.add(n as KubeObject);
        return n;
      },
      updatePodStatus: async (p) => {
        podStatuses.push(p);
        podInformer.store.add(p as KubeObject);
      },
    },
  });
  const node = (name: string) => nodeInformer.lister.get('', name) as Node;
  return { ctrl, clock, leaseInformer, recorder, podStatuses, node };
}

describe('NodeLifecycleController.sync', () => {
  it('keeps a node whose Lease is renewed, and marks a silent one Unknown, tainted, with its pods not ready', async () => {
    const { ctrl, clock, leaseInformer, node, recorder, podStatuses } = setup(
      [readyNode('alive'), readyNode('dead')],
      [lease('alive', T0), lease('dead', T0)],
      [podOn('p', 'dead'), podOn('q', 'alive')],
    );
    await ctrl.sync('alive');
    await ctrl.sync('dead');
    for (let t = 10_000; t <= 50_000; t += 10_000) {
      await clock.step(10_000);
      leaseInformer.store.add(lease('alive', T0 + t));
      await ctrl.sync('alive');
      await ctrl.sync('dead');
    }
    expect(node('alive').status!.conditions![0]!.status).toBe('True');
    expect(node('alive').spec!.taints).toBeUndefined();

    const dead = node('dead');
    expect(dead.status!.conditions).toEqual([
      { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0 + 50_000) },
      { type: 'MemoryPressure', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0 + 50_000) },
      expect.objectContaining({ type: 'DiskPressure', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' }),
      expect.objectContaining({ type: 'PIDPressure', status: 'Unknown', reason: 'NodeStatusNeverUpdated' }),
    ]);
    expect(dead.spec!.taints).toEqual([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(T0 + 50_000) },
    ]);
    expect(podStatuses.map((p) => [p.metadata!.name, p.status!.conditions![0]!.status])).toEqual([['p', 'False']]);
    expect(recorder.events).toContain('Normal NodeNotReady Node dead status is now: NodeNotReady');
    expect(recorder.events).toContain('Warning NodeNotReady Node is not ready');
  });

  it('swaps to not-ready taints when the kubelet reports Ready=False, and removes them when Ready again', async () => {
    const { ctrl, node } = setup([readyNode('n', 'False')], [lease('n', T0)]);
    await ctrl.sync('n');
    expect(node('n').spec!.taints!.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    const back = { ...node('n'), status: readyNode('n').status } as KubeObject;
    const s = setup([back], [lease('n', T0)]);
    await s.ctrl.sync('n');
    expect(s.node('n').spec!.taints).toBeUndefined();
  });
});

describe('taints', () => {
  it('tolerations match by key, operator and effect', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(true);
    expect(toleratesTaint({ operator: 'Exists' }, taint)).toBe(true);
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(false);
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', value: 'x' }, taint)).toBe(false);
  });

  it('reconcileTaints keeps foreign taints and the timeAdded of kept ones', () => {
    const cur = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'then' }];
    expect(reconcileTaints(cur, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], 'now')).toBeUndefined();
    expect(reconcileTaints(cur, [], 'now')).toEqual([cur[0]]);
  });
});

describe('config flags', () => {
  it('parses the node and pod GC flags with upstream defaults', () => {
    const d = configFromFlags([]);
    expect([d.nodeMonitorGracePeriodMs, d.nodeMonitorPeriodMs, d.terminatedPodGCThreshold, d.nodeCIDRMaskSize, d.allocateNodeCIDRs]).toEqual([40_000, 5_000, 12500, 24, false]);
    const c = configFromFlags([
      '--node-monitor-grace-period=3s',
      '--node-monitor-period=500ms',
      '--terminated-pod-gc-threshold=5',
      '--allocate-node-cidrs',
      '--cluster-cidr=10.244.0.0/16',
      '--node-cidr-mask-size=26',
    ]);
    expect([c.nodeMonitorGracePeriodMs, c.nodeMonitorPeriodMs, c.terminatedPodGCThreshold, c.allocateNodeCIDRs, c.nodeCIDRMaskSize]).toEqual([3000, 500, 5, true, 26]);
    expect(() => configFromFlags(['--allocate-node-cidrs'])).toThrow(/--cluster-cidr/);
  });
});
