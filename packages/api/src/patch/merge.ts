// JSON merge patch (RFC 7386), as upstream's apiserver applies `application/merge-patch+json` with
// github.com/evanphx/json-patch's MergePatch. Keys are data: `__proto__` or `constructor` in a patch
// are set (or removed) as own properties, never followed to a prototype.
import { getOwn, setOwn } from '../own.js';
import { isObject, type JsonObject, type JsonValue } from './json.js';

/**
 * Applies `patch` to `target` and returns the result (neither argument is modified): a non-object
 * patch replaces the target, a null member removes the key, an object member is merged recursively.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergePatch(getOwn(out, k), v) as JsonValue);
  }
  return out;
}
