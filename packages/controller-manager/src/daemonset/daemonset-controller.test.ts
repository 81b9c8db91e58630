import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import type { DaemonSet } from 'kubernetes-types/apps/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { FakeHistoryClient } from '../history/controller-history.js';
import { FakePodWriter } from '../history/pod-writer.js';
import { seededInformer } from '../testing.js';
import { DaemonSetController, nodeShouldRunDaemonPod, targetNodeName } from './daemonset-controller.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function newDS(spec: Partial<DaemonSet['spec']> = {}, image = 'agent:1'): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-uid', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  };
}

const node = (name: string, extra: Partial<Node> = {}): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name }, ...extra.metadata },
  spec: extra.spec ?? {},
});

function setup(ds: DaemonSet, nodes: Node[]) {
  const clock = new FakeClock(T0);
  const dsInformer = seededInformer([ds as KubeObject]);
  const podInformer = seededInformer();
  const nodeInformer = seededInformer(nodes as KubeObject[]);
  const revisionInformer = seededInformer();
  const writer = new FakePodWriter();
  const history = new FakeHistoryClient();
  const recorder = new FakeRecorder();
  const statuses: DaemonSet[] = [];
  const ctrl = new DaemonSetController({
    dsInformer,
    podInformer,
    nodeInformer,
    revisionInformer,
    pods: writer,
    history,
    recorder,
    clock,
    updateStatus: async (d) => {
      statuses.push(structuredClone(d));
      dsInformer.store.update(d as KubeObject);
      return d;
    },
  });
  const observe = (ready: boolean) => {
    for (const p of writer.created.splice(0)) {
      podInformer.store.add({ ...p, metadata: { ...p.metadata, creationTimestamp: '2025-01-01T00:00:00Z' } } as KubeObject);
      ctrl.expectations.creationObserved('kube-system/agent');
    }
    for (const name of writer.deleted.splice(0)) {
      const p = podInformer.lister.get('kube-system', name);
      if (p) podInformer.store.delete(p);
    }
    if (ready) {
      for (const p of podInformer.lister.list('kube-system')) {
        podInformer.store.update({ ...p, spec: { ...p.spec, nodeName: targetNodeName(p as Pod) }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as KubeObject);
      }
    }
    for (const r of history.list()) revisionInformer.store.add(r as KubeObject);
  };
  return { ctrl, writer, history, recorder, statuses, observe, dsInformer, nodeInformer, podInformer, last: () => statuses[statuses.length - 1]! };
}

describe('DaemonSetController.sync', () => {
  it('creates one pod per node, pinned by matchFields node affinity, with the daemon tolerations', async () => {
    const s = setup(newDS(), [node('n1'), node('n2')]);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.created).toHaveLength(2);
    const byNode = s.writer.created.map(targetNodeName).sort();
    expect(byNode).toEqual(['n1', 'n2']);
    const pod = s.writer.created[0]!;
    expect(pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(pod)] }] }],
    });
    expect(pod.spec!.tolerations!.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    const rev = s.history.list()[0]!;
    expect(pod.metadata!.labels).toEqual({ app: 'agent', 'controller-revision-hash': rev.metadata!.labels!['controller-revision-hash'], 'pod-template-generation': '1' });
    expect(s.recorder.events[0]).toMatch(/^Normal SuccessfulCreate Created pod: agent-/);
    expect(s.last().status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 0, numberUnavailable: 2 });
    s.observe(true);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.created).toHaveLength(0);
    expect(s.last().status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 0 });
  });

  it('follows nodes: a new node gets a pod; a removed node loses its unscheduled pod', async () => {
    const s = setup(newDS(), [node('n1')]);
    await s.ctrl.sync('kube-system/agent');
    s.observe(false);
    s.nodeInformer.store.add(node('n2') as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.created.map(targetNodeName)).toEqual(['n2']);
    s.observe(false);
    s.nodeInformer.store.delete(node('n1') as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    const n1Pod = (s.podInformer.lister.list('kube-system') as Pod[]).find((p) => targetNodeName(p) === 'n1')!;
    expect(s.writer.deleted).toEqual([n1Pod.metadata!.name]);
  });

  it('respects nodeSelector and untolerated taints, and deletes misscheduled pods', async () => {
    const tainted = node('t', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    const notReady = node('nr', { spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] } });
    const ds = newDS();
    expect(nodeShouldRunDaemonPod(tainted, ds).shouldRun).toBe(false);
    expect(nodeShouldRunDaemonPod(notReady, ds)).toEqual({ shouldRun: true, shouldContinueRunning: true });
    const s = setup(newDS(), [node('a'), node('b', { metadata: { name: 'b', labels: { disk: 'ssd' } } })]);
    await s.ctrl.sync('kube-system/agent');
    s.observe(true);
    s.dsInformer.store.update({
      ...newDS({ template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'agent:1' }] } } }),
      status: s.last().status,
    } as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    const aPod = (s.podInformer.lister.list('kube-system') as Pod[]).find((p) => targetNodeName(p) === 'a')!;
    expect(s.writer.deleted).toContain(aPod.metadata!.name);
  });

  it('keeps daemon pods on a node that turns NotReady or unreachable, but starts none there', async () => {
    const s = setup(newDS(), [node('n1'), node('n2'), node('n3')]);
    await s.ctrl.sync('kube-system/agent');
    s.observe(true);
    await s.ctrl.sync('kube-system/agent');
    // The taints the node lifecycle controller puts on a node whose Ready condition is False / Unknown.
    const taintsFor = (key: string) => [
      { key, effect: 'NoSchedule' as const },
      { key, effect: 'NoExecute' as const, timeAdded: '2025-01-01T00:00:00Z' },
    ];
    s.nodeInformer.store.update(node('n1', { spec: { taints: taintsFor('node.kubernetes.io/not-ready') } }) as KubeObject);
    s.nodeInformer.store.update(node('n2', { spec: { taints: taintsFor('node.kubernetes.io/unreachable') } }) as KubeObject);
    s.nodeInformer.store.add(node('n4', { spec: { taints: taintsFor('node.kubernetes.io/not-ready') } }) as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.deleted).toEqual([]);
    expect(s.writer.created).toEqual([]);
    expect(s.recorder.events.filter((e) => e.includes('SuccessfulDelete'))).toEqual([]);
    // As upstream counts them: not desired there (no new pods), the running ones misscheduled.
    expect(s.last().status).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberMisscheduled: 2 });
    // Back to Ready: nothing to recreate.
    s.nodeInformer.store.update(node('n1') as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.deleted).toEqual([]);
    expect(s.writer.created).toEqual([]);
  });

  it('deletes daemon pods only for NoExecute taints they do not tolerate', async () => {
    const s = setup(newDS(), [node('n1'), node('n2')]);
    await s.ctrl.sync('kube-system/agent');
    s.observe(true);
    await s.ctrl.sync('kube-system/agent');
    const podOn = (n: string) => (s.podInformer.lister.list('kube-system') as Pod[]).find((p) => targetNodeName(p) === n)!.metadata!.name;
    s.nodeInformer.store.update(node('n1', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }) as KubeObject);
    s.nodeInformer.store.update(node('n2', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] } }) as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.deleted).toEqual([podOn('n2')]);
    expect(nodeShouldRunDaemonPod(node('n1', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }), newDS())).toEqual({ shouldRun: false, shouldContinueRunning: true });
  });

  it('rolls out a new template at most maxUnavailable nodes at a time, with a new ControllerRevision', async () => {
    const s = setup(newDS(), [node('n1'), node('n2'), node('n3')]);
    await s.ctrl.sync('kube-system/agent');
    s.observe(true);
    await s.ctrl.sync('kube-system/agent');
    s.dsInformer.store.update({ ...newDS({}, 'agent:2'), metadata: { ...newDS().metadata, generation: 2 }, status: s.last().status } as KubeObject);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.deleted).toHaveLength(1);
    expect(s.history.list().map((r) => r.revision).sort()).toEqual([1, 2]);
    s.observe(false);
    await s.ctrl.sync('kube-system/agent'); // recreates on the freed node, deletes nothing more while it is unavailable
    expect(s.writer.created).toHaveLength(1);
    expect(s.writer.created[0]!.spec!.containers[0]!.image).toBe('agent:2');
    expect(s.writer.deleted).toHaveLength(0);
    s.observe(true);
    await s.ctrl.sync('kube-system/agent');
    expect(s.writer.deleted).toHaveLength(1);
  });
});
