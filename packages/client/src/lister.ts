// Read-only views over an informer's Store (client-go's generated listers).
import type { KubeObject } from '@kubelab/api';
import { NAMESPACE_INDEX, type Store } from './store.js';

/** Anything that can test a label set, e.g. a parsed label selector. */
export interface LabelMatcher {
  matches(labels: Record<string, string>): boolean;
}

export class Lister<T extends KubeObject = KubeObject> {
  constructor(private readonly store: Store<T>) {}

  /** The cached object, or undefined if it is not in the cache. Pass '' as namespace for cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined {
    return this.store.getByKey(namespace ? `${namespace}/${name}` : name);
  }

  /** Cached objects, in one namespace if given, filtered by a label selector if given. */
  list(namespace?: string, selector?: LabelMatcher): T[] {
    const objs = namespace ? this.store.byIndex(NAMESPACE_INDEX, namespace) : this.store.list();
    return selector ? objs.filter((o) => selector.matches(o.metadata?.labels ?? {})) : objs;
  }

  byIndex(indexName: string, value: string): T[] {
    return this.store.byIndex(indexName, value);
  }
}
