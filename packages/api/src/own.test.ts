import { afterEach, describe, expect, it } from 'vitest';
import { getOwn, hasOwn, setOwn } from './own.js';

const polluted = () => ({}) as Record<string, unknown>;

afterEach(() => {
  // A failing test must not leak pollution into the next one.
  for (const k of ['apiGroups', 'polluted']) delete (Object.prototype as Record<string, unknown>)[k];
});

describe('own-property helpers', () => {
  it('hasOwn and getOwn ignore inherited members', () => {
    const labels: Record<string, string> = { app: 'web' };
    for (const k of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(hasOwn(labels, k), k).toBe(false);
      expect(getOwn(labels, k), k).toBeUndefined();
    }
    expect(getOwn(labels, 'app')).toBe('web');
    expect(hasOwn(undefined, 'app')).toBe(false);
    expect(getOwn(null, 'app')).toBeUndefined();
  });

  it('getOwn reads __proto__ and constructor when they are data', () => {
    const data = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    expect(getOwn(data, '__proto__')).toBe('p');
    expect(getOwn(data, 'constructor')).toBe('c');
  });

  it('setOwn stores __proto__ as an own key and never changes a prototype', () => {
    const m: Record<string, unknown> = {};
    setOwn(m, '__proto__', { apiGroups: ['*'] });
    setOwn(m, 'constructor', { prototype: { polluted: true } });
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(polluted().apiGroups).toBeUndefined();
    expect(polluted().polluted).toBeUndefined();
    expect(Object.keys(m)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(m)).toBe('{"__proto__":{"apiGroups":["*"]},"constructor":{"prototype":{"polluted":true}}}');
    expect({ ...m }).toEqual(JSON.parse(JSON.stringify(m)));
    setOwn(m, '__proto__', 'replaced');
    expect(getOwn(m, '__proto__')).toBe('replaced');
    expect(Object.keys(m)).toEqual(['__proto__', 'constructor']);
  });
});
