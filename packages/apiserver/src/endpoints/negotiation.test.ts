import { describe, expect, it } from 'vitest';
import { decodeBody, negotiateOutput } from './negotiation.js';

describe('negotiateOutput', () => {
  it('serves kubectl get a Table and falls back to JSON', () => {
    const kubectl = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    expect(negotiateOutput(kubectl, true)).toEqual({ mediaType: 'application/json', as: 'table' });
    expect(negotiateOutput(kubectl, false)).toEqual({ mediaType: 'application/json', as: 'object' });
  });
  it('serves YAML and rejects protobuf-only clients with 406', () => {
    expect(negotiateOutput('application/yaml', true).mediaType).toBe('application/yaml');
    expect(negotiateOutput('application/vnd.kubernetes.protobuf, */*', true).mediaType).toBe('application/json');
    expect(() => negotiateOutput('application/vnd.kubernetes.protobuf', true)).toThrow(/media types/);
  });
});

describe('decodeBody', () => {
  it('decodes JSON and YAML, and rejects malformed input with 400', () => {
    expect(decodeBody(Buffer.from('{"a":1}'), 'application/json')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('a: 1\nb: [x]\n'), 'application/yaml')).toEqual({ a: 1, b: ['x'] });
    try {
      decodeBody(Buffer.from('{"a":'), 'application/json');
      expect.unreachable();
    } catch (err) {
      expect((err as { code: number }).code).toBe(400);
      expect((err as Error).message).toMatch(/json parse error/);
    }
    expect(() => decodeBody(Buffer.from('a: [1\n'), 'application/yaml')).toThrow(/error converting YAML to JSON/);
    expect(() => decodeBody(Buffer.from('k8s\0garbage'), 'application/vnd.kubernetes.protobuf')).toThrow(/protobuf/);
  });
});
