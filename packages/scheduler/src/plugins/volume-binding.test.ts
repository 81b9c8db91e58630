// VolumeBinding against fake claim, volume and class caches: missing and unbound-immediate claims,
// volume node affinity, and WaitForFirstConsumer claims bound on the chosen node.
import { describe, expect, it } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { info, makeNode, makePod, makeSnapshot } from '../framework/testing.js';
import { VolumeBinding, type VolumeBindingHandle } from './volume-binding.js';

const claim = (name: string, spec: PersistentVolumeClaim['spec'] = {}): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});
const onNode = (node: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } });
const volume = (name: string, spec: PersistentVolume['spec'] = {}, phase = 'Available'): PersistentVolume => ({
  metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/x' }, ...spec },
  status: { phase },
});
const classes: Record<string, StorageClass> = {
  standard: { metadata: { name: 'standard' }, provisioner: 'kubelab.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' },
  manual: { metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
  fast: { metadata: { name: 'fast' }, provisioner: 'x.io/fast', volumeBindingMode: 'Immediate' },
};

function setup(claims: PersistentVolumeClaim[], volumes: PersistentVolume[] = []) {
  const writes: string[] = [];
  const handle: VolumeBindingHandle = {
    claim: (_ns, name) => claims.find((c) => c.metadata!.name === name),
    volume: (name) => volumes.find((v) => v.metadata!.name === name),
    volumes: () => volumes,
    storageClass: (name) => classes[name],
    annotateClaim: async (_ns, name, a) => void writes.push(`annotate ${name} ${JSON.stringify(a)}`),
    preBindVolume: async (pv, c) => void writes.push(`prebind ${pv.metadata!.name} ${c.metadata!.name}`),
  };
  const snap = makeSnapshot(['a', 'b'].map((n) => makeNode(n, { labels: { 'kubernetes.io/hostname': n } })));
  return { plugin: new VolumeBinding(() => handle), snap, writes };
}

const podWith = (...claimNames: string[]) => info(makePod('p', { volumes: claimNames.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) }));

describe('VolumeBinding', () => {
  it('skips pods without claims; a missing claim is unresolvable with upstream\'s message', () => {
    const { plugin } = setup([]);
    expect(plugin.preFilter(new CycleState(), info(makePod('p'))).status.isSkip()).toBe(true);
    const s = plugin.preFilter(new CycleState(), podWith('data')).status;
    expect([s.code, s.reasons]).toEqual([Code.UnschedulableAndUnresolvable, ['persistentvolumeclaim "data" not found']]);
  });

  it('an unbound claim of an Immediate class waits for the PV controller', () => {
    const { plugin } = setup([claim('data', { storageClassName: 'fast' })]);
    expect(plugin.preFilter(new CycleState(), podWith('data')).status.reasons).toEqual(['pod has unbound immediate PersistentVolumeClaims']);
  });

  it('a bound claim keeps the pod on the nodes its volume allows', () => {
    const { plugin, snap } = setup([claim('data', { volumeName: 'pv1' })], [volume('pv1', { nodeAffinity: onNode('b') }, 'Bound')]);
    const st = new CycleState();
    const pod = podWith('data');
    expect(plugin.preFilter(st, pod).status.isSuccess()).toBe(true);
    expect(plugin.filter(st, pod, snap.get('a')!).reasons).toEqual(['node(s) had volume node affinity conflict']);
    expect(plugin.filter(st, pod, snap.get('b')!).isSuccess()).toBe(true);
  });

  it('WaitForFirstConsumer: annotates selected-node for provisioning, or pre-binds a matching volume on the node', async () => {
    const { plugin, snap, writes } = setup(
      [claim('data', { storageClassName: 'standard' }), claim('static', { storageClassName: 'manual' })],
      [volume('local-b', { storageClassName: 'manual', nodeAffinity: onNode('b') })],
    );
    const st = new CycleState();
    const pod = podWith('data', 'static');
    expect(plugin.preFilter(st, pod).status.isSuccess()).toBe(true);
    expect(plugin.filter(st, pod, snap.get('a')!).reasons).toEqual(["node(s) didn't find available persistent volumes to bind"]);
    expect(plugin.filter(st, pod, snap.get('b')!).isSuccess()).toBe(true);
    expect((await plugin.preBind(st, pod.pod, 'b')).isSuccess()).toBe(true);
    expect(writes).toEqual(['annotate data {"volume.kubernetes.io/selected-node":"b"}', 'prebind local-b static']);
  });
});
