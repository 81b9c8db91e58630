// Decodes a Kubernetes protobuf request body (`application/vnd.kubernetes.protobuf`) into the JSON
// object the same client would have sent as JSON. The body is the 4-byte magic `k8s\0` followed by a
// runtime.Unknown envelope (typeMeta, raw, contentEncoding, contentType) whose `raw` holds the object.
//
// Go's marshaller writes every non-pointer field, even when empty, while JSON omits empty values
// (omitempty). So after decoding, zero values are dropped unless the schema marks the field 'k' (a Go
// pointer, where a present zero means something, such as `replicas: 0`, or a field without omitempty).
import { setOwn } from '@kubelab/api';
import { KINDS, LIST_WRAPPERS, MESSAGES, type FieldSpec } from './schema.js';
import { ProtobufError, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, WireReader, readFields, type WireField } from './wire.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4 bytes every Kubernetes protobuf body starts with. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  /** The object as JSON would carry it, including apiVersion and kind. */
  object: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const NUMERIC = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool', 'double', 'float', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

function fail(where: string, message: string): never {
  throw new ProtobufError(`${where}: ${message}`);
}

function wireName(t: number): string {
  return ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32'][t] ?? String(t);
}

function expectWire(f: WireField, want: number, where: string, type: string): void {
  if (f.wireType !== want) fail(where, `field ${f.field} (${type}) has wire type ${wireName(f.wireType)}, want ${wireName(want)}`);
}

/** Decodes one scalar value of `type` from a non-packed field. */
function scalar(f: WireField, type: string, where: string): unknown {
  switch (type) {
    case 'string':
      expectWire(f, WIRE_BYTES, where, type);
      return f.bytes!.toString('utf8');
    case 'bytes':
      expectWire(f, WIRE_BYTES, where, type);
      return f.bytes!.toString('base64');
    case 'bool':
      expectWire(f, WIRE_VARINT, where, type);
      return f.varint !== 0n;
    case 'int32':
    case 'int64':
      expectWire(f, WIRE_VARINT, where, type);
      return Number(BigInt.asIntN(64, f.varint!));
    case 'uint32':
    case 'uint64':
      expectWire(f, WIRE_VARINT, where, type);
      return Number(f.varint!);
    case 'sint32':
    case 'sint64': {
      expectWire(f, WIRE_VARINT, where, type);
      const v = f.varint!;
      return Number((v >> 1n) ^ -(v & 1n));
    }
    case 'double':
      expectWire(f, WIRE_FIXED64, where, type);
      return f.bytes!.readDoubleLE(0);
    case 'fixed64':
      expectWire(f, WIRE_FIXED64, where, type);
      return Number(f.bytes!.readBigUInt64LE(0));
    case 'sfixed64':
      expectWire(f, WIRE_FIXED64, where, type);
      return Number(f.bytes!.readBigInt64LE(0));
    case 'float':
      expectWire(f, WIRE_FIXED32, where, type);
      return f.bytes!.readFloatLE(0);
    case 'fixed32':
      expectWire(f, WIRE_FIXED32, where, type);
      return f.bytes!.readUInt32LE(0);
    case 'sfixed32':
      expectWire(f, WIRE_FIXED32, where, type);
      return f.bytes!.readInt32LE(0);
    default:
      return fail(where, `unknown scalar type ${type}`);
  }
}

/** A packed repeated numeric field: the payload is back-to-back values without keys. */
function packed(f: WireField, type: string, where: string): unknown[] {
  const out: unknown[] = [];
  const buf = f.bytes!;
  const fixed = type === 'double' || type.endsWith('fixed64') ? 8 : type === 'float' || type.endsWith('fixed32') ? 4 : 0;
  if (fixed) {
    if (buf.length % fixed !== 0) fail(where, `packed field ${f.field} has ${buf.length} bytes, not a multiple of ${fixed}`);
    for (let i = 0; i < buf.length; i += fixed) {
      out.push(scalar({ field: f.field, wireType: fixed === 8 ? WIRE_FIXED64 : WIRE_FIXED32, bytes: buf.subarray(i, i + fixed) }, type, where));
    }
    return out;
  }
  const r = new WireReader(buf);
  while (!r.done) out.push(scalar({ field: f.field, wireType: WIRE_VARINT, varint: r.varint() }, type, where));
  return out;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new ProtobufError(`timestamp ${seconds}s out of range`);
  const base = new Date(ms).toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/**
 * Well-known messages whose JSON form is not an object. Returns undefined for "absent" (a zero time,
 * an empty quantity), which the caller treats like any other empty value.
 */
function special(type: string, buf: Buffer, where: string): { value: unknown } | undefined {
  const fields = (): Map<number, WireField> => new Map(readFields(buf).map((f) => [f.field, f]));
  switch (type) {
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime': {
      const m = fields();
      const s = m.get(1) ? (scalar(m.get(1)!, 'int64', where) as number) : 0;
      const n = m.get(2) ? (scalar(m.get(2)!, 'int32', where) as number) : 0;
      return { value: s === 0 && n === 0 ? undefined : rfc3339(s, n, type === 'meta.v1.MicroTime') };
    }
    case 'resource.Quantity': {
      const f = fields().get(1);
      const s = f ? (scalar(f, 'string', where) as string) : '';
      return { value: s === '' ? undefined : s };
    }
    case 'intstr.IntOrString': {
      const m = fields();
      const kind = m.get(1) ? (scalar(m.get(1)!, 'int64', where) as number) : 0;
      if (kind === 1) return { value: m.get(3) ? scalar(m.get(3)!, 'string', where) : '' };
      return { value: m.get(2) ? scalar(m.get(2)!, 'int32', where) : 0 };
    }
    case 'runtime.RawExtension':
    case 'meta.v1.FieldsV1': {
      const f = fields().get(1);
      if (!f || f.bytes === undefined || f.bytes.length === 0) return { value: undefined };
      try {
        return { value: JSON.parse(f.bytes.toString('utf8')) as unknown };
      } catch {
        return fail(where, `${type} does not hold JSON`);
      }
    }
    default:
      if (LIST_WRAPPERS.has(type)) {
        return { value: readFields(buf).filter((f) => f.field === 1).map((f) => scalar(f, 'string', where)) };
      }
      return undefined;
  }
}

/** Decodes a message value: a nested object, or a well-known type's JSON value. */
function messageValue(type: string, buf: Buffer, where: string, depth: number): unknown {
  const s = special(type, buf, where);
  if (s) return s.value;
  return decodeMessage(type, buf, where, depth + 1);
}

function isMessageType(type: string): boolean {
  return !NUMERIC.has(type) && type !== 'string' && type !== 'bytes';
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function decodeMapEntry(spec: FieldSpec, f: WireField, where: string, depth: number): [string, unknown] {
  expectWire(f, WIRE_BYTES, where, 'map entry');
  let key = '';
  const type = spec[1];
  let value: unknown = NUMERIC.has(type) ? 0 : isMessageType(type) ? {} : '';
  for (const e of readFields(f.bytes!)) {
    if (e.field === 1) key = scalar(e, 'string', `${where}.${spec[0]}`) as string;
    else if (e.field === 2 && isMessageType(type)) {
      expectWire(e, WIRE_BYTES, where, type);
      value = messageValue(type, e.bytes!, `${where}.${spec[0]}[${key}]`, depth);
    } else if (e.field === 2) value = scalar(e, type, `${where}.${spec[0]}`);
  }
  // An absent well-known value (a zero quantity) still has a key in the map.
  return [key, value ?? (type === 'resource.Quantity' ? '0' : '')];
}

const MAX_DEPTH = 64;

/** Decodes `buf` as message `type` into a JSON-shaped object, dropping empty values as JSON would. */
export function decodeMessage(type: string, buf: Buffer, where = type, depth = 0): Json {
  if (depth > MAX_DEPTH) fail(where, 'message nested too deeply');
  const schema = MESSAGES[type];
  if (!schema) return fail(where, `no schema for message ${type}`);
  const out: Json = {};
  const inlined: Json[] = [];
  for (const f of readFields(buf)) {
    const spec = schema[f.field];
    if (!spec) continue; // unknown field: newer client or field we do not model
    const [name, ftype, flags = ''] = spec;
    const path = `${where}.${name}`;
    if (flags.includes('m')) {
      const map = (out[name] ??= {}) as Json;
      const [k, v] = decodeMapEntry(spec, f, where, depth);
      setOwn(map, k, v); // map keys are data: `__proto__` stays a key
      continue;
    }
    if (isMessageType(ftype)) {
      expectWire(f, WIRE_BYTES, where, ftype);
      const v = messageValue(ftype, f.bytes!, path, depth);
      if (flags.includes('i')) {
        if (v && typeof v === 'object') inlined.push(v as Json);
      } else if (flags.includes('r')) {
        ((out[name] ??= []) as unknown[]).push(v ?? {});
      } else if (v === undefined || (!flags.includes('k') && (isEmptyObject(v) || isZero(v)))) {
        delete out[name];
      } else {
        out[name] = v;
      }
      continue;
    }
    if (flags.includes('r')) {
      const list = (out[name] ??= []) as unknown[];
      if (f.wireType === WIRE_BYTES && NUMERIC.has(ftype)) list.push(...packed(f, ftype, path));
      else list.push(scalar(f, ftype, path));
      continue;
    }
    const v = scalar(f, ftype, path);
    if (isZero(v) && !flags.includes('k')) delete out[name];
    else out[name] = v;
  }
  for (const o of inlined) Object.assign(out, o);
  // A packed repeated field can be present and empty; JSON would omit the list.
  for (const [k, v] of Object.entries(out)) if (Array.isArray(v) && v.length === 0) delete out[k];
  return out;
}

interface UnknownEnvelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
  contentEncoding: string;
  contentType: string;
}

function decodeUnknown(buf: Buffer): UnknownEnvelope {
  const u: UnknownEnvelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0), contentEncoding: '', contentType: '' };
  for (const f of readFields(buf)) {
    if (f.field === 1) {
      expectWire(f, WIRE_BYTES, 'Unknown', 'TypeMeta');
      for (const t of readFields(f.bytes!)) {
        if (t.field === 1) u.apiVersion = scalar(t, 'string', 'Unknown.typeMeta') as string;
        else if (t.field === 2) u.kind = scalar(t, 'string', 'Unknown.typeMeta') as string;
      }
    } else if (f.field === 2) {
      expectWire(f, WIRE_BYTES, 'Unknown', 'bytes');
      u.raw = f.bytes!;
    } else if (f.field === 3) u.contentEncoding = scalar(f, 'string', 'Unknown') as string;
    else if (f.field === 4) u.contentType = scalar(f, 'string', 'Unknown') as string;
  }
  return u;
}

/** The message name for a kind, or undefined when we have no schema for it. */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  // DeleteOptions is registered in every group version (and in meta.k8s.io/v1).
  if (kind === 'DeleteOptions') return 'meta.v1.DeleteOptions';
  return KINDS.get(`${apiVersion}/${kind}`);
}

/**
 * Decodes a whole `application/vnd.kubernetes.protobuf` request body. Throws an Error (a
 * ProtobufError) with a message fit for a 400 Bad Request when the body is malformed or of a kind we
 * have no schema for.
 */
export function decodeProtobufObject(body: Buffer): DecodedObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ProtobufError('protobuf body does not start with the k8s\\0 magic prefix');
  }
  let u: UnknownEnvelope;
  try {
    u = decodeUnknown(body.subarray(4));
  } catch (err) {
    throw new ProtobufError(`malformed protobuf envelope: ${(err as Error).message}`);
  }
  const { apiVersion, kind } = u;
  if (!kind || !apiVersion) throw new ProtobufError('protobuf envelope is missing apiVersion or kind');
  if (u.contentEncoding) throw new ProtobufError(`unsupported protobuf content encoding "${u.contentEncoding}"`);
  if (u.contentType && u.contentType !== PROTOBUF_MEDIA_TYPE) {
    throw new ProtobufError(`unsupported content type "${u.contentType}" inside protobuf envelope`);
  }
  const type = messageFor(apiVersion, kind);
  if (!type) throw new ProtobufError(`no protobuf schema for ${kind} in ${apiVersion}; send JSON instead`);
  let fields: Json;
  try {
    fields = decodeMessage(type, u.raw, kind);
  } catch (err) {
    throw new ProtobufError(`malformed protobuf ${kind}: ${(err as Error).message}`);
  }
  return { apiVersion, kind, object: { apiVersion, kind, ...fields } };
}
