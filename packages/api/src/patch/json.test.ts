import { describe, expect, it } from 'vitest';
import { deepCopy } from './json.js';

const viaText = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('deepCopy', () => {
  it('gives what a JSON round trip gives, sharing nothing with the original', () => {
    const pod = JSON.parse(
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"app":"web"},"managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{"k:{\\"name\\":\\"c\\"}":{}}}}]},"spec":{"containers":[{"name":"c","args":["a",""],"ports":[{"containerPort":80}]}],"priority":0,"hostNetwork":false},"status":null}',
    );
    Object.freeze(pod.spec);
    const copy = deepCopy(pod);
    expect(copy).toEqual(viaText(pod));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(pod));
    expect(Object.isFrozen(copy.spec)).toBe(false);
    copy.spec.containers[0].args.push('b');
    copy.metadata.labels.app = 'db';
    expect(pod.spec.containers[0].args).toEqual(['a', '']);
    expect(pod.metadata.labels.app).toBe('web');
  });

  it('drops and nulls what JSON cannot hold, as JSON.stringify does', () => {
    const odd = { a: undefined, f: () => 1, s: Symbol('x'), n: Number.NaN, i: Number.POSITIVE_INFINITY, list: [undefined, () => 1, 1], when: new Date(0) };
    expect(deepCopy(odd)).toEqual(viaText(odd));
    expect(Object.keys(deepCopy(odd))).toEqual(['n', 'i', 'list', 'when']);
    expect(deepCopy(undefined)).toBeUndefined();
  });

  it('keeps a decoded own __proto__ key as data and leaves prototypes alone', () => {
    const hostile = JSON.parse('{"data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}');
    const copy = deepCopy(hostile);
    expect(Object.keys(copy.data)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(hostile));
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
