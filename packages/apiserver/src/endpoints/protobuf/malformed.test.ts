// Hand-built bodies: kinds kubectl's create commands do not send (DeleteOptions, Scale), edge cases of
// the wire format, and malformed input.
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject, ProtobufError } from './index.js';

// A tiny encoder, enough to build test messages: fields are [number, value] where a value is a
// varint (bigint or number), a string, a Buffer or a nested field list (length-delimited).
type Field = [number, bigint | number | string | Buffer | Field[]];

function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Buffer.from(out);
}

function encode(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of fields) {
    if (typeof v === 'number' || typeof v === 'bigint') {
      parts.push(varint(BigInt(n) << 3n), varint(BigInt(v)));
      continue;
    }
    const bytes = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : encode(v);
    parts.push(varint((BigInt(n) << 3n) | 2n), varint(BigInt(bytes.length)), bytes);
  }
  return Buffer.concat(parts);
}

function body(apiVersion: string, kind: string, raw: Field[] | Buffer, extra: Field[] = []): Buffer {
  const rawBytes = Buffer.isBuffer(raw) ? raw : encode(raw);
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), encode([[1, [[1, apiVersion], [2, kind]]], [2, rawBytes], ...extra])]);
}

describe('decodeProtobufObject on hand-built bodies', () => {
  it('decodes DeleteOptions, keeping a zero grace period and the preconditions', () => {
    const b = body('meta.k8s.io/v1', 'DeleteOptions', [
      [1, 0],
      [2, [[2, '42']]],
      [4, 'Foreground'],
      [5, 'All'],
    ]);
    expect(decodeProtobufObject(b)).toEqual({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'DeleteOptions',
      object: {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { resourceVersion: '42' },
        propagationPolicy: 'Foreground',
        dryRun: ['All'],
      },
    });
  });

  it('accepts DeleteOptions under any group version', () => {
    expect(decodeProtobufObject(body('apps/v1', 'DeleteOptions', [[3, 1]])).object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      orphanDependents: true,
    });
  });

  it('decodes an autoscaling/v1 Scale, keeping spec.replicas: 0 and status.replicas: 0', () => {
    const b = body('autoscaling/v1', 'Scale', [
      [1, [[1, 'web'], [3, 'default'], [6, '12'], [8, [[1, 1_700_000_000], [2, 5]]]]],
      [2, [[1, 0]]],
      [3, [[1, 0], [2, 'app=web']]],
    ]);
    expect(decodeProtobufObject(b).object).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'default', resourceVersion: '12', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: { replicas: 0 },
      status: { replicas: 0, selector: 'app=web' },
    });
  });

  it('drops the empty values Go writes for non-pointer fields and a zero creationTimestamp', () => {
    const b = body('v1', 'ConfigMap', [
      [1, [[1, 'cm'], [2, ''], [7, 0], [8, []], [11, [[1, 'a'], [2, 'b']]]]],
      [2, [[1, 'k'], [2, '']]],
      [4, 0],
    ]);
    expect(decodeProtobufObject(b).object).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', labels: { a: 'b' } },
      data: { k: '' },
      immutable: false,
    });
  });

  it('encodes Secret data as base64 and skips unknown field numbers', () => {
    const b = body('v1', 'Secret', [
      [1, [[1, 's'], [99, 'from the future']]],
      [2, [[1, 'bin'], [2, Buffer.from([0, 255])]]],
      [3, 'Opaque'],
      [77, [[1, 2]]],
    ]);
    expect(decodeProtobufObject(b).object).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { bin: 'AP8=' },
      type: 'Opaque',
    });
  });

  it('reads negative numbers, packed repeated numbers and string IntOrStrings', () => {
    const b = body('apps/v1', 'Deployment', [
      [
        2,
        [
          [1, 2],
          [4, [[1, 'RollingUpdate'], [2, [[1, [[1, 1], [3, '25%']]], [2, [[1, 0], [2, 0]]]]]]],
          [
            3,
            [
              [
                2,
                [
                  [14, [[2, -1], [4, Buffer.concat([varint(1n), varint(300n)])]]],
                  [2, [[1, 'c'], [2, 'img']]],
                ],
              ],
            ],
          ],
        ],
      ],
    ]);
    expect(decodeProtobufObject(b).object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: {
        replicas: 2,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
        template: { spec: { containers: [{ name: 'c', image: 'img' }], securityContext: { runAsUser: -1, supplementalGroups: [1, 300] } } },
      },
    });
  });

  it('rejects a body without the k8s\\0 magic', () => {
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}'))).toThrow(/magic/);
    expect(() => decodeProtobufObject(Buffer.alloc(0))).toThrow(ProtobufError);
  });

  it('rejects truncated or inconsistent bytes with a message naming the problem', () => {
    const good = body('v1', 'Namespace', [[1, [[1, 'ns']]]]);
    expect(() => decodeProtobufObject(good.subarray(0, good.length - 2))).toThrow(/malformed protobuf|runs past the end/);
    // A string field sent as a varint.
    expect(() => decodeProtobufObject(body('v1', 'Namespace', [[1, [[1, 5]]]]))).toThrow(/wire type varint/);
    // A group (wire type 3).
    expect(() => decodeProtobufObject(body('v1', 'Namespace', Buffer.from([0x0b])))).toThrow(/unsupported wire type 3/);
  });

  it('rejects kinds it has no schema for, and a missing type', () => {
    expect(() => decodeProtobufObject(body('example.com/v1', 'Widget', []))).toThrow(/no protobuf schema for Widget in example.com\/v1/);
    expect(() => decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'binary'), encode([[2, Buffer.alloc(0)]])]))).toThrow(
      /missing apiVersion or kind/,
    );
  });

  it('rejects a compressed or non-protobuf payload inside the envelope', () => {
    expect(() => decodeProtobufObject(body('v1', 'Namespace', [], [[3, 'gzip']]))).toThrow(/content encoding "gzip"/);
  });
});
