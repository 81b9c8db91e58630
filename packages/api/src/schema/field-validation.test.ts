import { describe, expect, it } from 'vitest';
import {
  duplicateFields,
  parseFieldValidation,
  strictDecodingBadRequestMessage,
  strictDecodingErrors,
  strictDecodingMessage,
  unknownFields,
  warningHeaderValue,
} from './index.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'x' }, annotations: { 'a/b': 'c' }, bogus: 1, managedFields: [{ manager: 'm', fieldsV1: { 'f:metadata': { 'f:anything': {} } } }] },
  spec: {
    containers: [
      { name: 'a', image: 'nginx', resources: { limits: { cpu: '1' } }, ports: [{ containerPort: 80 }] },
      { name: 'b', imagee: 'nginx', livenessProbe: { httpGet: { port: 'http', pathh: '/' } } },
    ],
    Volumes: [],
    extra: { nested: { deep: true } },
  },
};

describe('unknownFields', () => {
  it('returns upstream-style paths of fields the schema does not know, in document order', () => {
    expect(unknownFields(pod, 'v1', 'Pod')).toEqual(['metadata.bogus', 'spec.containers[1].imagee', 'spec.containers[1].livenessProbe.httpGet.pathh', 'spec.Volumes', 'spec.extra']);
  });

  it('accepts every known field, free-form maps and RawExtension payloads', () => {
    expect(unknownFields({ ...pod, metadata: { name: 'p' }, spec: { containers: [pod.spec.containers[0]] } }, 'v1', 'Pod')).toEqual([]);
    const rev = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { spec: { whatever: true } } };
    expect(unknownFields(rev, 'apps/v1', 'ControllerRevision')).toEqual([]);
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { a: 'b' } },
        template: {
          spec: { containers: [{ name: 'c', image: 'i', imagePullPolicy: 'Always', env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'x' } } }] }] },
        },
      },
    };
    expect(unknownFields(deploy, 'apps/v1', 'Deployment')).toEqual([]);
    expect(unknownFields({ ...deploy, spec: { ...deploy.spec, replica: 3 } }, 'apps/v1', 'Deployment')).toEqual(['spec.replica']);
  });

  it('is case-sensitive and ignores unknown kinds', () => {
    expect(unknownFields({ metadata: { Name: 'x' } }, 'v1', 'ConfigMap')).toEqual(['metadata.Name']);
    expect(unknownFields({ foo: 1 }, 'v1', 'NoSuchKind')).toEqual([]);
  });
});

describe('duplicateFields', () => {
  it('finds duplicated keys at any depth, with their paths', () => {
    expect(duplicateFields('{"a":1,"b":{"c":[{"d":1,"d":2}]},"a":3}')).toEqual(['b.c[0].d', 'a']);
    expect(duplicateFields('{"metadata":{"name":"x","name":"y"}}')).toEqual(['metadata.name']);
    expect(duplicateFields('{"a":"\\"a\\"","b":{"\\u0061":1,"a":2}}')).toEqual(['b.a']);
    expect(duplicateFields('{"a":[],"b":{}, "c": [1, 2.5e3, true, null]}')).toEqual([]);
  });

  it('throws on malformed JSON', () => {
    expect(() => duplicateFields('{"a":1,}')).toThrow(SyntaxError);
    expect(() => duplicateFields('{"a":1} x')).toThrow(SyntaxError);
  });
});

describe('strictDecodingErrors', () => {
  it('reports unknown and duplicate fields of the body as upstream strict decoding does', () => {
    const body =
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","name":"q","labels":{"a":"1","a":"2"}},' +
      '"spec":{"containers":[{"name":"c","imagee":"x","imagee":"y","image":"i","image":"j"}],"foo":{"bar":1,"bar":2}}}';
    expect(strictDecodingErrors(body, 'v1', 'Pod')).toEqual([
      'duplicate field "metadata.name"',
      'duplicate field "metadata.labels.a"',
      'unknown field "spec.containers[0].imagee"',
      'duplicate field "spec.containers[0].image"',
      'unknown field "spec.foo"',
    ]);
    expect(strictDecodingErrors('{"apiVersion":"apps/v1","kind":"ControllerRevision","data":{"x":1,"x":2},"revision":1}', 'apps/v1', 'ControllerRevision')).toEqual([]);
  });

  it('formats messages like the apiserver', () => {
    const errs = ['unknown field "spec.containers[0].imagee"', 'duplicate field "metadata.name"'];
    expect(strictDecodingMessage(errs)).toBe('strict decoding error: unknown field "spec.containers[0].imagee", duplicate field "metadata.name"');
    expect(strictDecodingBadRequestMessage('apps/v1', 'Deployment', errs.slice(0, 1))).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.containers[0].imagee"',
    );
    expect(warningHeaderValue(errs[0]!)).toBe('299 - "unknown field \\"spec.containers[0].imagee\\""');
  });

  it('parses the fieldValidation directive (default Warn)', () => {
    expect(parseFieldValidation(undefined)).toBe('Warn');
    expect(parseFieldValidation('')).toBe('Warn');
    expect(parseFieldValidation('Strict')).toBe('Strict');
    expect(parseFieldValidation('Ignore')).toBe('Ignore');
    expect(parseFieldValidation('strict')).toBeUndefined();
  });
});
