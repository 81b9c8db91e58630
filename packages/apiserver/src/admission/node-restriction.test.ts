import { describe, expect, it } from 'vitest';
import { isForbidden, type KubeObject } from '@kubelab/api';
import { NodeRestriction } from './node-restriction.js';
import { attrs, pod } from './testing.js';
import type { UserInfo } from '../auth/authn.js';

const kubelet = (name: string): UserInfo => ({ name: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] });
const node = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, ...extra }) as KubeObject;
const plugin = new NodeRestriction();
const message = (p: Promise<void>) => p.then(() => 'allowed', (e) => (isForbidden(e) ? e.message : `unexpected ${e}`));

describe('NodeRestriction', () => {
  it('lets a kubelet modify only its own Node', async () => {
    const user = kubelet('n1');
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', node('n1'), { oldObject: node('n1'), user })))).toBe('allowed');
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2'), user })))).toBe(
      'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"',
    );
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2'), user, subresource: 'status' })))).toBe(
      'nodes/status "n2" is forbidden: node "n1" is not allowed to modify node "n2"',
    );
    const tainted = node('n1', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } });
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', tainted, { oldObject: node('n1'), user })))).toBe('nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    const labelled = node('n1', { metadata: { name: 'n1', labels: { 'node-restriction.kubernetes.io/pool': 'a' } } });
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', labelled, { oldObject: node('n1'), user })))).toBe(
      'nodes "n1" is forbidden: node "n1" is not allowed to modify labels: node-restriction.kubernetes.io/pool',
    );
  });

  it('lets a kubelet update the status of and delete only pods bound to it', async () => {
    const user = kubelet('n1');
    const mine = pod('mine', { nodeName: 'n1' });
    const theirs = pod('theirs', { nodeName: 'n2' });
    expect(await message(plugin.validate(attrs('pods', 'UPDATE', mine, { oldObject: mine, user, subresource: 'status' })))).toBe('allowed');
    expect(await message(plugin.validate(attrs('pods', 'UPDATE', theirs, { oldObject: theirs, user, subresource: 'status' })))).toBe(
      'pods/status "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself',
    );
    expect(await message(plugin.validate(attrs('pods', 'DELETE', null, { oldObject: theirs, user })))).toBe(
      'pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself',
    );
    expect(await message(plugin.validate(attrs('pods', 'DELETE', null, { oldObject: mine, user })))).toBe('allowed');
  });

  it('lets a kubelet create only mirror pods bound to itself, owned by its Node', async () => {
    const user = kubelet('n1');
    const nodes: Record<string, KubeObject> = { n1: node('n1', { metadata: { name: 'n1', uid: 'uid-n1' } }) };
    const checking = new NodeRestriction(async (name) => nodes[name]);
    const owner = { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-n1', controller: true };
    expect(await message(plugin.validate(attrs('pods', 'CREATE', pod('p', { nodeName: 'n1' }), { user })))).toBe(
      'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
    );
    const mirror = (nodeName: string, meta: Record<string, unknown> = { ownerReferences: [owner] }, spec: Record<string, unknown> = {}) =>
      pod('m', { nodeName, ...spec }, { annotations: { 'kubernetes.io/config.mirror': 'x' }, ...meta });
    const check = async (p: KubeObject) => message(checking.validate(attrs('pods', 'CREATE', p, { user })));
    expect(await check(mirror('n1'))).toBe('allowed');
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n1'), { user })))).toBe('allowed');
    expect(await check(mirror('n2'))).toBe('pods "m" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
    expect(await check(mirror('n1', {}))).toBe('pods "m" is forbidden: node "n1" can only create pods with an owner reference set to itself');
    expect(await check(mirror('n1', { ownerReferences: [owner, owner] }))).toBe('pods "m" is forbidden: node "n1" can only create pods with a single owner reference set to itself');
    expect(await check(mirror('n1', { ownerReferences: [{ ...owner, name: 'n2' }] }))).toBe('pods "m" is forbidden: node "n1" can only create pods with an owner reference set to itself');
    expect(await check(mirror('n1', { ownerReferences: [{ ...owner, kind: 'Pod' }] }))).toBe('pods "m" is forbidden: node "n1" can only create pods with an owner reference set to itself');
    expect(await check(mirror('n1', { ownerReferences: [{ ...owner, controller: false }] }))).toBe(
      'pods "m" is forbidden: node "n1" can only create pods with a controller owner reference set to itself',
    );
    expect(await check(mirror('n1', { ownerReferences: [{ ...owner, blockOwnerDeletion: true }] }))).toBe(
      'pods "m" is forbidden: node "n1" must not set blockOwnerDeletion on an owner reference',
    );
    expect(await check(mirror('n1', { ownerReferences: [{ ...owner, uid: 'stale' }] }))).toBe('pods "m" is forbidden: node n1 UID mismatch: expected stale got uid-n1');
    delete nodes.n1;
    await expect(checking.validate(attrs('pods', 'CREATE', mirror('n1'), { user }))).rejects.toMatchObject({ message: 'nodes "n1" not found' });
    // Mirror pods reference no other API object.
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n1', undefined, { serviceAccountName: 'sa' }), { user })))).toBe(
      'pods "m" is forbidden: node "n1" can not create pods that reference a service account',
    );
    const envSecret = { containers: [{ name: 'c', image: 'nginx', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] };
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n1', undefined, envSecret), { user })))).toBe(
      'pods "m" is forbidden: node "n1" can not create pods that reference secrets',
    );
    const cmVolume = { volumes: [{ name: 'v', configMap: { name: 'cm' } }] };
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n1', undefined, cmVolume), { user })))).toBe(
      'pods "m" is forbidden: node "n1" can not create pods that reference configmaps',
    );
  });

  it('refuses a kubelet changing labels through pod status', async () => {
    const user = kubelet('n1');
    const old = pod('mine', { nodeName: 'n1' }, { labels: { a: '1' } });
    const relabelled = pod('mine', { nodeName: 'n1' }, { labels: { a: '2' } });
    expect(await message(plugin.validate(attrs('pods', 'UPDATE', relabelled, { oldObject: old, user, subresource: 'status' })))).toBe(
      'pods/status "mine" is forbidden: node "n1" cannot update labels through pod status',
    );
  });

  it('restricts node leases and ignores other users', async () => {
    const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' } }) as KubeObject;
    const opts = { group: 'coordination.k8s.io', namespace: 'kube-node-lease', user: kubelet('n1') };
    expect(await message(plugin.validate(attrs('leases', 'UPDATE', lease('n1'), opts)))).toBe('allowed');
    expect(await message(plugin.validate(attrs('leases', 'UPDATE', lease('n2'), opts)))).toBe(
      'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node',
    );
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2') })))).toBe('allowed');
    // A user named like a node but outside system:nodes is not a kubelet.
    const impostor = { name: 'system:node:n1', groups: ['system:authenticated'] };
    expect(await message(plugin.validate(attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2'), user: impostor })))).toBe('allowed');
  });
});
