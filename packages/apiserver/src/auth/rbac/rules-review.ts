// SelfSubjectRulesReview's view of the authorization modes: the rules each mode grants the user in
// a namespace (system:masters and AlwaysAllow grant everything; the Node authorizer cannot list its
// rules, so a kubelet's answer is incomplete).
import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import type { UserInfo } from '../authn.js';
import type { RulesResolver } from '../reviews.js';
import { nodeNameOf } from '../node/node-authorizer.js';
import { SUPERUSER_GROUP, type RBACRuleResolver } from './authorizer.js';

const EVERYTHING: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export function unionRulesResolver(modes: readonly string[], rbac: RBACRuleResolver): RulesResolver {
  return {
    async rulesFor(user: UserInfo, namespace: string) {
      const rules: PolicyRule[] = [];
      const errors: string[] = [];
      let incomplete = false;
      if (user.groups.includes(SUPERUSER_GROUP)) rules.push(...EVERYTHING);
      for (const m of modes) {
        if (m === 'AlwaysAllow') rules.push(...EVERYTHING);
        else if (m === 'RBAC') {
          const r = await rbac.rulesFor(user, namespace);
          rules.push(...r.rules);
          errors.push(...r.errors);
        } else if (m === 'Node' && nodeNameOf(user)) {
          incomplete = true;
          errors.push('node authorizer does not support user rule resolution');
        }
      }
      return { rules, incomplete, errors };
    },
  };
}
