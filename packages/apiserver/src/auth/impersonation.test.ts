import { describe, expect, it } from 'vitest';
import { StatusError } from '@kubelab/api';
import type { AuthorizationAttributes, Authorizer } from './authn.js';
import { applyImpersonation } from './impersonation.js';

const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const recorder = (deny?: (a: AuthorizationAttributes) => boolean) => {
  const seen: string[] = [];
  const authorizer: Authorizer = {
    async authorize(a) {
      seen.push(`${a.verb} ${a.apiGroup}/${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace ? `${a.namespace}/` : ''}${a.name}`);
      return deny?.(a) ? { allowed: false, reason: '' } : { allowed: true };
    },
  };
  return { seen, authorizer };
};

describe('impersonation', () => {
  it('keeps the user when there are no impersonation headers', async () => {
    const { authorizer, seen } = recorder();
    expect(await applyImpersonation({ accept: 'x' }, admin, authorizer)).toBe(admin);
    expect(seen).toEqual([]);
  });

  it('switches to the user, groups, uid and extras after checking each one', async () => {
    const { authorizer, seen } = recorder();
    const u = await applyImpersonation(
      { 'impersonate-user': 'jane', 'impersonate-group': ['dev', 'ops'], 'impersonate-uid': '1234', 'impersonate-extra-scopes%2Fa': ['view', 'edit'] },
      admin,
      authorizer,
    );
    expect(u).toEqual({ name: 'jane', uid: '1234', groups: ['dev', 'ops', 'system:authenticated'], extra: { 'scopes/a': ['view', 'edit'] } });
    expect(seen).toEqual([
      'impersonate /users jane',
      'impersonate /groups dev',
      'impersonate /groups ops',
      'impersonate authentication.k8s.io/userextras/scopes/a view',
      'impersonate authentication.k8s.io/userextras/scopes/a edit',
      'impersonate authentication.k8s.io/uids 1234',
    ]);
  });

  it('impersonates a service account with its groups, checked on serviceaccounts', async () => {
    const { authorizer, seen } = recorder();
    const u = await applyImpersonation({ 'impersonate-user': 'system:serviceaccount:ns1:robot' }, admin, authorizer);
    expect(u).toEqual({ name: 'system:serviceaccount:ns1:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] });
    expect(seen).toEqual(['impersonate /serviceaccounts ns1/robot']);
  });

  it('adds system:unauthenticated, not system:authenticated, for system:anonymous', async () => {
    const { authorizer } = recorder();
    expect(await applyImpersonation({ 'impersonate-user': 'system:anonymous' }, admin, authorizer)).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });

  it('is forbidden with upstream message when a check is denied', async () => {
    const { authorizer } = recorder((a) => a.resource === 'groups');
    const err = await applyImpersonation({ 'impersonate-user': 'jane', 'impersonate-group': 'system:masters' }, { name: 'bob', groups: [] }, authorizer).catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(403);
    expect(err.message).toBe('groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
    const sa = await applyImpersonation({ 'impersonate-user': 'system:serviceaccount:ns1:robot' }, { name: 'bob', groups: [] }, recorder(() => true).authorizer).catch((e) => e);
    expect(sa.message).toBe('serviceaccounts "robot" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns1"');
  });

  it('refuses groups without a user', async () => {
    const err = await applyImpersonation({ 'impersonate-group': 'dev' }, admin, recorder().authorizer).catch((e) => e);
    expect(err.code).toBe(500);
    expect(err.message).toMatch(/without impersonating a user/);
  });
});
