// Defaulting for rbac.authorization.k8s.io/v1 bindings (upstream pkg/apis/rbac/v1/defaults.go).
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** A subject's apiGroup: rbac.authorization.k8s.io for User and Group, "" for ServiceAccount. */
export function defaultSubject(s: Subject): void {
  if (s.apiGroup) return;
  if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
  else if (s.kind === 'ServiceAccount') s.apiGroup = '';
}

/** roleRef.apiGroup rbac.authorization.k8s.io; every subject's apiGroup per {@link defaultSubject}. */
export function defaultRoleBinding(b: RoleBinding | ClusterRoleBinding): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) defaultSubject(s);
}
