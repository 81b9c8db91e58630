import { afterEach, describe, expect, it } from 'vitest';
import { mergePatch } from './merge.js';

const j = (s: string) => JSON.parse(s) as unknown;
const GRANT = '{"apiGroups":["*"],"resources":["*"]}';

afterEach(() => {
  for (const k of ['apiGroups', 'resources', 'polluted']) delete (Object.prototype as Record<string, unknown>)[k];
});

describe('JSON merge patch (RFC 7386)', () => {
  it('follows the RFC examples', () => {
    const cases: [string, string, string][] = [
      ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
      ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
      ['{"a":"b"}', '{"a":null}', '{}'],
      ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
      ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
      ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
      ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
      ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
      ['["a","b"]', '["c","d"]', '["c","d"]'],
      ['{"a":"b"}', '["c"]', '["c"]'],
      ['{"a":"foo"}', 'null', 'null'],
      ['{"a":"foo"}', '"bar"', '"bar"'],
      ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
      ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
      ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
    ];
    for (const [target, patch, want] of cases) expect(mergePatch(j(target), j(patch)), `${target} + ${patch}`).toEqual(j(want));
  });

  it('does not modify its arguments', () => {
    const target = j('{"a":{"b":"c"},"d":"e"}');
    const patch = j('{"a":{"b":null},"d":"f"}');
    mergePatch(target, patch);
    expect(target).toEqual(j('{"a":{"b":"c"},"d":"e"}'));
    expect(patch).toEqual(j('{"a":{"b":null},"d":"f"}'));
  });

  it('treats __proto__, constructor and prototype as data, at the top level and nested', () => {
    const patches = [
      `{"__proto__":${GRANT}}`,
      `{"constructor":{"prototype":${GRANT}}}`,
      `{"metadata":{"__proto__":${GRANT},"labels":{"constructor":"x"}}}`,
      `{"data":{"__proto__":"p","constructor":"c","prototype":"q"}}`,
      `{"spec":{"template":{"__proto__":{"__proto__":${GRANT}}}}}`,
    ];
    for (const p of patches) {
      const out = mergePatch(j('{"metadata":{"name":"x"},"data":{"keep":"me"}}'), j(p)) as Record<string, unknown>;
      expect(({} as Record<string, unknown>).apiGroups, p).toBeUndefined();
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(JSON.parse(JSON.stringify(out)), p).toEqual(out);
    }
    const out = mergePatch(j('{"data":{"keep":"me"}}'), j('{"data":{"__proto__":"p","constructor":"c","prototype":"q"}}'));
    expect(out).toEqual(j('{"data":{"keep":"me","__proto__":"p","constructor":"c","prototype":"q"}}'));
    expect(Object.keys((out as { data: object }).data)).toEqual(['keep', '__proto__', 'constructor', 'prototype']);
  });

  it('merges into and removes an existing __proto__ data key', () => {
    const target = j('{"data":{"__proto__":{"a":"1"},"constructor":"c"}}');
    expect(mergePatch(target, j('{"data":{"__proto__":{"b":"2"}}}'))).toEqual(j('{"data":{"__proto__":{"a":"1","b":"2"},"constructor":"c"}}'));
    expect(mergePatch(target, j('{"data":{"__proto__":null,"constructor":null}}'))).toEqual({ data: {} });
  });

  it('a null for an inherited member name removes nothing and adds nothing', () => {
    expect(mergePatch(j('{"a":"b"}'), j('{"constructor":null,"toString":null}'))).toEqual({ a: 'b' });
  });
});
