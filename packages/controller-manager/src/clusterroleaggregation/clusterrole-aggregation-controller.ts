// The ClusterRole aggregation controller (upstream's pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule gets as rules the union of the rules of every ClusterRole its
// selectors match (in name order, duplicates dropped). Any ClusterRole change requeues all
// aggregated roles, since it may join or leave their selection.
import { selectorFromLabelSelector, type KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';

export interface ClusterRoleAggregationOptions {
  clusterRoleInformer: Informer<KubeObject>;
  /** Writes the new rules of an aggregated role (a PUT with its resourceVersion; a conflict requeues). */
  updateClusterRole(role: KubeObject): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

/** The aggregated rules of `role` given all ClusterRoles, or undefined when it aggregates nothing. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors) return undefined;
  const matchers = selectors.map((s) => selectorFromLabelSelector(s));
  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  const sources = all.filter((r) => r.metadata?.name !== role.metadata?.name && matchers.some((m) => m.matches(r.metadata?.labels ?? {})));
  sources.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : a.metadata!.name! > b.metadata!.name! ? 1 : 0));
  for (const source of sources) {
    for (const rule of source.rules ?? []) {
      const key = JSON.stringify(normalRule(rule));
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push(structuredClone(rule));
    }
  }
  return rules;
}

function normalRule(r: PolicyRule): PolicyRule {
  const out: PolicyRule = { verbs: r.verbs ?? [] };
  if (r.apiGroups?.length) out.apiGroups = r.apiGroups;
  if (r.resources?.length) out.resources = r.resources;
  if (r.resourceNames?.length) out.resourceNames = r.resourceNames;
  if (r.nonResourceURLs?.length) out.nonResourceURLs = r.nonResourceURLs;
  return out;
}

export class ClusterRoleAggregationController implements RunnableController {
  readonly name = 'clusterrole-aggregation-controller';
  readonly queue: WorkQueue<string>;

  constructor(private readonly opts: ClusterRoleAggregationOptions) {
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    const enqueueAll = () => {
      for (const r of opts.clusterRoleInformer.lister.list()) if (r.aggregationRule) this.queue.add(r.metadata.name!);
    };
    opts.clusterRoleInformer.addEventHandler({ onAdd: enqueueAll, onUpdate: enqueueAll, onDelete: enqueueAll });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(name: string): Promise<void> {
    const lister = this.opts.clusterRoleInformer.lister;
    const role = lister.get('', name) as ClusterRole | undefined;
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, lister.list() as ClusterRole[])!;
    const same = JSON.stringify(rules.map(normalRule)) === JSON.stringify((role.rules ?? []).map(normalRule));
    if (same) return;
    const next = structuredClone(role) as KubeObject;
    next.rules = rules;
    await this.opts.updateClusterRole(next);
  }
}
