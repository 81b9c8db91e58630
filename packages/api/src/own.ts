// Own-property access for maps decoded from requests, as Go's map[string]T behaves (no upstream file:
// Go maps have no prototype). In a plain JS object, `o[k] = v` with k "__proto__" replaces the
// prototype, and `o[k]` or `k in o` with k "constructor", "toString" or "__proto__" finds inherited
// members. Every merge, patch, apply and selector path reads and writes request-derived keys only
// through these helpers, so such keys are ordinary data and can never reach Object.prototype.

const objectHasOwnProperty = Object.prototype.hasOwnProperty;

/** Whether `o` has its own property `k` (inherited members such as `constructor` do not count). */
export function hasOwn(o: object | null | undefined, k: PropertyKey): boolean {
  return o !== null && o !== undefined && objectHasOwnProperty.call(o, k);
}

/** `o[k]` when `k` is an own property of `o`, else undefined. */
export function getOwn<T>(o: Readonly<Record<string, T>> | null | undefined, k: string): T | undefined {
  return o !== null && o !== undefined && objectHasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Sets `o[k] = v` as an own, enumerable data property, also for k "__proto__" (which `=` would treat as the prototype). */
export function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

