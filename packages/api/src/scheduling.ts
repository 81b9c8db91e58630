// Taints, tolerations and node selectors, as the scheduler, the DaemonSet controller and the node
// lifecycle all need them (upstream: k8s.io/api/core/v1 toleration.go and
// k8s.io/component-helpers/scheduling/corev1, nodeaffinity).
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { getOwn } from './own.js';

/** Upstream's Toleration.ToleratesTaint: empty effect and key match all; unknown operators match nothing. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator || 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** Whether any of the tolerations tolerates the taint (upstream's TolerationsTolerateTaint). */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => toleratesTaint(t, taint));
}

/** The first taint with one of `effects` that no toleration tolerates (upstream's FindMatchingUntoleratedTaint). */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerationsTolerateTaint(tolerations, taint));
}

/** Whether every taint is tolerated, and the tolerations that were used (upstream's GetMatchingTolerations). */
export function getMatchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { all: boolean; used: Toleration[] } {
  const used = new Set<Toleration>();
  for (const taint of taints) {
    const matching = tolerations.filter((t) => toleratesTaint(t, taint));
    if (!matching.length) return { all: false, used: [] };
    for (const t of matching) used.add(t);
  }
  return { all: true, used: [...used] };
}

/** What node selectors look at: a node's name and labels. */
export interface NodeFields {
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** One node selector requirement against a label (or field) value; undefined means absent. */
export function nodeSelectorRequirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1 || !/^-?\d+$/.test(values[0]!)) return false;
      return r.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields match; a term with neither matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: NodeFields): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  return (
    exprs.every((r) => nodeSelectorRequirementMatches(r, getOwn(node.labels, r.key))) &&
    fields.every((r) => r.key === 'metadata.name' && nodeSelectorRequirementMatches(r, node.name))
  );
}

/** The terms are ORed (upstream's MatchNodeSelectorTerms). */
export function nodeSelectorMatches(selector: NodeSelector, node: NodeFields): boolean {
  return (selector.nodeSelectorTerms ?? []).some((t) => nodeSelectorTermMatches(t, node));
}

/** The pod's nodeSelector and required node affinity (upstream's GetRequiredNodeAffinity(pod).Match). */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, node: NodeFields): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (getOwn(node.labels, k) !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || nodeSelectorMatches(required, node);
}
