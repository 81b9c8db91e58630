// The watch cache's registry of watchers, with upstream's indexed triggers (k8s.io/apiserver's
// cacher indexedTrigger): a resource may name one field the cache indexes watchers by (pods:
// spec.nodeName). A watcher whose field selector requires that field to equal a value is kept under
// that value, so an event is offered only to the watchers of the values its object (and its previous
// state) carries, plus the watchers that are not indexed, instead of to every watcher's predicate.
// The kubelet's watch (fieldSelector=spec.nodeName=<node>) is the case this is for: with N nodes an
// event costs one predicate test instead of N.
import type { KubeObject } from '@kubelab/api';
import type { Predicate } from './interface.js';

export interface IndexedTrigger {
  /** The field (as a field selector names it) watchers are indexed by, e.g. 'spec.nodeName'. */
  indexName: string;
  /** The field's value in an object ('' when unset). */
  indexerFunc: (obj: KubeObject) => string;
}

/** The indexed triggers of the built-in resources, by watch cache prefix (as upstream's registries set TriggerFunc). */
const TRIGGERS: Readonly<Record<string, IndexedTrigger>> = {
  '/registry/pods/': {
    indexName: 'spec.nodeName',
    indexerFunc: (pod) => {
      const nodeName = (pod as { spec?: { nodeName?: unknown } }).spec?.nodeName;
      return typeof nodeName === 'string' ? nodeName : '';
    },
  },
};

export function indexedTriggerFor(resourcePrefix: string): IndexedTrigger | undefined {
  return TRIGGERS[resourcePrefix];
}

export class IndexedWatchers<W> implements Iterable<W> {
  private readonly all = new Set<W>();
  private readonly unindexed = new Set<W>();
  private readonly byValue = new Map<string, Set<W>>();
  private readonly valueOf = new Map<W, string>();

  constructor(private readonly trigger?: IndexedTrigger) {}

  get size(): number {
    return this.all.size;
  }

  /** Number of watchers kept under a trigger value (for tests and metrics). */
  get indexedCount(): number {
    return this.valueOf.size;
  }

  /** The value a watcher with this predicate is indexed under, or undefined when it is not indexed. */
  triggerValue(predicate: Predicate | undefined): string | undefined {
    return this.trigger && predicate?.requiresExactMatch?.(this.trigger.indexName);
  }

  add(w: W, predicate: Predicate | undefined): void {
    if (this.all.has(w)) return;
    this.all.add(w);
    const value = this.triggerValue(predicate);
    if (value === undefined) {
      this.unindexed.add(w);
      return;
    }
    this.valueOf.set(w, value);
    let set = this.byValue.get(value);
    if (!set) this.byValue.set(value, (set = new Set()));
    set.add(w);
  }

  delete(w: W): boolean {
    if (!this.all.delete(w)) return false;
    const value = this.valueOf.get(w);
    if (value === undefined) {
      this.unindexed.delete(w);
      return true;
    }
    this.valueOf.delete(w);
    const set = this.byValue.get(value)!;
    set.delete(w);
    if (set.size === 0) this.byValue.delete(value);
    return true;
  }

  clear(): void {
    this.all.clear();
    this.unindexed.clear();
    this.byValue.clear();
    this.valueOf.clear();
  }

  [Symbol.iterator](): Iterator<W> {
    return this.all[Symbol.iterator]();
  }

  /**
   * Calls fn for every watcher an event with this object and previous state may concern: the unindexed
   * ones and those indexed under the trigger value of either state (a pod bound to a node, or an object
   * whose field changed, reaches the watchers of the old value too, so they see it stop matching).
   */
  forEvent(object: KubeObject | null | undefined, prevObject: KubeObject | null | undefined, fn: (w: W) => void): void {
    if (!this.trigger) {
      for (const w of this.all) fn(w);
      return;
    }
    for (const w of this.unindexed) fn(w);
    if (this.byValue.size === 0) return;
    const value = object ? this.trigger.indexerFunc(object) : undefined;
    const prevValue = prevObject ? this.trigger.indexerFunc(prevObject) : undefined;
    if (value !== undefined) this.byValue.get(value)?.forEach((w) => fn(w));
    if (prevValue !== undefined && prevValue !== value) this.byValue.get(prevValue)?.forEach((w) => fn(w));
  }
}
