import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder } from '@kubelab/client';
import { seededInformer } from '../testing.js';
import { CidrSet } from './cidr-set.js';
import { NodeIpamController } from './nodeipam-controller.js';

const node = (name: string, podCIDR?: string) =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} }) as KubeObject;

function setup(nodes: KubeObject[], clusterCIDR = '10.244.0.0/16', mask = 24) {
  const nodeInformer = seededInformer(nodes);
  const patches: Array<[string, string[]]> = [];
  const recorder = new FakeRecorder();
  const ctrl = new NodeIpamController({
    nodeInformer,
    clusterCIDR,
    nodeCIDRMaskSize: mask,
    recorder,
    clock: new FakeClock(),
    client: {
      patchNodePodCIDRs: async (name, cidrs) => {
        patches.push([name, cidrs]);
        nodeInformer.store.add(node(name, cidrs[0]));
      },
    },
  });
  return { ctrl, patches, nodeInformer, recorder };
}

describe('NodeIpamController.sync', () => {
  it('gives each node a free /24, never one already on another node', async () => {
    const { ctrl, patches } = setup([node('a'), node('b', '10.244.0.0/24'), node('c')]);
    await ctrl.sync('a');
    await ctrl.sync('b');
    await ctrl.sync('c');
    expect(patches).toEqual([
      ['a', ['10.244.1.0/24']],
      ['c', ['10.244.2.0/24']],
    ]);
  });

  it('releases the CIDR of a deleted node for reuse', async () => {
    const { ctrl, patches, nodeInformer } = setup([node('a'), node('b')], '10.244.0.0/23', 24);
    await ctrl.sync('a');
    await ctrl.sync('b');
    expect(ctrl.cidrs.isUsed('10.244.0.0/24')).toBe(true);
    nodeInformer.store.deleteKey('a');
    await ctrl.sync('a');
    expect(ctrl.cidrs.isUsed('10.244.0.0/24')).toBe(false);
    nodeInformer.store.add(node('c'));
    await ctrl.sync('c');
    expect(patches.at(-1)).toEqual(['c', ['10.244.0.0/24']]);
  });

  it('reports CIDRNotAvailable when the range is exhausted', async () => {
    const { ctrl, recorder } = setup([node('a'), node('b')], '10.244.0.0/24', 24);
    await ctrl.sync('a');
    await expect(ctrl.sync('b')).rejects.toThrow(/no remaining CIDRs/);
    expect(recorder.events).toEqual(['Normal CIDRNotAvailable Node b status is now: CIDRNotAvailable']);
  });
});

describe('CidrSet', () => {
  it('carves subnets of the mask size out of the cluster CIDR', () => {
    const s = new CidrSet('10.244.7.9/16', 24);
    expect(s.size).toBe(256);
    expect(s.allocateNext()).toBe('10.244.0.0/24');
    expect(s.occupy('10.244.1.0/24')).toBe(true);
    expect(s.allocateNext()).toBe('10.244.2.0/24');
    expect(s.occupy('10.245.0.0/24')).toBe(false);
    expect(() => new CidrSet('10.0.0.0/24', 16)).toThrow();
  });
});
