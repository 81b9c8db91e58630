// Shared by the protobuf tests: kubectl's `-o json` output keeps things the wire format drops
// (`creationTimestamp: null`, `status: {}`, `resources: {}`), so expected objects are normalised first.

const KEEP: ReadonlySet<string> = new Set(['emptyDir']);

/**
 * Removes nulls, empty objects and empty lists, recursively. Zeros and false are kept, and so are
 * empty objects under `keep` keys (Go pointers to structs, where `{}` means something: `emptyDir: {}`).
 */
export function dropEmpty(v: unknown, keep: ReadonlySet<string> = KEEP): unknown {
  if (Array.isArray(v)) return v.map((x) => dropEmpty(x, keep));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const y = dropEmpty(x, keep);
    if (y === null || y === undefined) continue;
    if (Array.isArray(y) && y.length === 0) continue;
    if (typeof y === 'object' && !Array.isArray(y) && Object.keys(y).length === 0 && !keep.has(k)) continue;
    out[k] = y;
  }
  return out;
}

/** Reads a dotted path (`status.conditions.0.lastUpdateTime`). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) cur = cur === null || typeof cur !== 'object' ? undefined : (cur as Record<string, unknown>)[k];
  return cur;
}

/** Writes a dotted path whose parents exist. */
export function setPath(obj: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = getPath(obj, keys.join('.'));
  if (parent && typeof parent === 'object') (parent as Record<string, unknown>)[last] = value;
}
