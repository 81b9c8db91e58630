// JSON value helpers shared by the patch code: type tests, deep copy and equality, and Go's `%v`
// rendering of decoded JSON (upstream's patch error messages print maps and slices that way).

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A deep copy of JSON data, equal to JSON.parse(JSON.stringify(v)) without the text in between (several
 * times faster than that or structuredClone on API objects): members whose value JSON leaves out
 * (undefined, functions, symbols) are dropped, in arrays they become null, non-finite numbers become
 * null, and a value with toJSON (a Date) is copied through JSON. Own `__proto__` keys stay data.
 */
export function deepCopy<T>(v: T): T {
  return v === undefined ? v : (copyJSON(v) as T);
}

function omittedByJSON(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function copyJSON(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = omittedByJSON(v[i]) ? null : copyJSON(v[i]);
    return out;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (omittedByJSON(x)) continue;
    if (k === '__proto__') Object.defineProperty(out, k, { value: copyJSON(x), enumerable: true, writable: true, configurable: true });
    else out[k] = copyJSON(x);
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Go's `%v` of a float64, e.g. 80 -> "80", 1000000 -> "1e+06". */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 6) {
    const [mant, e] = n.toExponential().split('e');
    const sign = e!.startsWith('-') ? '-' : '+';
    const digits = e!.replace(/^[+-]/, '');
    return `${mant}e${sign}${digits.length < 2 ? '0' + digits : digits}`;
  }
  return String(n);
}

/** Go's `%v` of a value decoded from JSON into interface{}. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's reflect type name of a value decoded from JSON into interface{}. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}
