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

  it('lets a kubelet create only mirror pods bound to itself', async () => {
    const user = kubelet('n1');
    expect(await message(plugin.validate(attrs('pods', 'CREATE', pod('p', { nodeName: 'n1' }), { user })))).toBe(
      'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
    );
    const mirror = (nodeName: string) => pod('m', { nodeName }, { annotations: { 'kubernetes.io/config.mirror': 'x' } });
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n1'), { user })))).toBe('allowed');
    expect(await message(plugin.validate(attrs('pods', 'CREATE', mirror('n2'), { user })))).toBe('pods "m" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
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
