// Builds the authentication and authorization chains from the configuration (upstream's
// --token-auth-file, --service-account-*, --enable-bootstrap-token-auth, --anonymous-auth,
// --authorization-mode). Authenticators are tried in order; the first to recognise a request wins.
import type { ServerDeps } from '../server-deps.js';
import { AlwaysAllow, type Authorizer, type Decision } from './authn.js';
import { nodeRules } from '../bootstrap-policy.js';
import { NodeAuthorizer } from './node/node-authorizer.js';
import { nodeGraphFromRegistry } from './node/graph.js';
import { PrivilegedGroupAuthorizer, RBACAuthorizer, RBACRuleResolver, sourceFromStores } from './rbac/authorizer.js';
import { unionRulesResolver } from './rbac/rules-review.js';
import { accessReviewStorages } from './reviews.js';
import { createAuthentication, type AuthenticationChain } from './authentication.js';

export type { AuthenticationChain } from './authentication.js';

export function buildAuthentication(deps: ServerDeps): AuthenticationChain {
  return createAuthentication(deps);
}

class AlwaysDeny implements Authorizer {
  async authorize(): Promise<Decision> {
    return { allowed: false, reason: '' };
  }
}

/**
 * The authorizer of --authorization-mode: system:masters first (upstream's privileged group), then each
 * mode in the given order; the first that allows wins (upstream's union authorizer). Also builds the
 * access review storages, which ask the same authorizer.
 */
export function buildAuthorization(deps: ServerDeps): { authorizer: Authorizer; storages: ReturnType<typeof accessReviewStorages> } {
  const modes = deps.config.authorizationMode;
  const rbacStore = (resource: string) => deps.registry.store('rbac.authorization.k8s.io', 'v1', resource);
  const resolver = new RBACRuleResolver(
    sourceFromStores({ roles: rbacStore('roles'), roleBindings: rbacStore('rolebindings'), clusterRoles: rbacStore('clusterroles'), clusterRoleBindings: rbacStore('clusterrolebindings') }),
  );
  const chain: Authorizer[] = [new PrivilegedGroupAuthorizer()];
  for (const m of modes) {
    if (m === 'AlwaysDeny') chain.push(new AlwaysDeny());
    else if (m === 'RBAC') chain.push(new RBACAuthorizer(resolver));
    else if (m === 'Node') chain.push(new NodeAuthorizer(nodeGraphFromRegistry(deps.registry), nodeRules()));
    else chain.push(new AlwaysAllow());
  }
  const authorizer: Authorizer = {
    async authorize(attrs) {
      let reason = '';
      for (const a of chain) {
        const d = await a.authorize(attrs);
        if (d.allowed) return d;
        reason ||= d.reason;
      }
      return { allowed: false, reason };
    },
  };
  return { authorizer, storages: accessReviewStorages(authorizer, unionRulesResolver(modes, resolver)) };
}
