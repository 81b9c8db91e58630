import { describe, expect, it } from 'vitest';
import { cachedJSON, encodeListJSON } from './cached-object.js';
import { deepFreeze } from './cacher.js';

describe('cachedJSON', () => {
  it('encodes a frozen object once and a mutable one each time', () => {
    let encoded = 0;
    const spec = {
      toJSON() {
        encoded++;
        return { n: 1 };
      },
    };
    const shared = deepFreeze({ metadata: { name: 'a', resourceVersion: '5' }, spec });
    const text = '{"metadata":{"name":"a","resourceVersion":"5"},"spec":{"n":1}}';
    expect(cachedJSON(shared).toString()).toBe(text);
    expect(cachedJSON(shared).toString()).toBe(text);
    expect(encodeListJSON({ items: [shared, shared] }).toString()).toBe(`{"items":[${text},${text}]}`);
    expect(encoded).toBe(1);

    const own: { metadata: { name: string } } = { metadata: { name: 'b' } };
    expect(cachedJSON(own).toString()).toBe('{"metadata":{"name":"b"}}');
    own.metadata.name = 'c';
    expect(cachedJSON(own).toString()).toBe('{"metadata":{"name":"c"}}');
  });
});

describe('encodeListJSON', () => {
  it('writes exactly what JSON.stringify writes for a list of cached and uncached items', () => {
    const items = [
      deepFreeze({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', labels: { 'a/b': 'x"y' } }, spec: { containers: [{ name: 'c' }] } }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2', annotations: { note: 'é \u2028 \n' } }, status: {} },
    ];
    const list = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42', continue: undefined }, items };
    expect(encodeListJSON(list).equals(Buffer.from(JSON.stringify(list)))).toBe(true);
    expect(JSON.parse(encodeListJSON(list).toString()).items).toHaveLength(2);
  });

  it('keeps the list keys in their order and leaves out undefined ones, as JSON.stringify', () => {
    for (const list of [
      { kind: 'ConfigMapList', skipped: undefined, items: [], apiVersion: 'v1', metadata: {} },
      { skipped: undefined, items: [{ a: 1 }], after: undefined },
      { items: [null, 1, 'x'] },
      { metadata: { continue: 'x' }, items: [deepFreeze({ a: 'b' })], tail: 3 },
    ]) {
      expect(encodeListJSON(list).toString()).toBe(JSON.stringify(list));
    }
  });
});
