// The RBAC authorizer (upstream's plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule
// of a role bound to the user allows it. ClusterRoleBindings grant everywhere; RoleBindings grant in
// their namespace, referring to a Role there or to a ClusterRole. Roles and bindings are read from
// the watch cache; the index built from them is reused until any of them changes.
import type { KubeObject } from '@kubelab/api';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1';
import type { AuthorizationAttributes, Authorizer, Decision, UserInfo } from '../authn.js';
import { ruleAllows } from './rules.js';

/** Reads all objects of one RBAC resource; returns them with the list's resourceVersion. */
export type RBACLister = () => Promise<{ items: readonly KubeObject[]; resourceVersion: string }>;

export interface RBACSource {
  roles: RBACLister;
  roleBindings: RBACLister;
  clusterRoles: RBACLister;
  clusterRoleBindings: RBACLister;
}

/** The minimal store surface the source needs (the registry's Store). */
export interface ListableStore {
  list(namespace: string, q: { resourceVersion?: string }): Promise<{ items: KubeObject[]; metadata: { resourceVersion?: string } }>;
}

/** Lists from the watch cache (resourceVersion 0: whatever the cache holds, no etcd round trip). */
export function sourceFromStores(stores: { roles: ListableStore; roleBindings: ListableStore; clusterRoles: ListableStore; clusterRoleBindings: ListableStore }): RBACSource {
  const lister = (s: ListableStore): RBACLister => async () => {
    const l = await s.list('', { resourceVersion: '0' });
    return { items: l.items, resourceVersion: l.metadata.resourceVersion ?? '' };
  };
  return { roles: lister(stores.roles), roleBindings: lister(stores.roleBindings), clusterRoles: lister(stores.clusterRoles), clusterRoleBindings: lister(stores.clusterRoleBindings) };
}

interface Index {
  key: string;
  roles: Map<string, Role>; // ns/name
  clusterRoles: Map<string, ClusterRole>;
  roleBindings: Map<string, RoleBinding[]>; // by namespace
  clusterRoleBindings: ClusterRoleBinding[];
}

/** The rules that apply to a user, with the errors met resolving them (missing roles). */
export interface ResolvedRules {
  rules: PolicyRule[];
  errors: string[];
}

export class RBACRuleResolver {
  private index?: Index;
  private building?: Promise<Index>;

  constructor(private readonly source: RBACSource) {}

  private async load(): Promise<Index> {
    const { source } = this;
    const [roles, roleBindings, clusterRoles, clusterRoleBindings] = await Promise.all([
      source.roles(),
      source.roleBindings(),
      source.clusterRoles(),
      source.clusterRoleBindings(),
    ]);
    const key = [roles, roleBindings, clusterRoles, clusterRoleBindings].map((l) => `${l.resourceVersion}:${l.items.length}`).join('/');
    if (this.index?.key === key) return this.index;
    const idx: Index = { key, roles: new Map(), clusterRoles: new Map(), roleBindings: new Map(), clusterRoleBindings: [] };
    for (const r of roles.items as Role[]) idx.roles.set(`${r.metadata?.namespace}/${r.metadata?.name}`, r);
    for (const r of clusterRoles.items as ClusterRole[]) idx.clusterRoles.set(r.metadata!.name!, r);
    for (const b of roleBindings.items as RoleBinding[]) {
      const ns = b.metadata!.namespace!;
      const list = idx.roleBindings.get(ns) ?? [];
      list.push(b);
      idx.roleBindings.set(ns, list);
    }
    idx.clusterRoleBindings = clusterRoleBindings.items as ClusterRoleBinding[];
    this.index = idx;
    return idx;
  }

  /** The current index (one set of lists per call, shared by concurrent callers). */
  private async current(): Promise<Index> {
    if (!this.building) this.building = this.load().finally(() => (this.building = undefined));
    return this.building;
  }

  /**
   * Calls visit with each rule that applies to the user in the namespace ('' = cluster scope only)
   * until it returns false. Returns the resolution errors (e.g. a binding to a missing role).
   */
  async visitRules(user: UserInfo, namespace: string, visit: (rule: PolicyRule, source: string) => boolean): Promise<string[]> {
    const idx = await this.current();
    const errors: string[] = [];
    for (const b of idx.clusterRoleBindings) {
      if (!appliesTo(user, b.subjects, '')) continue;
      const role = b.roleRef.kind === 'ClusterRole' ? idx.clusterRoles.get(b.roleRef.name) : undefined;
      if (!role) {
        errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
        continue;
      }
      for (const rule of role.rules ?? []) if (!visit(rule, `ClusterRoleBinding "${b.metadata?.name}" of ClusterRole "${role.metadata?.name}"`)) return errors;
    }
    if (!namespace) return errors;
    for (const b of idx.roleBindings.get(namespace) ?? []) {
      if (!appliesTo(user, b.subjects, namespace)) continue;
      const role = b.roleRef.kind === 'Role' ? idx.roles.get(`${namespace}/${b.roleRef.name}`) : b.roleRef.kind === 'ClusterRole' ? idx.clusterRoles.get(b.roleRef.name) : undefined;
      if (!role) {
        errors.push(`${b.roleRef.kind === 'Role' ? 'role' : 'clusterrole'}.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
        continue;
      }
      for (const rule of role.rules ?? []) if (!visit(rule, `RoleBinding "${namespace}/${b.metadata?.name}" of ${b.roleRef.kind} "${b.roleRef.name}"`)) return errors;
    }
    return errors;
  }

  /** Every rule that applies to the user in the namespace. */
  async rulesFor(user: UserInfo, namespace: string): Promise<ResolvedRules> {
    const rules: PolicyRule[] = [];
    const errors = await this.visitRules(user, namespace, (r) => {
      rules.push(r);
      return true;
    });
    return { rules, errors };
  }

  /** The rules of a role a binding refers to, or undefined when it does not exist. */
  async roleRules(kind: string, namespace: string, name: string): Promise<PolicyRule[] | undefined> {
    const idx = await this.current();
    const role = kind === 'ClusterRole' ? idx.clusterRoles.get(name) : kind === 'Role' ? idx.roles.get(`${namespace}/${name}`) : undefined;
    return role ? (role.rules ?? []) : undefined;
  }
}

/** Whether any subject names the user (directly, by group, or as a service account). */
export function appliesTo(user: UserInfo, subjects: readonly Subject[] | undefined, bindingNamespace: string): boolean {
  for (const s of subjects ?? []) {
    switch (s.kind) {
      case 'User':
        if (user.name === s.name) return true;
        break;
      case 'Group':
        if (user.groups.includes(s.name)) return true;
        break;
      case 'ServiceAccount': {
        const ns = s.namespace || bindingNamespace;
        if (ns && user.name === `system:serviceaccount:${ns}:${s.name}`) return true;
        break;
      }
    }
  }
  return false;
}

export class RBACAuthorizer implements Authorizer {
  constructor(readonly resolver: RBACRuleResolver) {}

  async authorize(attrs: AuthorizationAttributes): Promise<Decision> {
    let allowed = false;
    const errors = await this.resolver.visitRules(attrs.user, attrs.isResourceRequest ? attrs.namespace : '', (rule) => {
      if (ruleAllows(attrs, rule)) allowed = true;
      return !allowed;
    });
    if (allowed) return { allowed: true };
    // Upstream reports the resolution errors (missing roles) as the reason; otherwise no opinion.
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.join(', ')}` : '' };
  }
}

/** Members of system:masters may do anything (upstream's privileged-group authorizer). */
export const SUPERUSER_GROUP = 'system:masters';

export class PrivilegedGroupAuthorizer implements Authorizer {
  constructor(private readonly groups: readonly string[] = [SUPERUSER_GROUP]) {}

  async authorize(attrs: AuthorizationAttributes): Promise<Decision> {
    return attrs.user.groups.some((g) => this.groups.includes(g)) ? { allowed: true } : { allowed: false, reason: '' };
  }
}
