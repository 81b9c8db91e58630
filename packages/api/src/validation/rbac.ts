// rbac.authorization.k8s.io/v1 validation: Role, ClusterRole, RoleBinding, ClusterRoleBinding, as
// upstream's pkg/apis/rbac/validation. RBAC names are path segments, not DNS names.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate, validatePathSegmentName } from './meta.js';
import { asArray, child, deepEqual, index, msgsToInvalid, validateLabelSelector } from './util.js';

type Errs = FieldError[];
const RBAC_GROUP = 'rbac.authorization.k8s.io';

export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): Errs {
  const errs: Errs = [];
  if (asArray(rule.verbs).length === 0) errs.push(fieldErrors.required(child(path, 'verbs'), 'verbs must contain at least one value'));
  const urls = asArray(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(fieldErrors.invalid(child(path, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (asArray(rule.apiGroups).length > 0 || asArray(rule.resources).length > 0 || asArray(rule.resourceNames).length > 0) {
      errs.push(fieldErrors.invalid(child(path, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (asArray(rule.apiGroups).length === 0) errs.push(fieldErrors.required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (asArray(rule.resources).length === 0) errs.push(fieldErrors.required(child(path, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: Role): Errs {
  const errs = validateObjectMeta(role.metadata, { namespaced: true, nameValidator: validatePathSegmentName });
  asArray(role.rules).forEach((r, i) => errs.push(...validatePolicyRule(r ?? ({} as PolicyRule), true, index('rules', i))));
  return errs;
}

export function validateRoleUpdate(role: Role, old: Role): Errs {
  return [...validateRole(role).filter((e) => !e.field.startsWith('metadata')), ...validateObjectMetaUpdate(role.metadata, old.metadata)];
}

export function validateClusterRole(role: ClusterRole): Errs {
  const errs = validateObjectMeta(role.metadata, { namespaced: false, nameValidator: validatePathSegmentName });
  asArray(role.rules).forEach((r, i) => errs.push(...validatePolicyRule(r ?? ({} as PolicyRule), false, index('rules', i))));
  const agg = role.aggregationRule;
  if (agg) {
    const sels = asArray(agg.clusterRoleSelectors);
    if (sels.length === 0) {
      errs.push(fieldErrors.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    sels.forEach((s, i) => errs.push(...validateLabelSelector(s, index('aggregationRule.clusterRoleSelectors', i))));
  }
  return errs;
}

export function validateClusterRoleUpdate(role: ClusterRole, old: ClusterRole): Errs {
  return [...validateClusterRole(role).filter((e) => !e.field.startsWith('metadata')), ...validateObjectMetaUpdate(role.metadata, old.metadata)];
}

export function validateSubject(s: Subject, namespaced: boolean, path: string): Errs {
  const errs: Errs = [];
  if (!s.name) errs.push(fieldErrors.required(child(path, 'name'), ''));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) errs.push(...msgsToInvalid(nameIsDNSSubdomain(s.name, false), child(path, 'name'), s.name));
      if (s.apiGroup) errs.push(fieldErrors.notSupported(child(path, 'apiGroup'), s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(fieldErrors.required(child(path, 'namespace'), ''));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported(child(path, 'apiGroup'), s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErrors.notSupported(child(path, 'kind'), s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBindingCommon(b: RoleBinding | ClusterRoleBinding, namespaced: boolean): Errs {
  const errs: Errs = [];
  const ref = b.roleRef ?? ({} as RoleBinding['roleRef']);
  if (ref.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(fieldErrors.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fieldErrors.required('roleRef.name', ''));
  else errs.push(...msgsToInvalid(validatePathSegmentName(ref.name, false), 'roleRef.name', ref.name));
  asArray(b.subjects).forEach((s, i) => errs.push(...validateSubject(s ?? ({} as Subject), namespaced, index('subjects', i))));
  return errs;
}

export function validateRoleBinding(b: RoleBinding): Errs {
  return [...validateObjectMeta(b.metadata, { namespaced: true, nameValidator: validatePathSegmentName }), ...validateBindingCommon(b, true)];
}

export function validateClusterRoleBinding(b: ClusterRoleBinding): Errs {
  return [...validateObjectMeta(b.metadata, { namespaced: false, nameValidator: validatePathSegmentName }), ...validateBindingCommon(b, false)];
}

function roleRefChanged(b: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding): Errs {
  return deepEqual(b.roleRef ?? null, old.roleRef ?? null) ? [] : [fieldErrors.invalid('roleRef', b.roleRef, 'cannot change roleRef')];
}

export function validateRoleBindingUpdate(b: RoleBinding, old: RoleBinding): Errs {
  return [...validateBindingCommon(b, true), ...validateObjectMetaUpdate(b.metadata, old.metadata), ...roleRefChanged(b, old)];
}

export function validateClusterRoleBindingUpdate(b: ClusterRoleBinding, old: ClusterRoleBinding): Errs {
  return [...validateBindingCommon(b, false), ...validateObjectMetaUpdate(b.metadata, old.metadata), ...roleRefChanged(b, old)];
}
