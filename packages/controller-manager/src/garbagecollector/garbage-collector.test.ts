import { describe, expect, it } from 'vitest';
import { findResource, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { seededInformer } from '../testing.js';
import { GarbageCollector, infoKey, type GarbageCollectorClient, type PropagationPolicy } from './garbage-collector.js';

const deployments = findResource('apps', 'v1', 'deployments')!;
const replicasets = findResource('apps', 'v1', 'replicasets')!;
const pods = findResource('', 'v1', 'pods')!;

const obj = (kind: string, name: string, uid: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1',
  kind,
  metadata: { name, namespace: 'default', uid, resourceVersion: '1', ...extra },
});
const ref = (kind: string, name: string, uid: string, block = true) => ({ apiVersion: 'apps/v1', kind, name, uid, controller: true, blockOwnerDeletion: block });

class FakeClient implements GarbageCollectorClient {
  readonly calls: string[] = [];
  live = new Map<string, KubeObject>();
  async get(_info: ResourceInfo, _ns: string, name: string) {
    return this.live.get(name);
  }
  async delete(info: ResourceInfo, _ns: string, name: string, _uid: string, policy: PropagationPolicy) {
    this.calls.push(`delete ${info.resource}/${name} ${policy}`);
  }
  async patch(info: ResourceInfo, _ns: string, name: string, patch: any) {
    this.calls.push(`patch ${info.resource}/${name} ${JSON.stringify(patch.metadata.ownerReferences?.map((r: any) => r.uid) ?? patch.metadata.finalizers)}`);
  }
}

function setup(objs: Array<[ResourceInfo, KubeObject]>) {
  const infs = new Map([deployments, replicasets, pods].map((info) => [infoKey(info), seededInformer()]));
  const client = new FakeClient();
  const gc = new GarbageCollector({ informers: [deployments, replicasets, pods].map((info) => ({ info, informer: infs.get(infoKey(info))! })), client });
  for (const [info, o] of objs) infs.get(infoKey(info))!.store.add(o);
  const key = (info: ResourceInfo, o: KubeObject) => [infoKey(info), 'default', o.metadata.name, o.metadata.uid].join('|');
  return { gc, client, key };
}

describe('GarbageCollector.sync', () => {
  it('deletes a dependent in the background once its owner is really gone (live GET)', async () => {
    const rs = obj('ReplicaSet', 'web-1', 'rs1', { ownerReferences: [ref('Deployment', 'web', 'd1')] });
    const { gc, client, key } = setup([[replicasets, rs]]);
    // The cache does not have the owner, but the API does: keep.
    client.live.set('web', obj('Deployment', 'web', 'd1'));
    await gc.sync(key(replicasets, rs));
    expect(client.calls).toEqual([]);
    // A different object of the same name is not the owner.
    client.live.set('web', obj('Deployment', 'web', 'other'));
    await gc.sync(key(replicasets, rs));
    expect(client.calls).toEqual(['delete replicasets/web-1 Background']);
  });

  it('only drops the dangling reference when another owner remains', async () => {
    const pod = obj('Pod', 'p', 'p1', { ownerReferences: [ref('ReplicaSet', 'gone', 'rsX'), { ...ref('ReplicaSet', 'here', 'rsY'), controller: false }] });
    const here = obj('ReplicaSet', 'here', 'rsY');
    const { gc, client, key } = setup([[pods, pod], [replicasets, here]]);
    await gc.sync(key(pods, pod));
    expect(client.calls).toEqual(['patch pods/p ["rsY"]']);
  });

  it('foreground: deletes dependents, waits for blocking ones, then removes the finalizer', async () => {
    const d = obj('Deployment', 'web', 'd1', { deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    const rs = obj('ReplicaSet', 'web-1', 'rs1', { ownerReferences: [ref('Deployment', 'web', 'd1')] });
    const pod = obj('Pod', 'web-1-a', 'p1', { ownerReferences: [ref('ReplicaSet', 'web-1', 'rs1')] });
    const { gc, client, key } = setup([[deployments, d], [replicasets, rs], [pods, pod]]);
    await gc.sync(key(deployments, d));
    expect(client.calls).toEqual([]); // a blocking dependent exists: the owner waits
    // The dependent sees its owner waiting; it has dependents of its own, so it goes in the foreground too.
    await gc.sync(key(replicasets, rs));
    expect(client.calls).toEqual(['delete replicasets/web-1 Foreground']);
  });

  it('foreground: an owner without blocking dependents loses its finalizer', async () => {
    const d = obj('Deployment', 'web', 'd1', { deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['foregroundDeletion', 'other'] });
    const rs = obj('ReplicaSet', 'web-1', 'rs1', { ownerReferences: [ref('Deployment', 'web', 'd1', false)] });
    const { gc, client, key } = setup([[deployments, d], [replicasets, rs]]);
    await gc.sync(key(deployments, d));
    expect(client.calls).toEqual(['patch deployments/web ["other"]']);
  });

  it('orphan: removes the owner reference from dependents, then the orphan finalizer', async () => {
    const d = obj('Deployment', 'web', 'd1', { deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['orphan'] });
    const rs = obj('ReplicaSet', 'web-1', 'rs1', { ownerReferences: [ref('Deployment', 'web', 'd1')] });
    const { gc, client, key } = setup([[deployments, d], [replicasets, rs]]);
    await gc.sync(key(deployments, d));
    expect(client.calls).toEqual(['patch replicasets/web-1 []', 'patch deployments/web []']);
  });

  it('ignores objects whose uid no longer matches the key', async () => {
    const rs = obj('ReplicaSet', 'web-1', 'rs1', { ownerReferences: [ref('Deployment', 'web', 'd1')] });
    const { gc, client } = setup([[replicasets, rs]]);
    await gc.sync([infoKey(replicasets), 'default', 'web-1', 'old-uid'].join('|'));
    expect(client.calls).toEqual([]);
  });
});
