import { describe, expect, it } from 'vitest';
import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import { ruleAllows, ruleString, uncoveredRules, type RuleAttributes } from './rules.js';
import { RBACAuthorizer, RBACRuleResolver, type RBACSource } from './authorizer.js';
import { NodeAuthorizer } from '../node/node-authorizer.js';
import { nodeRules } from '../../bootstrap-policy.js';
import type { KubeObject } from '@kubelab/api';

const res = (verb: string, resource: string, opts: Partial<RuleAttributes> = {}): RuleAttributes => ({
  verb,
  isResourceRequest: true,
  path: '',
  apiGroup: '',
  resource,
  subresource: '',
  name: '',
  ...opts,
});
const url = (verb: string, path: string): RuleAttributes => ({ verb, isResourceRequest: false, path, apiGroup: '', resource: '', subresource: '', name: '' });

describe('rule matching', () => {
  it('matches verbs, groups, resources, subresources and names', () => {
    const r: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] };
    expect(ruleAllows(res('get', 'pods'), r)).toBe(true);
    expect(ruleAllows(res('get', 'pods', { subresource: 'log' }), r)).toBe(true);
    expect(ruleAllows(res('get', 'pods', { subresource: 'exec' }), r)).toBe(false);
    expect(ruleAllows(res('delete', 'pods'), r)).toBe(false);
    expect(ruleAllows(res('get', 'deployments', { apiGroup: 'apps' }), r)).toBe(false);
    expect(ruleAllows(res('get', 'x', { apiGroup: 'apps', subresource: 'scale' }), { verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] })).toBe(true);
    const named: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    expect(ruleAllows(res('get', 'configmaps', { name: 'a' }), named)).toBe(true);
    expect(ruleAllows(res('get', 'configmaps', { name: 'b' }), named)).toBe(false);
    expect(ruleAllows(res('list', 'configmaps'), { ...named, verbs: ['list'] })).toBe(false);
  });

  it('matches non-resource URLs with a trailing *', () => {
    const r: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(url('get', '/healthz'), r)).toBe(true);
    expect(ruleAllows(url('get', '/healthz/etcd'), r)).toBe(false);
    expect(ruleAllows(url('get', '/apis/apps/v1'), r)).toBe(true);
    expect(ruleAllows(url('post', '/healthz'), r)).toBe(false);
    expect(ruleAllows(res('get', 'pods'), r)).toBe(false);
  });

  it('finds the permissions a set of rules does not cover, and prints them as upstream', () => {
    const owner: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }];
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    const missing = uncoveredRules(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }]);
    expect(missing.map(ruleString)).toEqual([
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}',
    ]);
    expect(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/x'] }])).toHaveLength(1);
  });
});

const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
function source(objs: { roles?: object[]; roleBindings?: object[]; clusterRoles?: object[]; clusterRoleBindings?: object[] }): RBACSource {
  const l = (items: object[] = []) => async () => ({ items: items as KubeObject[], resourceVersion: '1' });
  return { roles: l(objs.roles), roleBindings: l(objs.roleBindings), clusterRoles: l(objs.clusterRoles), clusterRoleBindings: l(objs.clusterRoleBindings) };
}
const user = (name: string, groups: string[] = ['system:authenticated']) => ({ name, groups });
const attrs = (u: ReturnType<typeof user>, verb: string, resource: string, namespace: string, name = '') => ({
  user: u,
  verb,
  isResourceRequest: true,
  path: '',
  apiGroup: '',
  apiVersion: 'v1',
  namespace,
  resource,
  subresource: '',
  name,
});

describe('RBACAuthorizer', () => {
  const authz = new RBACAuthorizer(
    new RBACRuleResolver(
      source({
        roles: [{ metadata: meta('reader', 'a'), rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }] }],
        clusterRoles: [{ metadata: meta('secrets'), rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] }],
        roleBindings: [
          { metadata: meta('sa', 'a'), roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
          { metadata: meta('grp', 'a'), roleRef: { kind: 'ClusterRole', name: 'secrets' }, subjects: [{ kind: 'Group', name: 'auditors' }] },
          { metadata: meta('dangling', 'b'), roleRef: { kind: 'Role', name: 'gone' }, subjects: [{ kind: 'User', name: 'jane' }] },
        ],
        clusterRoleBindings: [{ metadata: meta('all'), roleRef: { kind: 'ClusterRole', name: 'secrets' }, subjects: [{ kind: 'User', name: 'root' }] }],
      }),
    ),
  );

  it('grants through role bindings only in their namespace, and cluster role bindings everywhere', async () => {
    expect((await authz.authorize(attrs(user('system:serviceaccount:a:bot'), 'list', 'pods', 'a'))).allowed).toBe(true);
    expect((await authz.authorize(attrs(user('system:serviceaccount:a:bot'), 'list', 'pods', 'b'))).allowed).toBe(false);
    expect((await authz.authorize(attrs(user('system:serviceaccount:b:bot'), 'list', 'pods', 'a'))).allowed).toBe(false);
    expect((await authz.authorize(attrs(user('x', ['auditors']), 'get', 'secrets', 'a', 's'))).allowed).toBe(true);
    expect((await authz.authorize(attrs(user('x', ['auditors']), 'get', 'secrets', 'b', 's'))).allowed).toBe(false);
    expect((await authz.authorize(attrs(user('root'), 'get', 'secrets', 'z', 's'))).allowed).toBe(true);
  });

  it('reports a binding to a missing role as the reason', async () => {
    expect(await authz.authorize(attrs(user('jane'), 'get', 'pods', 'b'))).toEqual({ allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found' });
  });
});

describe('NodeAuthorizer', () => {
  const pods: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', namespace: 'a' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's1' } }] }],
        volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'c1' } }],
      },
    },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2', namespace: 'a' }, spec: { nodeName: 'n2', containers: [{ name: 'c' }], imagePullSecrets: [{ name: 's2' }] } },
  ];
  const node = new NodeAuthorizer(
    {
      podsOnNode: async (n, ns) => pods.filter((p) => p.spec!.nodeName === n && (!ns || p.metadata.namespace === ns)),
      getPod: async (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
      getClaim: async (_ns, name) => (name === 'c1' ? ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { volumeName: 'pv1' } } as KubeObject) : undefined),
    },
    nodeRules(),
  );
  const n1 = user('system:node:n1', ['system:nodes', 'system:authenticated']);

  it('lets a kubelet read what its pods reference and nothing else', async () => {
    expect((await node.authorize(attrs(n1, 'get', 'secrets', 'a', 's1'))).allowed).toBe(true);
    expect(await node.authorize(attrs(n1, 'get', 'secrets', 'a', 's2'))).toEqual({ allowed: false, reason: "no relationship found between node 'n1' and this object" });
    expect((await node.authorize(attrs(n1, 'list', 'secrets', 'a'))).allowed).toBe(false);
    expect((await node.authorize(attrs(n1, 'get', 'persistentvolumeclaims', 'a', 'c1'))).allowed).toBe(true);
    expect((await node.authorize(attrs(n1, 'get', 'persistentvolumes', '', 'pv1'))).allowed).toBe(true);
    expect((await node.authorize(attrs(n1, 'get', 'serviceaccounts', 'a', 'default'))).allowed).toBe(true);
  });

  it('lets a kubelet write only its own node, lease and pods status', async () => {
    expect((await node.authorize({ ...attrs(n1, 'patch', 'nodes', '', 'n1'), subresource: 'status' })).allowed).toBe(true);
    expect((await node.authorize({ ...attrs(n1, 'patch', 'nodes', '', 'n2'), subresource: 'status' })).allowed).toBe(false);
    expect((await node.authorize({ ...attrs(n1, 'update', 'pods', 'a', 'p1'), subresource: 'status' })).allowed).toBe(true);
    expect((await node.authorize({ ...attrs(n1, 'update', 'pods', 'a', 'p2'), subresource: 'status' })).allowed).toBe(false);
    expect((await node.authorize({ ...attrs(n1, 'update', 'leases', 'kube-node-lease', 'n1'), apiGroup: 'coordination.k8s.io' })).allowed).toBe(true);
    expect((await node.authorize({ ...attrs(n1, 'update', 'leases', 'kube-node-lease', 'n2'), apiGroup: 'coordination.k8s.io' })).allowed).toBe(false);
    expect((await node.authorize(attrs(n1, 'create', 'events', 'a'))).allowed).toBe(true);
    expect((await node.authorize(attrs(n1, 'delete', 'services', 'a', 'x'))).allowed).toBe(false);
  });

  it('has no opinion about anyone but kubelets', async () => {
    expect(await node.authorize(attrs(user('system:node:n1', ['system:authenticated']), 'get', 'secrets', 'a', 's1'))).toEqual({ allowed: false, reason: '' });
  });
});
