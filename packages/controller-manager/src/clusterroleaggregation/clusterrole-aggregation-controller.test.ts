import { describe, expect, it } from 'vitest';
import type { ClusterRole } from 'kubernetes-types/rbac/v1';
import { aggregatedRules } from './clusterrole-aggregation-controller.js';

const role = (name: string, labels: Record<string, string>, rules: ClusterRole['rules'], selector?: Record<string, string>): ClusterRole => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules,
  ...(selector ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: selector }] } } : {}),
});

describe('aggregatedRules', () => {
  it('unions the rules of the selected roles in name order without duplicates', () => {
    const view = role('view', {}, [], { 'aggregate-to-view': 'true' });
    const all = [
      view,
      role('z-extra', { 'aggregate-to-view': 'true' }, [{ verbs: ['get'], apiGroups: ['x.io'], resources: ['widgets'] }]),
      role('a-base', { 'aggregate-to-view': 'true' }, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]),
      role('dup', { 'aggregate-to-view': 'true' }, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]),
      role('other', { unrelated: 'true' }, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
    ];
    expect(aggregatedRules(view, all)).toEqual([
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: ['x.io'], resources: ['widgets'] },
    ]);
    expect(aggregatedRules(all[1], all)).toBeUndefined();
  });
});
