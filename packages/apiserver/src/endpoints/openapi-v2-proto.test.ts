import { describe, expect, it } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { encodeOpenAPIV2Document } from './openapi-v2-proto.js';
import { PROTOBUF_V2_CONTENT_TYPE, PROTOBUF_V2_RESPONSE_CONTENT_TYPE, openapiV2Document, serveOpenAPI } from './openapi.js';

type Json = Record<string, any>;

// ---- a tiny protobuf reader, just enough to walk gnostic messages in assertions ----

interface Field {
  n: number;
  wire: number;
  /** varint as bigint, fixed64 as its 8 bytes, length-delimited as its payload */
  v: bigint | Buffer;
}

function readVarint(b: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [result, pos];
    shift += 7n;
  }
}

function decode(b: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const [key, p1] = readVarint(b, pos);
    const n = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(b, p1);
      out.push({ n, wire, v });
      pos = p2;
    } else if (wire === 1) {
      out.push({ n, wire, v: b.subarray(p1, p1 + 8) });
      pos = p1 + 8;
    } else if (wire === 2) {
      const [len, p2] = readVarint(b, p1);
      const end = p2 + Number(len);
      if (end > b.length) throw new Error('truncated length-delimited field');
      out.push({ n, wire, v: b.subarray(p2, end) });
      pos = end;
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return out;
}

const all = (b: Buffer, n: number) => decode(b).filter((f) => f.n === n);
const msgs = (b: Buffer, n: number) => all(b, n).map((f) => f.v as Buffer);
const msg = (b: Buffer, n: number) => msgs(b, n)[0];
const str = (b: Buffer, n: number) => msg(b, n)?.toString('utf8');
const strs = (b: Buffer, n: number) => msgs(b, n).map((x) => x.toString('utf8'));
const bool = (b: Buffer, n: number) => {
  const f = all(b, n)[0];
  return f ? f.v === 1n : undefined;
};
const int = (b: Buffer, n: number) => {
  const f = all(b, n)[0];
  return f ? Number(BigInt.asIntN(64, f.v as bigint)) : undefined;
};
const double = (b: Buffer, n: number) => msg(b, n)?.readDoubleLE(0);
/** repeated Named<T>{name = 1, value = 2} as [name, value bytes] pairs */
const named = (b: Buffer | undefined, n: number): [string, Buffer][] => (b ? msgs(b, n).map((e) => [str(e, 1)!, msg(e, 2) ?? Buffer.alloc(0)]) : []);
/** repeated NamedAny with Any.yaml (= 2) parsed */
const extensions = (b: Buffer, n: number): Json => Object.fromEntries(named(b, n).map(([k, any]) => [k, parseYAML(str(any, 2)!)]));

/** Rebuilds the JSON of a gnostic Schema for the keywords our definitions use. */
function schemaJSON(b: Buffer): Json {
  const j: Json = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined) j[k] = v;
  };
  set('$ref', str(b, 1));
  set('format', str(b, 2));
  set('description', str(b, 4));
  const required = strs(b, 19);
  if (required.length) j.required = required;
  const ap = msg(b, 21);
  if (ap) j.additionalProperties = msg(ap, 1) ? schemaJSON(msg(ap, 1)!) : bool(ap, 2);
  const type = msg(b, 22);
  if (type) j.type = strs(type, 1).length === 1 ? strs(type, 1)[0] : strs(type, 1);
  const items = msg(b, 23);
  if (items) j.items = msgs(items, 1).length === 1 ? schemaJSON(msg(items, 1)!) : msgs(items, 1).map(schemaJSON);
  const props = msg(b, 25);
  if (props) j.properties = Object.fromEntries(named(props, 1).map(([k, v]) => [k, schemaJSON(v)]));
  return { ...j, ...extensions(b, 31) };
}

const sortKeys = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Json)[k])])) : v;

// ---- tests ----

const small: Json = {
  swagger: '2.0',
  info: { title: 'Kubernetes', version: 'v1.32.0' },
  paths: {
    '/api/v1/namespaces/{namespace}/pods': {
      get: {
        description: 'list or watch objects of kind Pod',
        consumes: ['*/*'],
        produces: ['application/json', 'application/yaml'],
        schemes: ['https'],
        tags: ['core_v1'],
        operationId: 'listCoreV1NamespacedPod',
        parameters: [
          { name: 'limit', in: 'query', description: 'limit', type: 'integer', uniqueItems: true },
          { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.core.v1.Pod' } },
          { $ref: '#/parameters/pretty' },
        ],
        responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.PodList' } }, '401': { description: 'Unauthorized' } },
        'x-kubernetes-action': 'list',
        'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'Pod' },
      },
      parameters: [{ name: 'namespace', in: 'path', required: true, type: 'string', description: 'object name and auth scope' }],
    },
  },
  definitions: {
    'io.k8s.api.core.v1.Pod': {
      description: 'Pod is a collection of containers.',
      type: 'object',
      required: ['spec'],
      properties: {
        spec: { $ref: '#/definitions/io.k8s.api.core.v1.PodSpec' },
        ports: { type: 'array', items: { type: 'integer', format: 'int32' }, 'x-kubernetes-list-type': 'atomic' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        closed: { type: 'object', additionalProperties: false },
        limits: { type: 'number', minimum: -1.5, maxLength: 300 },
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Pod', version: 'v1' }],
    },
    'io.k8s.api.core.v1.Empty': { type: 'object', properties: {} },
  },
  securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
  security: [{ BearerToken: [] }],
};

describe('encodeOpenAPIV2Document', () => {
  const doc = encodeOpenAPIV2Document(small);

  it('encodes the document header, info and security with gnostic field numbers', () => {
    expect(str(doc, 1)).toBe('2.0');
    expect(str(msg(doc, 2)!, 1)).toBe('Kubernetes');
    expect(str(msg(doc, 2)!, 2)).toBe('v1.32.0');
    const [[secName, secItem]] = named(msg(doc, 13), 1);
    expect(secName).toBe('BearerToken');
    const apiKey = msg(secItem!, 2)!;
    expect([str(apiKey, 1), str(apiKey, 2), str(apiKey, 3), str(apiKey, 4)]).toEqual(['apiKey', 'authorization', 'header', 'Bearer Token authentication']);
    const requirement = named(msg(doc, 12), 1);
    expect(requirement.map(([k, v]) => [k, strs(v, 1)])).toEqual([['BearerToken', []]]);
  });

  it('round-trips definitions: types, refs, items, maps, required, numbers and vendor extensions', () => {
    const defs = named(msg(doc, 9), 1);
    expect(defs.map(([k]) => k)).toEqual(['io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.Empty']);
    const pod = defs[0]![1];
    expect(schemaJSON(pod)).toEqual({ ...small.definitions['io.k8s.api.core.v1.Pod'], properties: { ...small.definitions['io.k8s.api.core.v1.Pod'].properties, limits: { type: 'number' } } });
    const limits = named(msg(pod, 25), 1).find(([k]) => k === 'limits')![1];
    expect(double(limits, 9)).toBe(-1.5);
    expect(int(limits, 11)).toBe(300);
    // additionalProperties: false is still present (a oneof member at its zero value)
    const closed = named(msg(pod, 25), 1).find(([k]) => k === 'closed')![1];
    expect(all(msg(closed, 21)!, 2)).toEqual([{ n: 2, wire: 0, v: 0n }]);
    // an empty `properties` is an empty but present message: readers tell kinds from maps by it
    const empty = defs[1]![1];
    expect(msg(empty, 25)).toEqual(Buffer.alloc(0));
    expect(schemaJSON(empty)).toEqual({ type: 'object', properties: {} });
  });

  it('encodes paths: operations, query/path/body parameters, $ref items and responses', () => {
    const [[path, item]] = named(msg(doc, 8), 2);
    expect(path).toBe('/api/v1/namespaces/{namespace}/pods');
    const get = msg(item!, 2)!;
    expect(msg(item!, 4)).toBeUndefined(); // no post
    expect(strs(get, 1)).toEqual(['core_v1']);
    expect(str(get, 3)).toBe('list or watch objects of kind Pod');
    expect(str(get, 5)).toBe('listCoreV1NamespacedPod');
    expect(strs(get, 6)).toEqual(['application/json', 'application/yaml']);
    expect(strs(get, 7)).toEqual(['*/*']);
    expect(strs(get, 10)).toEqual(['https']);
    expect(extensions(get, 13)).toEqual({ 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'Pod' } });

    const [limit, body, ref] = msgs(get, 8);
    const query = msg(msg(msg(limit!, 1)!, 2)!, 3)!; // Parameter.non_body_parameter.query_parameter_sub_schema
    expect([str(query, 2), str(query, 3), str(query, 4), str(query, 6), bool(query, 20)]).toEqual(['query', 'limit', 'limit', 'integer', true]);
    const bodyParam = msg(msg(body!, 1)!, 1)!; // Parameter.body_parameter
    expect([str(bodyParam, 2), str(bodyParam, 3), bool(bodyParam, 4)]).toEqual(['body', 'body', true]);
    expect(str(msg(bodyParam, 5)!, 1)).toBe('#/definitions/io.k8s.api.core.v1.Pod');
    expect(str(msg(ref!, 2)!, 1)).toBe('#/parameters/pretty'); // ParametersItem.json_reference

    const pathParam = msg(msg(msg(msg(item!, 9)!, 1)!, 2)!, 4)!; // path_parameter_sub_schema
    expect([bool(pathParam, 1), str(pathParam, 2), str(pathParam, 4), str(pathParam, 5)]).toEqual([true, 'path', 'namespace', 'string']);

    const responses = named(msg(get, 9), 1);
    expect(responses.map(([k]) => k)).toEqual(['200', '401']);
    const ok = msg(responses[0]![1], 1)!; // ResponseValue.response
    expect(str(ok, 1)).toBe('OK');
    expect(str(msg(msg(ok, 2)!, 1)!, 1)).toBe('#/definitions/io.k8s.api.core.v1.PodList'); // SchemaItem.schema.$ref
    expect(str(msg(responses[1]![1], 1)!, 1)).toBe('Unauthorized');
  });
});

describe('the served swagger document as protobuf', () => {
  it('carries every definition of the JSON document, schema for schema', () => {
    const json = openapiV2Document() as Json;
    const doc = encodeOpenAPIV2Document(json);
    const defs = named(msg(doc, 9), 1);
    expect(defs.map(([k]) => k)).toEqual(Object.keys(json.definitions));
    for (const [name, s] of defs) expect(sortKeys(schemaJSON(s)), name).toEqual(sortKeys(json.definitions[name]));
    expect(named(msg(doc, 8), 2).map(([k]) => k)).toEqual(Object.keys(json.paths));
    const pod = defs.find(([k]) => k === 'io.k8s.api.core.v1.Pod')![1];
    expect(extensions(pod, 31)['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
  });

  it('is chosen by Accept, with its own ETag, next to the JSON representation', () => {
    const pb = serveOpenAPI('/openapi/v2', PROTOBUF_V2_CONTENT_TYPE)!;
    expect(pb).toMatchObject({ status: 200, contentType: PROTOBUF_V2_RESPONSE_CONTENT_TYPE, headers: { vary: 'Accept' } });
    expect(Buffer.isBuffer(pb.body)).toBe(true);
    expect(str(pb.body as Buffer, 1)).toBe('2.0');
    expect(pb.headers.etag).toMatch(/^"[0-9A-F]{128}"$/);

    const js = serveOpenAPI('/openapi/v2', 'application/json')!;
    expect(js.contentType).toBe('application/json');
    expect(js.headers.etag).not.toBe(pb.headers.etag);
    expect(serveOpenAPI('/openapi/v2', `application/json;q=0.5, ${PROTOBUF_V2_CONTENT_TYPE}`)!.contentType).toBe(PROTOBUF_V2_RESPONSE_CONTENT_TYPE);
    expect(serveOpenAPI('/openapi/v2', `${PROTOBUF_V2_CONTENT_TYPE};q=0.5, application/json`)!.contentType).toBe('application/json');
    expect(serveOpenAPI('/openapi/v2', 'text/html')!.status).toBe(406);
  });
});
