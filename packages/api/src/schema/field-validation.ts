// Server-side field validation (the fieldValidation query parameter): unknown and duplicate fields in a
// request body, reported like upstream's strict JSON decoding:
//
//   unknown field "spec.containers[0].imagee"      (paths without a leading dot, [i] for list items)
//   duplicate field "metadata.name"
//
// With fieldValidation=Strict the write fails with 400 BadRequest:
//   Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo", duplicate field "metadata.name"
// (a patch fails with just "strict decoding error: ..."); with Warn (the default) each error becomes a
// `Warning: 299 - "unknown field \"spec.foo\""` response header; Ignore drops them.
import type { SchemaLookup, SchemaType } from './interface.js';
import { schemaLookup } from './schema.js';
import { unknownFieldPaths } from './decode.js';

/** Upstream stops collecting strict errors after this many. */
const MAX_ERRORS = 100;

export type FieldValidationDirective = 'Ignore' | 'Warn' | 'Strict';

/** The fieldValidation query value: absent or empty means Warn; undefined for an unsupported value. */
export function parseFieldValidation(value: string | undefined): FieldValidationDirective | undefined {
  if (value === undefined || value === '') return 'Warn';
  return value === 'Ignore' || value === 'Warn' || value === 'Strict' ? value : undefined;
}

/** `strict decoding error: unknown field "a", duplicate field "b"`. */
export function strictDecodingMessage(errors: readonly string[]): string {
  return `strict decoding error: ${errors.join(', ')}`;
}

/** The BadRequest message of a create or update whose body has strict errors (kind and apiVersion from the body). */
export function strictDecodingBadRequestMessage(apiVersion: string, kind: string, errors: readonly string[]): string {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  return `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${strictDecodingMessage(errors)}`;
}

/** A `Warning` response header value (RFC 7234 warn-code 299, as upstream's warning recorder writes). */
export function warningHeaderValue(message: string): string {
  return `299 - ${JSON.stringify(message)}`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Paths of the fields in `obj` that the schema of (apiVersion, kind) does not know, in document order:
 * `spec.containers[0].imagee`. Free-form places (RawExtension, managedFields[].fieldsV1) and the values of
 * unknown fields are not looked into. An unknown kind yields []. (The decoder's walk: ./decode.ts.)
 */
export function unknownFields(obj: unknown, apiVersion: string, kind: string, schema: SchemaLookup = schemaLookup): string[] {
  return unknownFieldPaths(obj, apiVersion, kind, schema);
}

// ---- raw JSON scanning (duplicates are invisible once JSON.parse has run) ----

/** What the scanner knows about the value at hand: a schema type, free-form (`untyped`) or ignored (`skip`). */
type Ctx = SchemaType | 'untyped' | 'skip';

class Scanner {
  private i = 0;
  readonly errors: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly text: string) {}

  run(ctx: Ctx): void {
    this.value(ctx, '');
    this.ws();
    if (this.i !== this.text.length) this.fail();
  }

  private report(kind: 'unknown' | 'duplicate', path: string) {
    const msg = `${kind} field ${JSON.stringify(path)}`;
    if (this.errors.length >= MAX_ERRORS || this.seen.has(msg)) return;
    this.seen.add(msg);
    this.errors.push(msg);
  }

  private fail(): never {
    throw new SyntaxError(`invalid JSON at offset ${this.i}`);
  }

  private ws() {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.i;
    if (t[this.i] !== '"') this.fail();
    this.i++;
    let escaped = false;
    for (;;) {
      if (this.i >= t.length) this.fail();
      const c = t[this.i++];
      if (c === '\\') {
        escaped = true;
        this.i++;
      } else if (c === '"') break;
    }
    const raw = t.slice(start, this.i);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private value(ctx: Ctx, path: string): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') this.object(ctx, path);
    else if (c === '[') this.array(ctx, path);
    else if (c === '"') this.string();
    else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.i, this.i + 400));
      if (!m) this.fail();
      this.i += m[0].length;
    }
  }

  private object(ctx: Ctx, path: string): void {
    this.i++; // {
    // A struct reports duplicates of its known fields only; a map (or free-form object) of every key.
    const struct = typeof ctx === 'object' && ctx.kind === 'object' ? ctx : undefined;
    const map = typeof ctx === 'object' && ctx.kind === 'map' ? ctx : undefined;
    const checkAll = ctx === 'untyped' || map !== undefined;
    const keys = new Set<string>();
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.ws();
      if (this.text[this.i++] !== ':') this.fail();
      let next: Ctx = 'skip';
      if (struct) {
        const f = struct.property(key);
        if (!f) this.report('unknown', join(path, key));
        else {
          if (keys.has(key)) this.report('duplicate', join(path, key));
          next = contextOf(f.type);
        }
      } else if (checkAll) {
        if (keys.has(key)) this.report('duplicate', join(path, key));
        next = map ? (map.elem ? contextOf(map.elem) : 'untyped') : 'untyped';
      }
      keys.add(key);
      this.value(next, join(path, key));
      this.ws();
      const sep = this.text[this.i++];
      if (sep === '}') return;
      if (sep !== ',') this.fail();
    }
  }

  private array(ctx: Ctx, path: string): void {
    this.i++; // [
    const item: Ctx = ctx === 'untyped' ? 'untyped' : typeof ctx === 'object' && ctx.kind === 'array' && ctx.elem ? contextOf(ctx.elem) : 'skip';
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (let n = 0; ; n++) {
      this.value(item, `${path}[${n}]`);
      this.ws();
      const sep = this.text[this.i++];
      if (sep === ']') return;
      if (sep !== ',') this.fail();
    }
  }
}

function contextOf(t: SchemaType): Ctx {
  // Scalars, quantities and free-form payloads (RawExtension, FieldsV1) are decoded without strict checks.
  return t.kind === 'object' || t.kind === 'map' || t.kind === 'array' ? t : 'skip';
}

/**
 * Paths of duplicated keys anywhere in a JSON text, schema-free: `metadata.name`, `spec.containers[0].image`.
 * Throws SyntaxError on malformed JSON.
 */
export function duplicateFields(jsonText: string): string[] {
  const s = new Scanner(jsonText);
  s.run('untyped');
  return s.errors.map((e) => JSON.parse(e.slice('duplicate field '.length)) as string);
}

/**
 * Upstream's strict decoding errors of a JSON request body decoded as (apiVersion, kind), in document
 * order: `unknown field "spec.foo"`, `duplicate field "metadata.name"` (a struct's unknown field is
 * reported once however often it repeats; its value is not looked into). Empty for an unknown kind.
 * Throws SyntaxError on malformed JSON.
 */
export function strictDecodingErrors(jsonText: string, apiVersion: string, kind: string, schema: SchemaLookup = schemaLookup): string[] {
  const root = schema.rootType(apiVersion, kind);
  if (!root) return [];
  const s = new Scanner(jsonText);
  s.run(contextOf(root));
  return s.errors;
}
