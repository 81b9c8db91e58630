// The namespace controller (upstream's pkg/controller/namespace): once a namespace is Terminating it
// deletes every namespaced object in it, reports what remains in the namespace's conditions, and
// when nothing is left removes the `kubernetes` finalizer through /finalize so the apiserver purges it.
import { isConflict, isNotFound, preferredResources, RESOURCES, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger, type RestClient } from '@kubelab/client';
import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1';
import { nowRFC3339, runQueue, type RunnableController } from '../controller-utils.js';

export const FINALIZER_KUBERNETES = 'kubernetes';

/** What the namespace controller does to the API. */
export interface NamespaceContentClient {
  /** Deletes every object of a resource in the namespace. */
  deleteCollection(info: ResourceInfo, namespace: string): Promise<void>;
  /** How many objects of a resource remain, and how many of those carry finalizers. */
  count(info: ResourceInfo, namespace: string): Promise<{ total: number; withFinalizers: number; finalizers: string[] }>;
  updateStatus(ns: Namespace): Promise<Namespace>;
  finalize(ns: Namespace): Promise<Namespace>;
}

export function apiNamespaceContentClient(client: RestClient): NamespaceContentClient {
  return {
    async deleteCollection(info, namespace) {
      await client.resource(info, namespace).deleteCollection({});
    },
    async count(info, namespace) {
      const list = await client.resource(info, namespace).list();
      const finalizers = new Set<string>();
      let withFinalizers = 0;
      for (const o of list.items) {
        if (o.metadata.finalizers?.length) withFinalizers++;
        for (const f of o.metadata.finalizers ?? []) finalizers.add(f);
      }
      return { total: list.items.length, withFinalizers, finalizers: [...finalizers] };
    },
    async updateStatus(ns) {
      return (await client.resource(NAMESPACES, '').updateStatus(ns as KubeObject)) as Namespace;
    },
    async finalize(ns) {
      return client.request<Namespace>({ method: 'PUT', path: `/api/v1/namespaces/${encodeURIComponent(ns.metadata!.name!)}/finalize`, body: ns });
    },
  };
}

const NAMESPACES = RESOURCES.find((r) => r.group === '' && r.resource === 'namespaces')!;

/** Namespaced resources whose objects the controller removes. */
export const DELETABLE_RESOURCES = preferredResources(RESOURCES).filter((r) => r.namespaced && r.verbs.includes('deletecollection') && r.verbs.includes('list'));

export interface NamespaceControllerOptions {
  namespaceInformer: Informer<KubeObject>;
  content: NamespaceContentClient;
  resources?: readonly ResourceInfo[];
  clock?: Clock;
  logger?: Logger;
  /** How long to wait before checking a namespace whose content is still going away. */
  recheckMs?: number;
}

export class NamespaceController implements RunnableController {
  readonly name = 'namespace-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: NamespaceControllerOptions;
  private readonly clock: Clock;
  private readonly resources: readonly ResourceInfo[];

  constructor(opts: NamespaceControllerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.resources = opts.resources ?? DELETABLE_RESOURCES;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    opts.namespaceInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, ns) => enqueue(ns) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(name: string): Promise<void> {
    const ns = this.opts.namespaceInformer.lister.get('', name) as unknown as Namespace | undefined;
    if (!ns?.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;

    const failures: string[] = [];
    for (const info of this.resources) {
      try {
        await this.opts.content.deleteCollection(info, name);
      } catch (err) {
        if (!isNotFound(err)) failures.push(`${info.resource}${info.group ? '.' + info.group : ''}: ${(err as Error).message}`);
      }
    }
    const remaining: string[] = [];
    const finalizers = new Map<string, number>();
    for (const info of this.resources) {
      try {
        const c = await this.opts.content.count(info, name);
        if (c.total > 0) remaining.push(`${info.resource}${info.group ? '.' + info.group : ''} has ${c.total} resource instances`);
        for (const f of c.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + c.withFinalizers);
      } catch (err) {
        if (!isNotFound(err)) failures.push(`${info.resource}: ${(err as Error).message}`);
      }
    }

    if (remaining.length || failures.length) {
      await this.writeConditions(ns, deletionConditions(remaining, finalizers, failures, nowRFC3339(this.clock)));
      if (failures.length) throw new Error(`failed to delete all content of namespace ${name}: ${failures.join('; ')}`);
      this.queue.addAfter(name, this.opts.recheckMs ?? 2000);
      return;
    }
    const next = structuredClone(ns);
    next.spec = { ...next.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) };
    try {
      await this.opts.content.finalize(next);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  private async writeConditions(ns: Namespace, conditions: NamespaceCondition[]): Promise<void> {
    const current = ns.status?.conditions ?? [];
    const merged = conditions.map((c) => {
      const old = current.find((o) => o.type === c.type);
      return old && old.status === c.status && old.reason === c.reason && old.message === c.message ? old : c;
    });
    if (JSON.stringify(merged) === JSON.stringify(current)) return;
    try {
      await this.opts.content.updateStatus({ ...ns, status: { ...ns.status, conditions: merged } });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
      this.queue.addRateLimited(ns.metadata!.name!);
    }
  }
}

/** The conditions a Terminating namespace reports, as upstream's namespaced resources deleter writes them. */
export function deletionConditions(remaining: string[], finalizers: Map<string, number>, failures: string[], now: string): NamespaceCondition[] {
  const c = (type: string, status: 'True' | 'False', reason: string, message: string): NamespaceCondition => ({ type, status, reason, message, lastTransitionTime: now });
  const fins = [...finalizers.entries()].sort(([a], [b]) => a.localeCompare(b));
  return [
    c('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
    c('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
    failures.length
      ? c('NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(', ')}`)
      : c('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
    remaining.length
      ? c('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${remaining.join(', ')}`)
      : c('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
    fins.length
      ? c(
          'NamespaceFinalizersRemaining',
          'True',
          'SomeFinalizersRemain',
          `Some content in the namespace has finalizers remaining: ${fins.map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}`,
        )
      : c('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
  ];
}
