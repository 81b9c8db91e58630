import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { arrayOf, mapOf, objectType, scalar } from './fake-schema.js';
import { createThreeWayMergePatch, createTwoWayMergePatch, strategicMergePatch } from './strategic.js';

// The shape of upstream's test type (strategicpatch's MergeItem): every kind of list and map strategy.
const str = scalar('string');
const int = scalar('integer');
const Item = objectType('strategicpatch.MergeItem', () => ({
  name: str,
  value: str,
  other: str,
  mergingList: { type: arrayOf(Item), patchStrategy: 'merge', patchMergeKey: 'name' },
  nonMergingList: arrayOf(Item),
  mergingIntList: { type: arrayOf(int), patchStrategy: 'merge' },
  nonMergingIntList: arrayOf(int),
  simpleMap: mapOf(str),
  replacingItem: { type: scalar('any'), patchStrategy: 'replace' },
  rawItem: scalar('any'),
  retainKeysMap: { type: RetainItem, patchStrategy: 'retainKeys' },
  retainKeysMergingList: { type: arrayOf(Item), patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' },
}));
const RetainItem = objectType('strategicpatch.RetainKeysMergeItem', () => ({
  name: str,
  value: str,
  other: str,
  simpleMap: mapOf(str),
  mergingIntList: { type: arrayOf(int), patchStrategy: 'merge' },
  mergingList: { type: arrayOf(Item), patchStrategy: 'merge', patchMergeKey: 'name' },
}));

const y = (s: string) => parse(s) ?? {};

interface RoundTrip {
  name: string;
  original: string;
  twoWay: string;
  modified: string;
  current?: string;
  threeWay?: string;
  result?: string;
}

// Each case: the two-way patch turns original into modified (and is what createTwoWayMergePatch
// computes); with current, the three-way patch (last-applied = original) applied to current gives result.
const roundTrips: RoundTrip[] = [
  {
    name: 'add a field',
    original: 'name: web',
    twoWay: 'value: v1',
    modified: 'name: web\nvalue: v1',
    current: 'name: web\nother: live',
    threeWay: 'value: v1',
    result: 'name: web\nvalue: v1\nother: live',
  },
  {
    name: 'delete a field removed from the configuration, keep fields set by others',
    original: 'name: web\nvalue: v1\nother: o',
    twoWay: 'value: v2\nother: null',
    modified: 'name: web\nvalue: v2',
    current: 'name: web\nvalue: v1\nother: o\nsimpleMap: {set: byServer}',
    threeWay: 'value: v2\nother: null',
    result: 'name: web\nvalue: v2\nsimpleMap: {set: byServer}',
  },
  {
    name: 'change and delete keys of a map',
    original: 'simpleMap: {a: "1", b: "2"}',
    twoWay: 'simpleMap: {a: "3", b: null}',
    modified: 'simpleMap: {a: "3"}',
    current: 'simpleMap: {a: "1", b: "2", c: "9"}',
    threeWay: 'simpleMap: {a: "3", b: null}',
    result: 'simpleMap: {a: "3", c: "9"}',
  },
  {
    name: 'add an item to a merging list of maps',
    original: 'mergingList: [{name: a}]',
    twoWay: `
$setElementOrder/mergingList: [{name: a}, {name: b}]
mergingList: [{name: b, value: x}]`,
    modified: 'mergingList: [{name: a}, {name: b, value: x}]',
    current: 'mergingList: [{name: a, other: live}, {name: z}]',
    threeWay: `
$setElementOrder/mergingList: [{name: a}, {name: b}]
mergingList: [{name: b, value: x}]`,
    result: 'mergingList: [{name: a, other: live}, {name: b, value: x}, {name: z}]',
  },
  {
    name: 'change a field of an item in a merging list',
    original: 'mergingList: [{name: a, value: "1"}, {name: b}]',
    twoWay: `
$setElementOrder/mergingList: [{name: a}, {name: b}]
mergingList: [{name: a, value: "2"}]`,
    modified: 'mergingList: [{name: a, value: "2"}, {name: b}]',
  },
  {
    name: 'delete an item from a merging list',
    original: 'mergingList: [{name: a}, {name: b, value: x}]',
    twoWay: `
$setElementOrder/mergingList: [{name: b}]
mergingList: [{name: a, $patch: delete}]`,
    modified: 'mergingList: [{name: b, value: x}]',
  },
  {
    name: 'delete a field of an item in a merging list',
    original: 'mergingList: [{name: a, value: x, other: y}]',
    twoWay: `
$setElementOrder/mergingList: [{name: a}]
mergingList: [{name: a, other: null}]`,
    modified: 'mergingList: [{name: a, value: x}]',
  },
  {
    name: 'three-way: modify one item, delete another, keep server-only items',
    original: 'mergingList: [{name: a}, {name: b}]',
    twoWay: `
$setElementOrder/mergingList: [{name: a}]
mergingList: [{name: a, value: "1"}, {name: b, $patch: delete}]`,
    modified: 'mergingList: [{name: a, value: "1"}]',
    current: 'mergingList: [{name: a, other: z}, {name: b}, {name: c}]',
    threeWay: `
$setElementOrder/mergingList: [{name: a}]
mergingList: [{name: a, value: "1"}, {name: b, $patch: delete}]`,
    result: 'mergingList: [{name: a, other: z, value: "1"}, {name: c}]',
  },
  {
    name: 'add to a merging list of scalars',
    original: 'mergingIntList: [1, 2]',
    twoWay: `
$setElementOrder/mergingIntList: [1, 2, 3]
mergingIntList: [3]`,
    modified: 'mergingIntList: [1, 2, 3]',
  },
  {
    name: 'delete from a merging list of scalars, keeping server-only values',
    original: 'mergingIntList: [1, 2, 3]',
    twoWay: `
$setElementOrder/mergingIntList: [1, 3]
$deleteFromPrimitiveList/mergingIntList: [2]`,
    modified: 'mergingIntList: [1, 3]',
    current: 'mergingIntList: [1, 2, 3, 9]',
    threeWay: `
$setElementOrder/mergingIntList: [1, 3]
$deleteFromPrimitiveList/mergingIntList: [2]`,
    result: 'mergingIntList: [1, 3, 9]',
  },
  {
    name: 'add and delete in a merging list of scalars',
    original: 'mergingIntList: [1, 2]',
    twoWay: `
$setElementOrder/mergingIntList: [1, 4]
$deleteFromPrimitiveList/mergingIntList: [2]
mergingIntList: [4]`,
    modified: 'mergingIntList: [1, 4]',
  },
  {
    name: 'replace a non-merging list',
    original: 'nonMergingList: [{name: a}, {name: b}]',
    twoWay: 'nonMergingList: [{name: b}]',
    modified: 'nonMergingList: [{name: b}]',
    current: 'nonMergingList: [{name: a}, {name: b}, {name: c}]',
    threeWay: 'nonMergingList: [{name: b}]',
    result: 'nonMergingList: [{name: b}]',
  },
  {
    name: 'reorder a merging list (order only)',
    original: 'mergingList: [{name: a}, {name: b}, {name: c}]',
    twoWay: '$setElementOrder/mergingList: [{name: c}, {name: a}, {name: b}]',
    modified: 'mergingList: [{name: c}, {name: a}, {name: b}]',
    current: 'mergingList: [{name: a}, {name: x}, {name: b}, {name: c}]',
    threeWay: '$setElementOrder/mergingList: [{name: c}, {name: a}, {name: b}]',
    // x sits before c in the live list, so it stays in front of it.
    result: 'mergingList: [{name: x}, {name: c}, {name: a}, {name: b}]',
  },
  {
    name: 'nested merging list inside a merging list',
    original: 'mergingList: [{name: a, mergingList: [{name: i, value: "1"}]}]',
    twoWay: `
$setElementOrder/mergingList: [{name: a}]
mergingList:
- name: a
  $setElementOrder/mergingList: [{name: i}, {name: j}]
  mergingList: [{name: j, value: "2"}]`,
    modified: 'mergingList: [{name: a, mergingList: [{name: i, value: "1"}, {name: j, value: "2"}]}]',
  },
  {
    name: 'retainKeys map clears fields missing from the configuration',
    original: 'retainKeysMap: {name: a, value: b}',
    twoWay: 'retainKeysMap: {$retainKeys: [name, other], other: c, value: null}',
    modified: 'retainKeysMap: {name: a, other: c}',
    current: 'retainKeysMap: {name: a, value: b, simpleMap: {defaulted: x}}',
    threeWay: 'retainKeysMap: {$retainKeys: [name, other], other: c, value: null}',
    result: 'retainKeysMap: {name: a, other: c}',
  },
  {
    name: 'retainKeys merging list: items keep only retained keys',
    original: 'retainKeysMergingList: [{name: a, value: x}]',
    twoWay: `
$setElementOrder/retainKeysMergingList: [{name: a}]
retainKeysMergingList: [{name: a, other: y, value: null, $retainKeys: [name, other]}]`,
    modified: 'retainKeysMergingList: [{name: a, other: y}]',
  },
  {
    name: 'replace-strategy field is replaced whole',
    original: 'replacingItem: {a: 1, b: {c: 2}}',
    twoWay: 'replacingItem: {b: {d: 3}}',
    modified: 'replacingItem: {b: {d: 3}}',
  },
];

describe('strategic merge patch round trips', () => {
  for (const c of roundTrips) {
    it(c.name, () => {
      const original = y(c.original);
      const modified = y(c.modified);
      expect(strategicMergePatch(original, y(c.twoWay), Item)).toEqual(modified);
      expect(createTwoWayMergePatch(original, modified, Item)).toEqual(y(c.twoWay));
      if (c.current) {
        const threeWay = createThreeWayMergePatch(original, modified, y(c.current), Item);
        expect(threeWay).toEqual(y(c.threeWay!));
        expect(strategicMergePatch(y(c.current), threeWay, Item)).toEqual(y(c.result!));
      }
    });
  }
});

interface Apply {
  name: string;
  original: string;
  patch: string;
  result?: string;
  error?: string;
}

const applies: Apply[] = [
  { name: 'null deletes a field', original: 'name: a\nvalue: b', patch: 'value: null', result: 'name: a' },
  { name: 'null for a missing field is dropped', original: 'name: a', patch: 'value: null', result: 'name: a' },
  { name: 'nulls inside a new map are dropped', original: 'name: a', patch: 'simpleMap: {x: "1", y: null}', result: 'name: a\nsimpleMap: {x: "1"}' },
  {
    name: 'merging list elements merge by key',
    original: 'mergingList: [{name: a, value: "1"}, {name: b}]',
    patch: 'mergingList: [{name: b, value: "2"}]',
    result: 'mergingList: [{name: a, value: "1"}, {name: b, value: "2"}]',
  },
  { name: 'merging scalar list is a union, patch items first', original: 'mergingIntList: [1, 2]', patch: 'mergingIntList: [3, 1]', result: 'mergingIntList: [3, 1, 2]' },
  { name: '$patch: delete removes a list element by key', original: 'mergingList: [{name: a}, {name: b}]', patch: 'mergingList: [{name: a, $patch: delete}]', result: 'mergingList: [{name: b}]' },
  { name: '$patch: delete of a missing element is a no-op', original: 'mergingList: [{name: a}]', patch: 'mergingList: [{name: zz, $patch: delete}]', result: 'mergingList: [{name: a}]' },
  { name: '$patch: replace on a list replaces it', original: 'mergingList: [{name: a}, {name: b}]', patch: 'mergingList: [{name: c}, {$patch: replace}]', result: 'mergingList: [{name: c}]' },
  { name: '$patch: replace on a map replaces it', original: 'simpleMap: {a: "1", b: "2"}', patch: 'simpleMap: {$patch: replace, c: "3"}', result: 'simpleMap: {c: "3"}' },
  { name: '$patch: delete on a map empties it', original: 'simpleMap: {a: "1"}\nname: n', patch: 'simpleMap: {$patch: delete}', result: 'simpleMap: {}\nname: n' },
  { name: '$patch: replace at the top level', original: 'name: a\nvalue: b', patch: '$patch: replace\nother: c', result: 'other: c' },
  { name: 'directives inside a new value are dropped', original: 'name: a', patch: 'mergingList: [{name: x}, {name: y, $patch: delete}]', result: 'name: a\nmergingList: [{name: x}]' },
  { name: '$deleteFromPrimitiveList of a missing value changes nothing', original: 'mergingIntList: [1]', patch: '$deleteFromPrimitiveList/mergingIntList: [7]', result: 'mergingIntList: [1]' },
  { name: '$deleteFromPrimitiveList does not create a missing list', original: 'name: a', patch: '$deleteFromPrimitiveList/mergingIntList: [7]', result: 'name: a' },
  {
    name: '$deleteFromPrimitiveList also works on a non-merging list',
    original: 'nonMergingIntList: [1, 2, 1]',
    patch: '$deleteFromPrimitiveList/nonMergingIntList: [1]',
    result: 'nonMergingIntList: [2]',
  },
  { name: 'non-merging lists are replaced', original: 'nonMergingIntList: [1, 2]', patch: 'nonMergingIntList: [3]', result: 'nonMergingIntList: [3]' },
  {
    name: 'unknown fields merge like a JSON merge patch',
    original: 'rawItem: {a: {b: 1, c: 2}, l: [1, 2]}',
    patch: 'rawItem: {a: {b: null, d: 3}, l: [9]}',
    result: 'rawItem: {a: {c: 2, d: 3}, l: [9]}',
  },
  { name: 'a value of another type replaces', original: 'value: "1"', patch: 'value: {x: 1}', result: 'value: {x: 1}' },
  {
    name: 'missing merge key is an error',
    original: 'mergingList: [{name: a}]',
    patch: 'mergingList: [{value: x}]',
    error: 'map: map[value:x] does not contain declared merge key: name',
  },
  {
    name: '$patch: delete without the merge key is an error',
    original: 'mergingList: [{name: a}]',
    patch: 'mergingList: [{value: x, $patch: delete}]',
    error: 'map: map[$patch:delete value:x] does not contain declared merge key: name',
  },
  { name: 'unknown $patch value is an error', original: 'simpleMap: {a: "1"}', patch: 'simpleMap: {$patch: nope}', error: 'unknown patch type: nope in map: map[$patch:nope]' },
  { name: '$patch: merge in a list is an error', original: 'mergingList: [{name: a}]', patch: 'mergingList: [{$patch: merge}]', error: 'merging lists cannot yet be specified in the patch' },
  { name: 'retainKeys must list every patched key', original: 'retainKeysMap: {name: a}', patch: 'retainKeysMap: {$retainKeys: [name], value: x}', error: 'invalid patch format of retainKeys' },
  { name: 'retainKeys must be a list', original: 'retainKeysMap: {name: a}', patch: 'retainKeysMap: {$retainKeys: name}', error: 'invalid patch format of retainKeys' },
  {
    name: '$setElementOrder must agree with the patch list order',
    original: 'mergingList: [{name: a}, {name: b}]',
    patch: '$setElementOrder/mergingList: [{name: a}, {name: b}]\nmergingList: [{name: b}, {name: a}]',
    error: "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n",
  },
  { name: 'lists of lists are refused', original: 'mergingIntList: [[1]]', patch: 'mergingIntList: [[2]]', error: 'lists of lists are not supported' },
  { name: 'mixed element types are refused', original: 'mergingIntList: [1]', patch: 'mergingIntList: [a]', error: 'list element types are not identical: [[1] [a]]' },
];

describe('strategicMergePatch', () => {
  for (const c of applies.filter((a) => a.result !== undefined || a.error !== undefined)) {
    it(c.name, () => {
      const run = () => strategicMergePatch(y(c.original), y(c.patch), Item);
      if (c.error !== undefined) expect(run).toThrow(c.error);
      else expect(run()).toEqual(y(c.result!));
    });
  }

  it('$setElementOrder orders patch items and interleaves server-only items by live order', () => {
    const out = strategicMergePatch(
      y('mergingList: [{name: a}, {name: s}, {name: b}]'),
      y('$setElementOrder/mergingList: [{name: b}, {name: c}, {name: a}]\nmergingList: [{name: c}]'),
      Item,
    );
    // s comes before b in the live list, so it is placed in front of b (upstream's mergeSortedSlice).
    expect(out).toEqual(y('mergingList: [{name: s}, {name: b}, {name: c}, {name: a}]'));
  });

  it('does not modify its arguments', () => {
    const original = y('mergingList: [{name: a, value: "1"}]\nsimpleMap: {x: "1"}');
    const patch = y('mergingList: [{name: a, value: "2"}]\nsimpleMap: {x: null}');
    const before = JSON.stringify([original, patch]);
    strategicMergePatch(original, patch, Item);
    expect(JSON.stringify([original, patch])).toBe(before);
  });

  it('without a schema, maps merge and lists replace', () => {
    expect(strategicMergePatch({ a: { b: 1 }, l: [{ name: 'x' }] }, { a: { c: 2 }, l: [{ name: 'y' }] }, undefined)).toEqual({
      a: { b: 1, c: 2 },
      l: [{ name: 'y' }],
    });
  });
});

describe('createThreeWayMergePatch', () => {
  it('with overwrite=false refuses to change a field changed since the last apply', () => {
    const lastApplied = y('value: "1"');
    const modified = y('value: "2"');
    const current = y('value: "5"');
    expect(() => createThreeWayMergePatch(lastApplied, modified, current, Item, false)).toThrow(/conflicts with changes made from original to current/);
    expect(createThreeWayMergePatch(lastApplied, modified, current, Item, true)).toEqual({ value: '2' });
  });

  it('is empty when the configuration is unchanged', () => {
    const cfg = y('name: a\nmergingList: [{name: x, value: "1"}]\nmergingIntList: [1, 2]');
    const current = y('name: a\nother: srv\nmergingList: [{name: x, value: "1", other: srv}]\nmergingIntList: [1, 2]');
    expect(createThreeWayMergePatch(cfg, cfg, current, Item)).toEqual({});
  });
});
