// Request keys `__proto__`, `constructor` and `prototype` through every merge function: nothing may
// reach Object.prototype, and where the schema has a map (ConfigMap data, labels) the key is data.
import { afterEach, describe, expect, it } from 'vitest';
import { schemaLookup } from '../schema/schema.js';
import { apply, updateManagedFields } from './apply.js';
import { FieldSet } from './fieldset.js';
import { applyJSONPatch } from './json-patch.js';
import { mergePatch } from './merge.js';
import { createThreeWayMergePatch, createTwoWayMergePatch, strategicMergePatch } from './strategic.js';

type Obj = any;
const j = (s: string): Obj => JSON.parse(s);
const configMapType = schemaLookup.rootType('v1', 'ConfigMap')!;
const deploymentType = schemaLookup.rootType('apps/v1', 'Deployment')!;
const GRANT = '{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}';
const NOW = '2024-05-01T10:00:00Z';

const configMap = (): Obj => j('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"app":"web"}},"data":{"keep":"me"}}');
const deployment = (): Obj =>
  j(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"d"}},
    "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"web","image":"nginx","env":[{"name":"A","value":"1"}]}]}}}}`);

/** Pollution payloads, as decoded JSON (own `__proto__` keys), top level and nested. */
const PAYLOADS = [
  `{"__proto__":${GRANT}}`,
  `{"constructor":{"prototype":${GRANT}}}`,
  `{"metadata":{"__proto__":${GRANT}}}`,
  `{"metadata":{"constructor":{"prototype":${GRANT}}}}`,
  `{"metadata":{"labels":{"__proto__":${GRANT}}}}`,
  `{"data":{"__proto__":${GRANT},"constructor":{"prototype":${GRANT}}}}`,
  `{"spec":{"__proto__":${GRANT},"template":{"spec":{"containers":[{"name":"web","__proto__":${GRANT},"env":[{"name":"A","__proto__":${GRANT}}]}]}}}}`,
  `{"spec":{"template":{"spec":{"containers":[{"name":"__proto__","image":"x"},{"name":"constructor","image":"y"}]}}}}`,
  `{"$setElementOrder/__proto__":[${GRANT}],"$setElementOrder/constructor":[]}`,
  `{"metadata":{"$deleteFromPrimitiveList/__proto__":["x"],"$deleteFromPrimitiveList/constructor":["y"]}}`,
  `{"spec":{"strategy":{"$retainKeys":["__proto__","type"],"__proto__":${GRANT}}}}`,
  `{"metadata":{"__proto__":{"$patch":"replace","apiGroups":["*"]},"labels":{"$patch":"replace","__proto__":"x"}}}`,
];

const probe = (): Obj => ({});
function expectClean(what: string): void {
  expect(probe().apiGroups, what).toBeUndefined();
  expect(probe().resources, what).toBeUndefined();
  expect(probe().verbs, what).toBeUndefined();
  expect(Object.getPrototypeOf(probe()), what).toBe(Object.prototype);
}

/** Every object in the value has Object.prototype as its prototype (a `__proto__` key never became one). */
function expectPlain(v: unknown, what: string): void {
  if (Array.isArray(v)) v.forEach((x) => expectPlain(x, what));
  else if (v && typeof v === 'object') {
    expect(Object.getPrototypeOf(v), what).toBe(Object.prototype);
    Object.values(v).forEach((x) => expectPlain(x, what));
  }
}

afterEach(() => {
  for (const k of ['apiGroups', 'resources', 'verbs']) delete (Object.prototype as Obj)[k];
});

describe.each([
  ['ConfigMap', configMap, configMapType],
  ['Deployment', deployment, deploymentType],
] as const)('pollution payloads against a %s', (_kind, make, type) => {
  it.each(PAYLOADS)('strategic merge patch %s', (payload) => {
    let out: Obj;
    try {
      out = strategicMergePatch(make(), j(payload), type);
    } catch (e) {
      expect((e as Error).name).toBe('StrategicMergePatchError');
      expectClean(payload);
      return;
    }
    expectClean(payload);
    expectPlain(out, payload);
  });

  it.each(PAYLOADS)('JSON merge patch %s', (payload) => {
    const out = mergePatch(make(), j(payload));
    expectClean(payload);
    expectPlain(out, payload);
  });

  it.each(PAYLOADS)('server-side apply %s', (payload) => {
    const live = make();
    const applied = { ...mergePatch(make(), j(payload)) as Obj };
    const first = apply<Obj>(live, applied, 'a', type, { force: true, now: NOW, apiVersion: live.apiVersion });
    expectClean(payload);
    expectPlain(first.object, payload);
    // Applying again (ownership recorded for these keys) and an update from another manager.
    const again = apply<Obj>(first.object, make(), 'a', type, { force: true, now: NOW, apiVersion: live.apiVersion });
    updateManagedFields(again.object, mergePatch(again.object, j(payload)) as Obj, 'b', type, { now: NOW, apiVersion: live.apiVersion });
    expectClean(payload);
    expectPlain(again.object, payload);
  });

  it.each(PAYLOADS)('two- and three-way patches %s', (payload) => {
    const modified = mergePatch(make(), j(payload)) as Obj;
    const twoWay = createTwoWayMergePatch(make(), modified, type);
    const back = createTwoWayMergePatch(modified, make(), type);
    expectPlain(twoWay, payload);
    expectPlain(back, payload);
    try {
      createThreeWayMergePatch(make(), modified, make(), type);
      createThreeWayMergePatch(modified, make(), modified, type, false);
    } catch (e) {
      expect((e as Error).name).toBe('StrategicMergePatchError');
    }
    expectClean(payload);
  });
});

describe('prototype member names are data in maps', () => {
  const data = '{"__proto__":"p","constructor":"c","prototype":"q","toString":"t"}';

  it('strategic merge patch sets, merges and deletes them in ConfigMap data and labels', () => {
    let cm = strategicMergePatch(configMap(), j(`{"data":${data},"metadata":{"labels":{"constructor":"x"}}}`), configMapType);
    expect(cm.data).toEqual(j('{"keep":"me","__proto__":"p","constructor":"c","prototype":"q","toString":"t"}'));
    expect(cm.metadata.labels).toEqual({ app: 'web', constructor: 'x' });
    cm = strategicMergePatch(cm, j('{"data":{"__proto__":"p2","constructor":null}}'), configMapType);
    expect(cm.data).toEqual(j('{"keep":"me","__proto__":"p2","prototype":"q","toString":"t"}'));
    cm = strategicMergePatch(cm, j('{"data":{"__proto__":null}}'), configMapType);
    expect(Object.keys(cm.data)).toEqual(['keep', 'prototype', 'toString']);
    // A null for a member the map does not have is not an inherited match.
    expect(strategicMergePatch(configMap(), j('{"data":{"hasOwnProperty":null}}'), configMapType).data).toEqual({ keep: 'me' });
  });

  it('strategic merge patch merges list items whose merge key is __proto__ or constructor', () => {
    const d = strategicMergePatch(deployment(), j('{"spec":{"template":{"spec":{"containers":[{"name":"__proto__","image":"a"},{"name":"constructor","image":"b"}]}}}}'), deploymentType);
    expect(d.spec.template.spec.containers.map((c: Obj) => c.name)).toEqual(['__proto__', 'constructor', 'web']);
    const e = strategicMergePatch(d, j('{"spec":{"template":{"spec":{"containers":[{"name":"__proto__","$patch":"delete"},{"name":"constructor","image":"c"}]}}}}'), deploymentType);
    expect(e.spec.template.spec.containers).toEqual([{ name: 'constructor', image: 'c' }, d.spec.template.spec.containers[2]]);
  });

  it('two-way patches carry them as keys', () => {
    const modified = configMap();
    modified.data = j(`{"keep":"me","__proto__":"p"}`);
    const patch = createTwoWayMergePatch(configMap(), modified, configMapType);
    expect(patch).toEqual(j('{"data":{"__proto__":"p"}}'));
    expect(createTwoWayMergePatch(modified, configMap(), configMapType)).toEqual(j('{"data":{"__proto__":null}}'));
    expect(strategicMergePatch(configMap(), patch, configMapType)).toEqual(modified);
  });

  it('server-side apply owns and prunes them', () => {
    const cfg = configMap();
    cfg.data = j(data);
    const first = apply<Obj>(null, cfg, 'a', configMapType, { force: false, now: NOW, apiVersion: 'v1' });
    expect(first.object.data).toEqual(j(data));
    const fields = first.managedFields[0]!.fieldsV1 as Obj;
    expect(Object.keys(fields['f:data'])).toEqual(expect.arrayContaining(['f:__proto__', 'f:constructor']));
    expect(FieldSet.fromFieldsV1(fields).has(['f:data', 'f:__proto__'])).toBe(true);
    const second = apply<Obj>(first.object, j('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"constructor":"c2"}}'), 'a', configMapType, {
      force: false,
      now: NOW,
      apiVersion: 'v1',
    });
    expect(second.object.data).toEqual({ constructor: 'c2' });
  });

  it('JSON merge patch and JSON patch set them as keys', () => {
    expect(mergePatch(configMap(), j(`{"data":${data}}`))).toEqual({ ...configMap(), data: j(`{"keep":"me",${data.slice(1)}`) });
    const out = applyJSONPatch(configMap(), j('[{"op":"add","path":"/data/__proto__","value":"p"},{"op":"add","path":"/data/constructor","value":"c"}]'));
    expect(out.data).toEqual(j('{"keep":"me","__proto__":"p","constructor":"c"}'));
  });

  it('managedFields sent with __proto__ keys neither pollute nor lose them', () => {
    const obj = configMap();
    obj.metadata.managedFields = [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: j(`{"__proto__":${GRANT},"f:data":{"f:__proto__":{}}}`) }];
    const { managedFields } = updateManagedFields<Obj>(null, obj, 'm', configMapType, { now: NOW, apiVersion: 'v1' });
    expectClean('managedFields');
    expect(FieldSet.fromFieldsV1(managedFields[0]!.fieldsV1).has(['f:data', 'f:__proto__'])).toBe(true);
    const set = new FieldSet([['__proto__', 'apiGroups'], ['f:data', 'f:__proto__']]);
    const v1 = set.toFieldsV1();
    expectClean('toFieldsV1');
    expectPlain(v1, 'toFieldsV1');
    expect(FieldSet.fromFieldsV1(v1).equals(set)).toBe(true);
  });
});
