import { afterEach, describe, expect, it } from 'vitest';
import { applyJSONPatch } from './json-patch.js';

const j = (s: string) => JSON.parse(s) as unknown;
const doc = () => j('{"metadata":{"name":"x","labels":{"app":"web"}},"data":{"keep":"me"},"list":[{"a":1}]}');

afterEach(() => {
  for (const k of ['apiGroups', 'verbs', 'polluted']) delete (Object.prototype as Record<string, unknown>)[k];
});

describe('JSON patch (RFC 6902)', () => {
  it('applies the operations in order to a copy', () => {
    const d = doc();
    const out = applyJSONPatch(d, j(`[
      {"op":"add","path":"/data/new","value":"v"},
      {"op":"replace","path":"/metadata/name","value":"y"},
      {"op":"remove","path":"/metadata/labels/app"},
      {"op":"copy","from":"/data/keep","path":"/data/copy"},
      {"op":"move","from":"/data/new","path":"/data/moved"},
      {"op":"add","path":"/list/-","value":{"b":2}},
      {"op":"test","path":"/list/1/b","value":2}
    ]`) as unknown[]);
    expect(out).toEqual(j('{"metadata":{"name":"y","labels":{}},"data":{"keep":"me","copy":"me","moved":"v"},"list":[{"a":1},{"b":2}]}'));
    expect(d).toEqual(doc());
  });

  it('adds, reads and removes constructor and toString as data', () => {
    const out = applyJSONPatch(doc(), j(`[
      {"op":"add","path":"/data/constructor","value":"c"},
      {"op":"add","path":"/data/toString","value":"t"},
      {"op":"test","path":"/data/constructor","value":"c"},
      {"op":"move","from":"/data/toString","path":"/data/prototype"},
      {"op":"remove","path":"/data/keep"}
    ]`) as unknown[]);
    expect(out).toEqual(j('{"metadata":{"name":"x","labels":{"app":"web"}},"data":{"constructor":"c","prototype":"t"},"list":[{"a":1}]}'));
  });

  it('adds, replaces, tests and removes a __proto__ map key as data', () => {
    let out = applyJSONPatch(doc(), j(`[
      {"op":"add","path":"/data/__proto__","value":{"verbs":["*"]}},
      {"op":"test","path":"/data/__proto__","value":{"verbs":["*"]}},
      {"op":"replace","path":"/data/__proto__","value":"p"},
      {"op":"add","path":"/metadata/labels/__proto__","value":"l"}
    ]`) as unknown[]) as { data: object; metadata: { labels: object } };
    expect(({} as Record<string, unknown>).verbs).toBeUndefined();
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
    expect(out.data).toEqual(j('{"keep":"me","__proto__":"p"}'));
    expect(out.metadata.labels).toEqual(j('{"app":"web","__proto__":"l"}'));
    expect(() => applyJSONPatch(out, j('[{"op":"test","path":"/data/__proto__","value":"q"}]') as unknown[])).toThrow('testing value /data/__proto__ failed: test failed');
    out = applyJSONPatch(out, j('[{"op":"remove","path":"/data/__proto__"}]') as unknown[]);
    expect(out.data).toEqual({ keep: 'me' });
    expect(() => applyJSONPatch(out, j('[{"op":"remove","path":"/data/__proto__"}]') as unknown[])).toThrow('remove operation does not apply');
  });

  it('refuses pointers through inherited members as missing paths, and __proto__ anywhere', () => {
    const refused: [string, RegExp][] = [
      ['[{"op":"add","path":"/metadata/constructor/assign","value":1}]', /add operation does not apply: doc is missing path: "\/metadata\/constructor\/assign"/],
      ['[{"op":"replace","path":"/metadata/toString","value":1}]', /replace operation does not apply: doc is missing path/],
      ['[{"op":"remove","path":"/metadata/hasOwnProperty"}]', /remove operation does not apply/],
      ['[{"op":"test","path":"/metadata/constructor/name","value":"Object"}]', /test operation does not apply/],
      ['[{"op":"copy","from":"/metadata/constructor","path":"/data/c"}]', /copy operation does not apply/],
      ['[{"op":"move","from":"/data/valueOf","path":"/data/c"}]', /move operation does not apply/],
      ['[{"op":"add","path":"/list/0/constructor/prototype/polluted","value":1}]', /does not apply|banned/],
      ['[{"op":"add","path":"/__proto__/apiGroups","value":["*"]}]', /does not apply|banned/],
      ['[{"op":"add","path":"/list/0/__proto__","value":{"verbs":["*"]}}, {"op":"add","path":"/list/0/__proto__/x","value":1}]', /banned/],
      ['[{"op":"add","path":"/list/__proto__","value":{"verbs":["*"]}}]', /banned/],
      ['[{"op":"copy","from":"/data/keep","path":"/data/__proto__"}]', /banned/],
      ['[{"op":"add","path":"/constructor/prototype/polluted","value":1}]', /does not apply|banned/],
    ];
    for (const [ops, message] of refused) {
      expect(() => applyJSONPatch(doc(), j(ops) as unknown[]), ops).toThrow(message);
      const probe = {} as Record<string, unknown>;
      expect(probe.apiGroups ?? probe.verbs ?? probe.polluted, ops).toBeUndefined();
      expect(typeof Object.assign).toBe('function');
    }
  });
});
