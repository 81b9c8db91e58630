// An indexed cache of objects keyed `namespace/name` (`name` for cluster-scoped objects), as
// client-go's cache.Indexer with MetaNamespaceKeyFunc. Single-threaded JS makes every operation atomic.
import type { KubeObject } from '@kubelab/api';

/** Returns the index values an object is filed under. */
export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

/** `namespace/name`, or `name` for objects without a namespace (client-go's MetaNamespaceKeyFunc). */
export function metaNamespaceKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by metaNamespaceKey into namespace ('' if cluster-scoped) and name. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function namespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata?.namespace ?? ''];
}

export class Store<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly keyFunc: (obj: T) => string = metaNamespaceKey) {
    this.addIndexer(NAMESPACE_INDEX, namespaceIndexFunc);
  }

  keyOf(obj: T): string {
    return this.keyFunc(obj);
  }

  /** Adds an index; existing objects are indexed at once. Adding a name twice is an error. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) this.indexInto(index, fn, key, obj);
  }

  /**
   * Adds or replaces an object; returns the previous one, if any. Atomic: when an index function throws
   * (a malformed object), the error propagates and the store is left as it was.
   */
  add(obj: T): T | undefined {
    const key = this.keyFunc(obj);
    const values = this.indexValues(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, vs] of values) this.fileUnder(this.indices.get(name)!, vs, key);
    return old;
  }

  update(obj: T): T | undefined {
    return this.add(obj);
  }

  /** Removes the object with the same key; returns what was stored, if anything. */
  delete(obj: T): T | undefined {
    return this.deleteKey(this.keyFunc(obj));
  }

  deleteKey(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Replaces the whole content. */
  replace(objs: T[]): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
    for (const o of objs) this.add(o);
  }

  /** Objects filed under `value` in index `indexName`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`Index with name ${indexName} does not exist`);
    return [...(index.get(value) ?? [])];
  }

  /** Every value used in an index. */
  listIndexFuncValues(indexName: string): string[] {
    return [...(this.indices.get(indexName)?.keys() ?? [])];
  }

  /** Every index's values for `obj`; throws when an index function fails or returns no list. */
  private indexValues(obj: T): [string, string[]][] {
    const out: [string, string[]][] = [];
    for (const [name, fn] of this.indexers) {
      const vs = fn(obj);
      if (!Array.isArray(vs)) throw new Error(`index ${name} returned ${typeof vs}, not a list`);
      out.push([name, vs]);
    }
    return out;
  }

  private indexInto(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    this.fileUnder(index, fn(obj), key);
  }

  private fileUnder(index: Map<string, Set<string>>, values: string[], key: string): void {
    for (const v of new Set(values)) {
      let keys = index.get(v);
      if (!keys) index.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const keys = index.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(v);
      }
    }
  }
}
