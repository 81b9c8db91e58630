import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { Lister } from './lister.js';
import { Store } from './store.js';

const pod = (ns: string, name: string, labels: Record<string, string> = {}, node = ''): KubeObject => ({
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node },
});

describe('Store and Lister', () => {
  it('keys objects by namespace/name and keeps the namespace and custom indexes current', () => {
    const store = new Store();
    store.addIndexer('nodeName', (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []));
    store.add(pod('a', 'p1', {}, 'n1'));
    store.add(pod('a', 'p2', {}, 'n2'));
    store.add(pod('b', 'p1', {}, 'n1'));
    store.add({ metadata: { name: 'node1' } });
    expect(store.listKeys().sort()).toEqual(['a/p1', 'a/p2', 'b/p1', 'node1']);
    expect(store.indexKeys('nodeName', 'n1').sort()).toEqual(['a/p1', 'b/p1']);
    store.update(pod('a', 'p1', {}, 'n2')); // moved: must leave the old index value
    expect(store.indexKeys('nodeName', 'n1')).toEqual(['b/p1']);
    expect(store.indexKeys('nodeName', 'n2').sort()).toEqual(['a/p1', 'a/p2']);
    store.delete(pod('a', 'p2'));
    expect(store.indexKeys('nodeName', 'n2')).toEqual(['a/p1']);
    expect(store.byIndex('namespace', 'a').map((o) => o.metadata.name)).toEqual(['p1']);
    expect(() => store.byIndex('missing', 'x')).toThrow('Index with name missing does not exist');
  });

  it('indexes existing objects when an indexer is added late', () => {
    const store = new Store();
    store.add(pod('a', 'p1', {}, 'n1'));
    store.addIndexer('nodeName', (o) => [o.spec.nodeName]);
    expect(store.indexKeys('nodeName', 'n1')).toEqual(['a/p1']);
  });

  it('lists by namespace and label selector', () => {
    const store = new Store();
    store.add(pod('a', 'web-1', { app: 'web' }));
    store.add(pod('a', 'db-1', { app: 'db' }));
    store.add(pod('b', 'web-2', { app: 'web' }));
    const lister = new Lister(store);
    const web = { matches: (l: Record<string, string>) => l.app === 'web' };
    expect(lister.list('a').map((o) => o.metadata.name).sort()).toEqual(['db-1', 'web-1']);
    expect(lister.list(undefined, web).map((o) => o.metadata.name).sort()).toEqual(['web-1', 'web-2']);
    expect(lister.list('b', web).map((o) => o.metadata.name)).toEqual(['web-2']);
    expect(lister.get('a', 'db-1')?.metadata.labels).toEqual({ app: 'db' });
    expect(lister.get('b', 'db-1')).toBeUndefined();
  });

  it('leaves the store as it was when an index function fails on an object', () => {
    const store = new Store();
    store.addIndexer('owner', (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
    store.add(pod('a', 'p1'));
    const bad = { metadata: { namespace: 'a', name: 'p1', ownerReferences: 'x' } } as unknown as KubeObject;
    expect(() => store.add(bad)).toThrow();
    expect(store.getByKey('a/p1')).toEqual(pod('a', 'p1'));
    expect(store.byIndex('namespace', 'a')).toHaveLength(1);
    store.delete(pod('a', 'p1'));
    expect(store.size).toBe(0);
  });
});
