import { describe, expect, it } from 'vitest';
import { DecodeError, cannotBeHandledMessage, decode, decodeAs, parseRFC3339, schemaLookup } from './index.js';

const errorOf = (body: unknown, apiVersion: string, kind: string): string => {
  try {
    decode(body, apiVersion, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return (e as Error).message;
  }
  throw new Error('decoded without error');
};

const pod = (extra: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', ...extra },
  spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
});

describe('decode: type mismatches, worded as encoding/json', () => {
  it('structs, maps and lists of the wrong JSON type', () => {
    expect(errorOf({ metadata: 'x' }, 'v1', 'Pod')).toBe('json: cannot unmarshal string into Go struct field Pod.metadata of type v1.ObjectMeta');
    expect(errorOf({ spec: [] }, 'v1', 'Pod')).toBe('json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec');
    expect(errorOf(pod({ labels: 'y' }), 'v1', 'Pod')).toBe('json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string');
    expect(errorOf(pod({ ownerReferences: 'x' }), 'v1', 'Pod')).toBe(
      'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference',
    );
    expect(errorOf({ data: [1] }, 'v1', 'ConfigMap')).toBe('json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string');
  });

  it('list items and map values: the path has no index or key, the struct is the innermost one', () => {
    expect(errorOf(pod({ finalizers: [1] }), 'v1', 'Pod')).toBe('json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string');
    expect(errorOf({ data: { a: 1 } }, 'v1', 'ConfigMap')).toBe('json: cannot unmarshal number into Go struct field ConfigMap.data of type string');
    expect(errorOf(pod({ labels: { a: true } }), 'v1', 'Pod')).toBe('json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string');
    expect(errorOf(pod({}, { containers: [{ name: 'c', image: 5 }] }), 'v1', 'Pod')).toBe('json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
    expect(errorOf(pod({}, { containers: ['c'] }), 'v1', 'Pod')).toBe('json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container');
    const deploy = { spec: { template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } } } };
    expect(errorOf(deploy, 'apps/v1', 'Deployment')).toBe('json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32');
  });

  it('int32 and int64 ranges, integers only', () => {
    expect(errorOf({ spec: { replicas: 3000000000 } }, 'autoscaling/v1', 'Scale')).toBe('json: cannot unmarshal number 3000000000 into Go struct field ScaleSpec.spec.replicas of type int32');
    expect(errorOf({ spec: { replicas: -2147483649 } }, 'apps/v1', 'Deployment')).toBe('json: cannot unmarshal number -2147483649 into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect(errorOf({ spec: { replicas: 1.5 } }, 'apps/v1', 'ReplicaSet')).toBe('json: cannot unmarshal number 1.5 into Go struct field ReplicaSetSpec.spec.replicas of type int32');
    expect(errorOf({ spec: { replicas: '3' } }, 'apps/v1', 'ReplicaSet')).toBe('json: cannot unmarshal string into Go struct field ReplicaSetSpec.spec.replicas of type int32');
    expect(decode({ spec: { replicas: 2147483647 } }, 'apps/v1', 'ReplicaSet').object).toEqual({ spec: { replicas: 2147483647 } });
    expect(decode({ spec: { replicas: -2147483648 } }, 'apps/v1', 'ReplicaSet').object).toEqual({ spec: { replicas: -2147483648 } });
    // int64: 2^53 and more are fine, 2^63 is not.
    expect(decode(pod({}, { activeDeadlineSeconds: 3000000000 }), 'v1', 'Pod').unknownFields).toEqual([]);
    expect(decode(pod({}, { activeDeadlineSeconds: 2 ** 62 }), 'v1', 'Pod').unknownFields).toEqual([]);
    expect(errorOf(pod({}, { activeDeadlineSeconds: 2 ** 64 }), 'v1', 'Pod')).toBe(`json: cannot unmarshal number ${2 ** 64} into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64`);
    const deleteOptions = schemaLookup.typeByName('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions')!;
    expect(() => decodeAs({ gracePeriodSeconds: 'x' }, deleteOptions)).toThrow('json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64');
  });

  it('booleans, times, quantities and int-or-string', () => {
    expect(errorOf(pod({}, { hostNetwork: 'true' }), 'v1', 'Pod')).toBe('json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool');
    expect(errorOf(pod({ creationTimestamp: 'garbage' }), 'v1', 'Pod')).toBe('parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"');
    expect(errorOf(pod({ creationTimestamp: 5 }), 'v1', 'Pod')).toBe('json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string');
    expect(decode(pod({ creationTimestamp: '2024-02-29T10:00:00Z' }), 'v1', 'Pod').unknownFields).toEqual([]);
    const limits = (v: unknown) => pod({}, { containers: [{ name: 'c', resources: { limits: { cpu: v } } }] });
    expect(errorOf(limits('1 core'), 'v1', 'Pod')).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    expect(errorOf(limits(true), 'v1', 'Pod')).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    expect(decode(limits('500m'), 'v1', 'Pod').unknownFields).toEqual([]);
    expect(decode(limits(2), 'v1', 'Pod').unknownFields).toEqual([]);
    const port = (v: unknown) => ({ spec: { ports: [{ port: 80, targetPort: v }] } });
    expect(decode(port('http'), 'v1', 'Service').object).toEqual(port('http'));
    expect(decode(port(8080), 'v1', 'Service').object).toEqual(port(8080));
    expect(errorOf(port(3000000000), 'v1', 'Service')).toBe('json: cannot unmarshal number 3000000000 into Go struct field ServicePort.spec.ports.targetPort of type int32');
    expect(errorOf(port(true), 'v1', 'Service')).toBe('json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32');
  });

  it('a parser error (time, quantity, int-or-string) wins over an earlier plain mismatch; else the first one wins', () => {
    expect(errorOf(pod({ labels: 'y', creationTimestamp: 'garbage' }), 'v1', 'Pod')).toMatch(/^parsing time "garbage"/);
    expect(errorOf(pod({ labels: 'y', finalizers: [1] }), 'v1', 'Pod')).toMatch(/metadata\.labels of type map/);
  });

  it('does not look into free-form payloads', () => {
    const rev = { metadata: { name: 'r', managedFields: [{ manager: 'm', fieldsV1: { 'f:x': 1 } }] }, revision: 1, data: { spec: 'anything', n: [1, 'a'] } };
    expect(decode(rev, 'apps/v1', 'ControllerRevision')).toEqual({ object: rev, unknownFields: [] });
  });

  it('wraps in the create/update message', () => {
    expect(cannotBeHandledMessage('apps/v1', 'Deployment', 'e')).toBe('Deployment in version "v1" cannot be handled as a Deployment: e');
  });
});

describe('decode: nulls', () => {
  it('accepts null anywhere and drops null struct fields, as a typed decode leaves them unset', () => {
    const { object } = decode({ metadata: { name: 'p', labels: null, finalizers: null }, spec: null, status: { phase: null } }, 'v1', 'Pod');
    expect(object).toEqual({ metadata: { name: 'p' }, status: {} });
  });

  it('null list items and map values become the zero value', () => {
    const { object } = decode({ metadata: { labels: { a: null }, finalizers: ['f', null] } }, 'v1', 'ConfigMap');
    expect(object).toEqual({ metadata: { labels: { a: '' }, finalizers: ['f', ''] } });
  });

  it('keeps null struct fields when asked (apply configurations)', () => {
    const body = { metadata: { name: 'p', labels: null, annotations: { a: null } } };
    expect(decode(body, 'v1', 'ConfigMap', { keepNulls: true }).object).toBe(body);
  });
});

describe('decode: unknown fields', () => {
  it('drops them at any depth and returns their paths in document order', () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', bogus: 1 },
      spec: {
        replica: 3,
        template: { spec: { containers: [{ name: 'a', image: 'i' }, { name: 'b', imagee: 'x', ports: [{ containerPort: 80, portt: 1 }] }] } },
      },
      extra: { x: 1 },
    };
    const { object, unknownFields } = decode(body, 'apps/v1', 'Deployment');
    expect(unknownFields).toEqual(['metadata.bogus', 'spec.replica', 'spec.template.spec.containers[1].imagee', 'spec.template.spec.containers[1].ports[0].portt', 'extra']);
    expect(object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { template: { spec: { containers: [{ name: 'a', image: 'i' }, { name: 'b', ports: [{ containerPort: 80 }] }] } } },
    });
  });

  it('never mutates its input and shares the subtrees that did not change', () => {
    const body = { metadata: { name: 'c', bogus: 1 }, data: { a: 'b' } };
    const frozen = structuredClone(body);
    const { object } = decode(body, 'v1', 'ConfigMap');
    expect(body).toEqual(frozen);
    expect(object.data).toBe(body.data);
    const clean = { metadata: { name: 'c' }, data: { a: 'b' } };
    expect(decode(clean, 'v1', 'ConfigMap').object).toBe(clean);
  });

  it('map values are looked into; undefined fields count as absent', () => {
    expect(decode({ spec: { nodeSelector: { a: 'b' }, overhead: { cpu: '1' } }, status: undefined }, 'v1', 'Pod').unknownFields).toEqual([]);
    const cm = { data: { 'k.x': 'v' }, binaryData: {}, foo: { bar: 1 } };
    expect(decode(cm, 'v1', 'ConfigMap').unknownFields).toEqual(['foo']);
  });

  it('leaves unknown kinds alone', () => {
    const body = { anything: [1] };
    expect(decode(body, 'v1', 'NoSuchKind')).toEqual({ object: body, unknownFields: [] });
  });
});

describe('parseRFC3339', () => {
  it('reports what time.Parse reports', () => {
    expect(parseRFC3339('2024-01-02T03:04:05Z', false)).toBeUndefined();
    expect(parseRFC3339('2024-01-02T03:04:05.123456+02:00', false)).toBeUndefined();
    expect(parseRFC3339('2024-01-02', false)).toBe('parsing time "2024-01-02" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"');
    expect(parseRFC3339('2024-13-02T03:04:05Z', false)).toBe('parsing time "2024-13-02T03:04:05Z": month out of range');
    expect(parseRFC3339('2023-02-29T03:04:05Z', false)).toBe('parsing time "2023-02-29T03:04:05Z": day out of range');
    expect(parseRFC3339('2024-01-02T03:04:05Zjunk', false)).toBe('parsing time "2024-01-02T03:04:05Zjunk": extra text: "junk"');
    expect(parseRFC3339('2024-01-02T03:04:05', false)).toBe('parsing time "2024-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
    expect(parseRFC3339('x', true)).toBe('parsing time "x" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "x" as "2006"');
  });
});

describe('decode: base64 ([]byte) fields', () => {
  const secret = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
  it('accepts padded standard base64 (and empty values)', () => {
    for (const v of ['', 'YQ==', 'YWI=', 'YWJj', 'YWJjZA==', 'YWJj\nZA==']) expect(() => decode(secret({ k: v }), 'v1', 'Secret'), v).not.toThrow();
  });
  it('reports where decoding stops, as encoding/base64', () => {
    expect(errorOf(secret({ k: 'not base64!' }), 'v1', 'Secret')).toBe('illegal base64 data at input byte 3');
    expect(errorOf(secret({ k: 'YQ' }), 'v1', 'Secret')).toBe('illegal base64 data at input byte 0');
    expect(errorOf(secret({ k: 'YWJjZA' }), 'v1', 'Secret')).toBe('illegal base64 data at input byte 4');
    expect(errorOf(secret({ k: 'YQ=a' }), 'v1', 'Secret')).toBe('illegal base64 data at input byte 2');
    expect(errorOf(secret({ k: 1 }), 'v1', 'Secret')).toBe('json: cannot unmarshal number into Go struct field Secret.data of type []uint8');
    expect(errorOf({ binaryData: 'x' }, 'v1', 'ConfigMap')).toBe('json: cannot unmarshal string into Go struct field ConfigMap.binaryData of type map[string][]uint8');
  });
});
