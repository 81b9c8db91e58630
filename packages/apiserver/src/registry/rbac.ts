// Strategies of the RBAC resources: validation as upstream's rbac validation, roleRef immutability,
// and escalation prevention (upstream's policybased storage): a user may only create or update a
// Role/ClusterRole holding every permission it grants (or with the `escalate` verb on it), and a
// RoleBinding/ClusterRoleBinding to a role whose permissions it holds (or with the `bind` verb on it).
// The requesting user is passed with each write (WriteOptions.requester, handed to the strategy's
// hooks); writes made by the server itself (bootstrap policy, aggregation) have none and are not checked.
import { StatusError, type FieldError, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { PolicyRule, Subject } from 'kubernetes-types/rbac/v1';
import type { AuthorizationAttributes, Authorizer, UserInfo } from '../auth/authn.js';
import { breakdownRule, ruleString } from '../auth/rbac/rules.js';
import type { ResourceStrategy } from './defaults.js';
import type { Strategy } from './strategy.js';
import type { Store } from './store.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface Requester {
  user: UserInfo;
  /** The server's authorizer: permissions held are the ones it allows. */
  authorizer: Authorizer;
}

/** The user of the request being served (upstream's request.UserFrom(ctx)); only requests have one. */
export function requestUser(requester: Requester | undefined): UserInfo {
  if (!requester) throw new Error('no requesting user: not serving a request');
  return requester.user;
}

/** Members of system:masters are never checked (upstream's EscalationAllowed). */
function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes('system:masters');
}

function attrs(user: UserInfo, verb: string, resource: string, namespace: string, name: string): AuthorizationAttributes {
  return { user, verb, isResourceRequest: true, path: '', apiGroup: RBAC_GROUP, apiVersion: 'v1', namespace, resource, subresource: '', name };
}

/** The pieces of `rules` the user is not allowed, merged back per resource (upstream's CompactRules). */
async function notHeld(req: Requester, namespace: string, rules: readonly PolicyRule[]): Promise<PolicyRule[]> {
  const missing = new Map<string, PolicyRule>();
  for (const rule of rules) {
    for (const piece of breakdownRule(rule)) {
      let a: AuthorizationAttributes;
      if (piece.nonResourceURLs?.length) {
        a = { user: req.user, verb: piece.verbs[0], isResourceRequest: false, path: piece.nonResourceURLs[0], apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
      } else {
        const [resource, subresource = ''] = piece.resources![0].split(/\/(.*)/s);
        a = {
          user: req.user,
          verb: piece.verbs[0],
          isResourceRequest: true,
          path: '',
          apiGroup: piece.apiGroups![0],
          apiVersion: '',
          namespace,
          resource,
          subresource,
          name: piece.resourceNames?.[0] ?? '',
        };
      }
      if ((await req.authorizer.authorize(a)).allowed) continue;
      const { verbs, ...rest } = piece;
      const key = JSON.stringify(rest);
      const have = missing.get(key);
      if (have) have.verbs.push(...verbs);
      else missing.set(key, { ...rest, verbs: [...verbs] });
    }
  }
  return [...missing.values()].sort((a, b) => ruleString(a).localeCompare(ruleString(b)));
}

function escalationError(resource: string, name: string, user: UserInfo, missing: PolicyRule[]): StatusError {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  const why = `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(ruleString).join('\n')}`;
  return new StatusError({ code: 403, reason: 'Forbidden', message: `${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${why}`, details: { name, group: RBAC_GROUP, kind: resource } });
}

/** Refuses a role that grants more than its author holds, unless the author may `escalate` it. */
export async function confirmRoleNoEscalation(req: Requester, resource: 'roles' | 'clusterroles', obj: KubeObject): Promise<void> {
  if (escalationAllowed(req.user)) return;
  const namespace = obj.metadata.namespace ?? '';
  const name = obj.metadata.name ?? '';
  if ((await req.authorizer.authorize(attrs(req.user, 'escalate', resource, namespace, name))).allowed) return;
  if (obj.aggregationRule) {
    throw new StatusError({
      code: 403,
      reason: 'Forbidden',
      message: `${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: must have cluster-admin privileges to use the aggregationRule`,
      details: { name, group: RBAC_GROUP, kind: resource },
    });
  }
  const missing = await notHeld(req, namespace, (obj.rules ?? []) as PolicyRule[]);
  if (missing.length) throw escalationError(resource, name, req.user, missing);
}

/** Looks up the rules of the role a binding refers to (undefined: not found). */
export type RoleRulesGetter = (kind: string, namespace: string, name: string) => Promise<PolicyRule[] | undefined>;

/** Refuses a binding to a role whose permissions its author does not hold, unless the author may `bind` it. */
export async function confirmBindingNoEscalation(req: Requester, resource: 'rolebindings' | 'clusterrolebindings', obj: KubeObject, roleRules: RoleRulesGetter): Promise<void> {
  if (escalationAllowed(req.user)) return;
  const namespace = obj.metadata.namespace ?? '';
  const name = obj.metadata.name ?? '';
  const ref = obj.roleRef as { kind: string; name: string };
  const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
  // `bind` on the role, cluster-wide or (for a RoleBinding) in the binding's namespace.
  if ((await req.authorizer.authorize(attrs(req.user, 'bind', roleResource, namespace, ref.name))).allowed) return;
  const rules = await roleRules(ref.kind, ref.kind === 'Role' ? namespace : '', ref.name);
  if (!rules) {
    const what = `${ref.kind === 'Role' ? 'roles' : 'clusterroles'}.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found`;
    throw new StatusError({ code: 403, reason: 'Forbidden', message: `${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${what}`, details: { name, group: RBAC_GROUP, kind: resource } });
  }
  const missing = await notHeld(req, namespace, rules);
  if (missing.length) throw escalationError(resource, name, req.user, missing);
}

function validateRules(rules: unknown, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (rules === undefined || rules === null) return errs;
  if (!Array.isArray(rules)) return [{ type: 'FieldValueInvalid', field: 'rules', badValue: rules, detail: 'must be a list' }];
  rules.forEach((r: PolicyRule, i) => {
    const f = `rules[${i}]`;
    if (!r.verbs?.length) errs.push({ type: 'FieldValueRequired', field: `${f}.verbs`, detail: 'verbs must contain at least one value' });
    const hasURLs = (r.nonResourceURLs?.length ?? 0) > 0;
    const hasResources = (r.resources?.length ?? 0) > 0 || (r.apiGroups?.length ?? 0) > 0 || (r.resourceNames?.length ?? 0) > 0;
    if (hasURLs) {
      if (namespaced) errs.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, badValue: r.nonResourceURLs, detail: 'namespaced rules cannot apply to non-resource URLs' });
      if (hasResources) {
        const detail = 'rules cannot apply to both regular resources and non-resource URLs';
        errs.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, badValue: r.nonResourceURLs, detail });
      }
      return;
    }
    if (!r.apiGroups?.length) errs.push({ type: 'FieldValueRequired', field: `${f}.apiGroups`, detail: 'resource rules must supply at least one api group' });
    if (!r.resources?.length) errs.push({ type: 'FieldValueRequired', field: `${f}.resources`, detail: 'resource rules must supply at least one resource' });
  });
  return errs;
}

function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef as { apiGroup?: string; kind?: string; name?: string } | undefined;
  if (ref?.apiGroup !== RBAC_GROUP) errs.push({ type: 'FieldValueNotSupported', field: 'roleRef.apiGroup', badValue: ref?.apiGroup ?? '', detail: `supported values: "${RBAC_GROUP}"` });
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!ref?.kind || !kinds.includes(ref.kind)) {
    const detail = `supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`;
    errs.push({ type: 'FieldValueNotSupported', field: 'roleRef.kind', badValue: ref?.kind ?? '', detail });
  }
  if (!ref?.name) errs.push({ type: 'FieldValueRequired', field: 'roleRef.name', detail: '' });
  ((obj.subjects ?? []) as Subject[]).forEach((s, i) => {
    const f = `subjects[${i}]`;
    if (!s.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name`, detail: '' });
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) errs.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, badValue: s.apiGroup, detail: 'supported values: ""' });
        if (!namespaced && !s.namespace) errs.push({ type: 'FieldValueRequired', field: `${f}.namespace`, detail: '' });
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errs.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, badValue: s.apiGroup ?? '', detail: `supported values: "${RBAC_GROUP}"` });
        break;
      default:
        errs.push({ type: 'FieldValueNotSupported', field: `${f}.kind`, badValue: s.kind, detail: 'supported values: "ServiceAccount", "User", "Group"' });
    }
  });
  return errs;
}

/**
 * The RBAC resource strategies, keyed as the strategies map of createRegistry. `stores` gives the
 * registry's stores (lazily: they are built from these definitions), where a binding's role is read.
 */
export function rbacStrategies(stores: () => Map<string, Store>): Record<string, ResourceStrategy> {
  const roleRules = (): RoleRulesGetter => async (kind, namespace, name) => {
    const store = stores().get(`${RBAC_GROUP}/v1/${kind === 'ClusterRole' ? 'clusterroles' : 'roles'}`);
    if (!store || !['Role', 'ClusterRole'].includes(kind)) return undefined;
    try {
      return ((await store.get(namespace, name)).rules ?? []) as PolicyRule[];
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  };
  const roleStrategy = (resource: 'roles' | 'clusterroles'): ResourceStrategy => (_base: Strategy, info: ResourceInfo) => ({
    validate: (obj) => validateRules(obj.rules, info.namespaced),
    validateUpdate: (obj) => validateRules(obj.rules, info.namespaced),
    async beginCreate(obj, _dryRun, req) {
      if (req) await confirmRoleNoEscalation(req, resource, obj);
    },
    async beforeUpdate(obj, old, _dryRun, req) {
      // Only a change of what the role grants is checked (labels and annotations are not).
      if (!req || JSON.stringify([obj.rules, obj.aggregationRule]) === JSON.stringify([old.rules, old.aggregationRule])) return;
      await confirmRoleNoEscalation(req, resource, obj);
    },
  });
  const bindingStrategy = (resource: 'rolebindings' | 'clusterrolebindings'): ResourceStrategy => (_base: Strategy, info: ResourceInfo) => ({
    validate: (obj) => validateBinding(obj, info.namespaced),
    validateUpdate(obj, old) {
      const errs = validateBinding(obj, info.namespaced);
      if (JSON.stringify(obj.roleRef) !== JSON.stringify(old.roleRef)) errs.push({ type: 'FieldValueInvalid', field: 'roleRef', badValue: obj.roleRef, detail: 'cannot change roleRef' });
      return errs;
    },
    async beginCreate(obj, _dryRun, req) {
      if (req) await confirmBindingNoEscalation(req, resource, obj, roleRules());
    },
    async beforeUpdate(obj, _old, _dryRun, req) {
      if (req) await confirmBindingNoEscalation(req, resource, obj, roleRules());
    },
  });
  return {
    [`roles.${RBAC_GROUP}`]: roleStrategy('roles'),
    [`clusterroles.${RBAC_GROUP}`]: roleStrategy('clusterroles'),
    [`rolebindings.${RBAC_GROUP}`]: bindingStrategy('rolebindings'),
    [`clusterrolebindings.${RBAC_GROUP}`]: bindingStrategy('clusterrolebindings'),
  };
}
