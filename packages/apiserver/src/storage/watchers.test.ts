import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import type { Predicate } from './interface.js';
import { IndexedWatchers, indexedTriggerFor } from './watchers.js';

const trigger = indexedTriggerFor('/registry/pods/')!;

function onNode(node: string): Predicate {
  const p: Predicate = (obj) => obj.spec?.nodeName === node;
  p.requiresExactMatch = (field) => (field === 'spec.nodeName' ? node : undefined);
  return p;
}

function pod(nodeName?: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: nodeName === undefined ? {} : { nodeName } };
}

function offered(ws: IndexedWatchers<string>, object: KubeObject | null, prev: KubeObject | null): string[] {
  const out: string[] = [];
  ws.forEvent(object, prev, (w) => out.push(w));
  return out.sort();
}

describe('IndexedWatchers (indexed triggers)', () => {
  it('offers an event only to its node’s watchers and the unindexed ones', () => {
    const ws = new IndexedWatchers<string>(trigger);
    for (let i = 0; i < 100; i++) ws.add(`node-${i}`, onNode(`node-${i}`));
    ws.add('all', undefined);
    ws.add('labels', Object.assign((() => true) as Predicate, { requiresExactMatch: () => undefined }));
    expect(ws.size).toBe(102);
    expect(ws.indexedCount).toBe(100);
    expect(offered(ws, pod('node-7'), null)).toEqual(['all', 'labels', 'node-7']);
    // unscheduled pods: only unindexed watchers (no watcher selects spec.nodeName=)
    expect(offered(ws, pod(), null)).toEqual(['all', 'labels']);
    // a deletion carries only the previous state
    expect(offered(ws, null, pod('node-3'))).toEqual(['all', 'labels', 'node-3']);
  });

  it('offers a change of the field to the watchers of the old and the new value, once each', () => {
    const ws = new IndexedWatchers<string>(trigger);
    ws.add('a', onNode('node-a'));
    ws.add('b', onNode('node-b'));
    ws.add('b2', onNode('node-b'));
    expect(offered(ws, pod('node-b'), pod('node-a'))).toEqual(['a', 'b', 'b2']);
    expect(offered(ws, pod('node-b'), pod('node-b'))).toEqual(['b', 'b2']);
    // binding: '' -> node-a
    expect(offered(ws, pod('node-a'), pod())).toEqual(['a']);
  });

  it('forgets deleted watchers and offers everything to everyone without a trigger', () => {
    const ws = new IndexedWatchers<string>(trigger);
    ws.add('a', onNode('node-a'));
    ws.add('all', undefined);
    expect(ws.delete('a')).toBe(true);
    expect(ws.delete('a')).toBe(false);
    expect(offered(ws, pod('node-a'), null)).toEqual(['all']);
    expect([...ws]).toEqual(['all']);
    ws.clear();
    expect(ws.size).toBe(0);

    const plain = new IndexedWatchers<string>(indexedTriggerFor('/registry/services/'));
    plain.add('a', onNode('node-a'));
    plain.add('b', onNode('node-b'));
    expect(offered(plain, pod('node-a'), null)).toEqual(['a', 'b']);
  });
});
