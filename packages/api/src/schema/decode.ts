// Typed decoding of a request body, as upstream's JSON serializer decoding into the Go types
// (k8s.io/apimachinery/pkg/runtime/serializer/json, sigs.k8s.io/json over encoding/json): a value whose
// JSON type does not fit the field's Go type is an error worded like encoding/json's
//
//   json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string
//   json: cannot unmarshal number 3000000000 into Go struct field ScaleSpec.spec.replicas of type int32
//   parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"
//
// (Go struct field = the innermost struct's name, then the JSON field names from the root, without list
// indexes or map keys), null is accepted anywhere (a typed decode leaves the field unset), and fields the
// schema does not know are dropped, their paths returned for field validation (spec.containers[0].imagee).
// Free-form payloads (RawExtension, FieldsV1) are kept as they are. Copy-on-write: the input is never
// mutated; subtrees that need no change are shared with the result.
import { Quantity } from '../quantity.js';
import type { SchemaLookup, SchemaType } from './interface.js';
import { schemaLookup } from './schema.js';
import { setOwn } from '../own.js';

/** Upstream stops collecting unknown fields after this many. */
const MAX_UNKNOWN = 100;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_LIMIT = 2 ** 63;

/** A body that cannot be decoded into its Go type; the message is encoding/json's (or the field type's parser's). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export interface DecodeOptions {
  schema?: SchemaLookup;
  /** Keep explicit nulls, also of list items and map values (server-side apply configurations, where null has a meaning). */
  keepNulls?: boolean;
}

export interface Decoded<T> {
  /** The value with unknown fields (and, unless keepNulls, null struct fields) removed. */
  object: T;
  /** Paths of the dropped unknown fields, in document order (at most 100). */
  unknownFields: string[];
}

/**
 * Decodes a parsed JSON value as (apiVersion, kind). Throws DecodeError on the first type mismatch (in
 * document order; a parse error of a time or quantity wins over an earlier plain mismatch, as in Go).
 * An unknown kind is returned as is.
 */
export function decode<T>(value: T, apiVersion: string, kind: string, opts: DecodeOptions = {}): Decoded<T> {
  const root = (opts.schema ?? schemaLookup).rootType(apiVersion, kind);
  if (!root) return { object: value, unknownFields: [] };
  return decodeAs(value, root, opts);
}

/** decode() with the root type given, for types without a kind of their own (DeleteOptions). */
export function decodeAs<T>(value: T, root: SchemaType, opts: Omit<DecodeOptions, 'schema'> = {}): Decoded<T> {
  const d = new Decoder(!!opts.keepNulls, true);
  const object = d.value(root, value, '', '', '') as T;
  if (d.typeError) throw new DecodeError(d.typeError);
  return { object, unknownFields: d.unknown };
}

/** Paths of the fields of `value` that the schema of (apiVersion, kind) does not know; type mismatches are ignored. */
export function unknownFieldPaths(value: unknown, apiVersion: string, kind: string, schema: SchemaLookup = schemaLookup): string[] {
  const root = schema.rootType(apiVersion, kind);
  if (!root) return [];
  const d = new Decoder(true, false);
  d.value(root, value, '', '', '');
  return d.unknown;
}

/** The message a write answers with when its body does not decode: `Pod in version "v1" cannot be handled as a Pod: <err>`. */
export function cannotBeHandledMessage(apiVersion: string, kind: string, err: string): string {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  return `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${err}`;
}

/** encoding/json's name of a JSON value's type in an UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const structNames = new WeakMap<SchemaType, string>();

/** `io.k8s.api.core.v1.PodSpec` -> `PodSpec`. */
function structName(t: SchemaType): string {
  let n = structNames.get(t);
  if (n === undefined) structNames.set(t, (n = t.name.slice(t.name.lastIndexOf('.') + 1)));
  return n;
}

/** The Go type's String(): v1.PodSpec, []v1.Container, map[string]string, int32, resource.Quantity. */
export function goTypeName(t: SchemaType): string {
  switch (t.kind) {
    case 'object': {
      const parts = t.name.split('.');
      return parts.length > 1 ? `${parts[parts.length - 2]}.${parts[parts.length - 1]}` : t.name;
    }
    case 'map':
      // Every quantity-valued map served is a v1.ResourceList.
      if (t.elem?.kind === 'quantity') return 'v1.ResourceList';
      return `map[string]${t.elem ? goTypeName(t.elem) : 'interface {}'}`;
    case 'array':
      return `[]${t.elem ? goTypeName(t.elem) : 'interface {}'}`;
    case 'string':
      return t.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return t.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'time':
      return t.name.endsWith('MicroTime') ? 'v1.MicroTime' : 'v1.Time';
    case 'quantity':
      return 'resource.Quantity';
    case 'int-or-string':
      return 'intstr.IntOrString';
    default:
      return 'interface {}';
  }
}

/** The zero value Go stores for a null list item or map value of this type. */
function zeroOf(t: SchemaType): unknown {
  switch (t.kind) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'object':
      return {};
    default:
      return null;
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

class Decoder {
  readonly unknown: string[] = [];
  /** The first error: a plain mismatch is kept while decoding goes on; a parser's error stops the walk. */
  typeError: string | undefined;
  private fatal = false;

  constructor(
    private readonly keepNulls: boolean,
    private readonly checkTypes: boolean,
  ) {}

  private mismatch(what: string, type: string, struct: string, goPath: string, parserError = false): void {
    if (!this.checkTypes || this.fatal) return;
    if (this.typeError && !parserError) return;
    this.typeError = goPath
      ? `json: cannot unmarshal ${what} into Go struct field ${struct}.${goPath} of type ${type}`
      : `json: cannot unmarshal ${what} into Go value of type ${type}`;
    if (parserError) this.fatal = true;
  }

  private fail(message: string): void {
    if (!this.checkTypes || this.fatal) return;
    this.typeError = message;
    this.fatal = true;
  }

  /**
   * Decodes `v` (not null) as `t`. `path` is the field-validation path (with [i] and map keys), `goPath`
   * and `struct` encoding/json's error context. Returns `v` itself when nothing changed.
   */
  value(t: SchemaType, v: unknown, path: string, goPath: string, struct: string): unknown {
    if (this.fatal || v === null) return v;
    switch (t.kind) {
      case 'object':
        return this.struct(t, v, path, goPath, struct);
      case 'map': {
        if (!isPlainObject(v)) {
          this.mismatch(jsonKind(v), goTypeName(t), struct, goPath);
          return v;
        }
        const elem = t.elem;
        if (!elem) return v;
        let out: Record<string, unknown> | undefined;
        for (const key in v) {
          const item = v[key];
          const next = item === null ? this.nullItem(elem) : this.value(elem, item, join(path, key), goPath, struct);
          // Map keys are data: `__proto__` must stay an own key, not become the copy's prototype.
          if (next !== item) setOwn((out ??= { ...v }), key, next);
        }
        return out ?? v;
      }
      case 'array': {
        if (!Array.isArray(v)) {
          this.mismatch(jsonKind(v), goTypeName(t), struct, goPath);
          return v;
        }
        const elem = t.elem;
        if (!elem) return v;
        let out: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          const next = item === null ? this.nullItem(elem) : this.value(elem, item, `${path}[${i}]`, goPath, struct);
          if (next !== item) (out ??= v.slice())[i] = next;
        }
        return out ?? v;
      }
      case 'string':
        if (typeof v !== 'string') this.mismatch(jsonKind(v), goTypeName(t), struct, goPath);
        else if (t.format === 'byte') {
          // []byte: base64 (StdEncoding); encoding/json keeps decoding after it, like a type mismatch.
          const at = base64ErrorOffset(v);
          if (at !== undefined && this.checkTypes && !this.typeError) this.typeError = `illegal base64 data at input byte ${at}`;
        }
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') this.mismatch(jsonKind(v), 'bool', struct, goPath);
        return v;
      case 'number':
        if (typeof v !== 'number') this.mismatch(jsonKind(v), 'float64', struct, goPath);
        return v;
      case 'integer': {
        const type = goTypeName(t);
        if (typeof v !== 'number') this.mismatch(jsonKind(v), type, struct, goPath);
        else if (!integerFits(v, type)) this.mismatch(`number ${v}`, type, struct, goPath);
        return v;
      }
      case 'int-or-string':
        // IntOrString.UnmarshalJSON: a string, else an int32.
        if (typeof v === 'string') return v;
        if (typeof v !== 'number') this.mismatch(jsonKind(v), 'int32', struct, goPath, true);
        else if (!integerFits(v, 'int32')) this.mismatch(`number ${v}`, 'int32', struct, goPath, true);
        return v;
      case 'time':
        if (typeof v !== 'string') this.mismatch(jsonKind(v), 'string', struct, goPath, true);
        else {
          const err = t.name.endsWith('MicroTime') ? parseRFC3339(v, true) : parseRFC3339(v, false);
          if (err) this.fail(err);
        }
        return v;
      case 'quantity':
        if (typeof v === 'string' || typeof v === 'number') {
          try {
            Quantity.parse(typeof v === 'string' ? v.trim() : v);
          } catch (e) {
            this.fail((e as Error).message);
          }
        } else {
          // Quantity.UnmarshalJSON parses the raw JSON text, which never looks like a quantity.
          try {
            Quantity.parse(JSON.stringify(v));
          } catch (e) {
            this.fail((e as Error).message);
          }
        }
        return v;
      default:
        return v;
    }
  }

  /** A null list item or map value: the zero value, or null itself when nulls are kept. */
  private nullItem(elem: SchemaType): unknown {
    return this.keepNulls ? null : zeroOf(elem);
  }

  private struct(t: SchemaType, v: unknown, path: string, goPath: string, struct: string): unknown {
    if (!isPlainObject(v)) {
      this.mismatch(jsonKind(v), goTypeName(t), struct, goPath);
      return v;
    }
    const name = structName(t);
    let out: Record<string, unknown> | undefined;
    for (const key in v) {
      const item = v[key];
      if (item === undefined) continue;
      const f = t.property(key);
      if (!f) {
        if (this.unknown.length < MAX_UNKNOWN) this.unknown.push(join(path, key));
        out ??= { ...v };
        delete out[key];
        continue;
      }
      if (item === null) {
        if (!this.keepNulls) delete (out ??= { ...v })[key];
        continue;
      }
      const next = this.value(f.type, item, join(path, key), join(goPath, key), name);
      if (next !== item) (out ??= { ...v })[key] = next;
      if (this.fatal) break;
    }
    return out ?? v;
  }
}

const BASE64_CHAR = /[A-Za-z0-9+/]/;
/** Whole quanta, '=' only as padding of the last one ('xx==' or 'xxx='). */
const WELL_FORMED_BASE64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Where Go's base64.StdEncoding (padded; CR and LF ignored) stops decoding `s`, or undefined when it
 * decodes: the offending character, or the start of an incomplete last quantum.
 */
function base64ErrorOffset(s: string): number | undefined {
  if (s.length % 4 === 0 && WELL_FORMED_BASE64.test(s)) return undefined;
  const clean = s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, '') : s;
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (BASE64_CHAR.test(c)) continue;
    if (c === '=') {
      // Padding is allowed in the third or fourth place of the last quantum only.
      const q = i % 4;
      const rest = clean.slice(i);
      if ((q === 2 && rest === '==') || (q === 3 && rest === '=')) return undefined;
      return i;
    }
    return i;
  }
  return clean.length % 4 === 0 ? undefined : clean.length - (clean.length % 4);
}

function integerFits(n: number, type: string): boolean {
  if (!Number.isInteger(n)) return false;
  return type === 'int32' ? n >= INT32_MIN && n <= INT32_MAX : n >= -INT64_LIMIT && n < INT64_LIMIT;
}

// ---- time.Parse(time.RFC3339, s) (MicroTime: RFC3339Micro), with Go's error texts ----

const RFC3339 = '2006-01-02T15:04:05Z07:00';
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

function quote(s: string): string {
  return JSON.stringify(s);
}

/** Go's time.Parse of an RFC 3339 timestamp: undefined when it parses, else the ParseError's text (micro: MicroTime's layout). */
export function parseRFC3339(value: string, micro: boolean): string | undefined {
  // The common case, well-formed and in range, without building the error context.
  const m = WELL_FORMED.exec(value);
  if (m) {
    const [, y, mo, d, h, mi, sec, zh, zm] = m;
    const month = Number(mo);
    const day = Number(d);
    if (
      month >= 1 && month <= 12 && day >= 1 && day <= 28 && Number(h) < 24 && Number(mi) < 60 && Number(sec) < 60 &&
      (zh === undefined || (Number(zh) < 24 && Number(zm) < 60)) && y !== undefined
    ) {
      return undefined;
    }
  }
  return parseRFC3339Slow(value, micro);
}

const WELL_FORMED = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function parseRFC3339Slow(value: string, micro: boolean): string | undefined {
  const layout = micro ? RFC3339_MICRO : RFC3339;
  const cannot = (rest: string, elem: string) => `parsing time ${quote(value)} as ${quote(layout)}: cannot parse ${quote(rest)} as ${quote(elem)}`;
  const outOfRange = (what: string) => `parsing time ${quote(value)}: ${what} out of range`;
  let rest = value;
  const digits = (n: number): number | undefined => {
    for (let i = 0; i < n; i++) if (!(rest[i]! >= '0' && rest[i]! <= '9')) return undefined;
    const num = Number(rest.slice(0, n));
    rest = rest.slice(n);
    return num;
  };
  const literal = (s: string): boolean => {
    if (!rest.startsWith(s)) return false;
    rest = rest.slice(s.length);
    return true;
  };
  const year = digits(4);
  if (year === undefined) return cannot(rest, '2006');
  if (!literal('-')) return cannot(rest, '-');
  const before = rest;
  const month = digits(2);
  if (month === undefined) return cannot(before, '01');
  if (month < 1 || month > 12) return outOfRange('month');
  if (!literal('-')) return cannot(rest, '-');
  const dayText = rest;
  const day = digits(2);
  if (day === undefined) return cannot(dayText, '02');
  if (!literal('T')) return cannot(rest, 'T');
  const hourText = rest;
  // Go reads one or two digits for the hour.
  const hour = rest[1] !== undefined && rest[1] >= '0' && rest[1] <= '9' ? digits(2) : digits(1);
  if (hour === undefined) return cannot(hourText, '15');
  if (hour >= 24) return outOfRange('hour');
  if (!literal(':')) return cannot(rest, ':');
  const minText = rest;
  const minute = digits(2);
  if (minute === undefined) return cannot(minText, '04');
  if (minute >= 60) return outOfRange('minute');
  if (!literal(':')) return cannot(rest, ':');
  const secText = rest;
  const second = digits(2);
  if (second === undefined) return cannot(secText, '05');
  if (second >= 60) return outOfRange('second');
  // Fractional seconds are accepted in any precision (Go's MicroTime layout wants exactly six digits;
  // clients that write fewer are let through).
  if (/^[.,]\d/.test(rest)) rest = rest.replace(/^[.,]\d+/, '');
  if (rest.startsWith('Z')) rest = rest.slice(1);
  else {
    const zone = /^[+-](\d\d):(\d\d)/.exec(rest);
    if (!zone) return cannot(rest, 'Z07:00');
    if (Number(zone[1]) >= 24) return outOfRange('time zone offset hour');
    if (Number(zone[2]) >= 60) return outOfRange('time zone offset minute');
    rest = rest.slice(6);
  }
  if (rest) return `parsing time ${quote(value)}: extra text: ${quote(rest)}`;
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysIn) return outOfRange('day');
  return undefined;
}
