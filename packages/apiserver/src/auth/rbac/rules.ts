// PolicyRule matching, as upstream's rbac/v1 helpers: verbs, API groups, resources (with
// subresources), resourceNames and nonResourceURLs, where `*` matches everything.
import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import type { AuthorizationAttributes } from '../authn.js';

export type RuleAttributes = Pick<AuthorizationAttributes, 'verb' | 'isResourceRequest' | 'path' | 'apiGroup' | 'resource' | 'subresource' | 'name'>;

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** `pods` matches pods, `pods/log` the log subresource, `*` anything, `*\/scale` any resource's scale. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

/** An empty resourceNames list means every name. */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** `/healthz` matches itself, `/apis/*` every path under /apis/, `*` every path. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(attrs: RuleAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (attrs.isResourceRequest) {
    return apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, attrs.resource, attrs.subresource) && resourceNameMatches(rule, attrs.name);
  }
  return nonResourceURLMatches(rule, attrs.path);
}

export function rulesAllow(attrs: RuleAttributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(attrs, r));
}

/**
 * Whether `owner` covers every permission `requested` grants (upstream's validation.Covers): the
 * requested rule is broken into one-verb/one-group/one-resource/one-name pieces, and each piece must
 * be allowed by some owner rule. Returns the pieces nobody covers.
 */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of requested) {
    for (const piece of breakdownRule(rule)) {
      if (!owner.some((o) => ruleCovers(o, piece))) missing.push(piece);
    }
  }
  return missing;
}

/** One rule per verb x group x resource x name (or verb x URL). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
    }
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

/** Whether `owner` grants everything the one-piece rule `piece` does. */
function ruleCovers(owner: PolicyRule, piece: PolicyRule): boolean {
  if (!owner.verbs.includes('*') && !owner.verbs.includes(piece.verbs[0])) return false;
  if (piece.nonResourceURLs?.length) {
    const url = piece.nonResourceURLs[0];
    return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
  }
  const group = piece.apiGroups![0];
  if (!(owner.apiGroups ?? []).some((g) => g === '*' || g === group)) return false;
  const resource = piece.resources![0];
  const ownerResources = owner.resources ?? [];
  const slash = resource.indexOf('/');
  const resourceCovered = ownerResources.some((r) => {
    if (r === '*' || r === resource) return true;
    // `*/scale` in the owner covers `deployments/scale`.
    return slash > 0 && r === `*${resource.slice(slash)}`;
  });
  if (!resourceCovered) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  return (piece.resourceNames ?? []).length > 0 && ownerNames.includes(piece.resourceNames![0]);
}

/** Upstream's compact rule text in escalation errors: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function ruleString(rule: PolicyRule): string {
  const q = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${q(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${q(rule.resources)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${q(rule.resourceNames)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(rule.nonResourceURLs)}`);
  parts.push(`Verbs:${q(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
