// JSON patch (RFC 6902), as upstream's apiserver applies `application/json-patch+json` with
// github.com/evanphx/json-patch. fast-json-patch does the work; before each operation its pointers are
// checked to name only own members, so `/metadata/constructor/assign` or `/spec/toString/x` cannot walk
// into inherited functions or prototypes (fast-json-patch itself refuses only `__proto__` and
// `constructor/prototype`). A pointer through a missing member fails as upstream's does. A map key
// `__proto__` (e.g. ConfigMap data) can be added, replaced, removed and tested like any other key.
import jsonPatch, { type Operation } from 'fast-json-patch';
import { hasOwn, setOwn } from '../own.js';
import { deepCopy, deepEqual, isObject, type JsonObject } from './json.js';

const PROTO = '__proto__';

/** The reference tokens of a JSON pointer (`/a/b~1c` is ['a', 'b/c']), or undefined when it is not one. */
function tokens(pointer: unknown): string[] | undefined {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) return undefined;
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Checks that `pointer` walks only own members of objects in `doc`; `mustExist` also requires the last
 * member (remove, replace, test, and the `from` of move and copy). Array steps are left to fast-json-patch.
 */
function checkPointer(doc: unknown, op: string, pointer: unknown, mustExist: boolean): void {
  const toks = tokens(pointer);
  if (!toks) return;
  let cur: unknown = doc;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const last = i === toks.length - 1;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return;
      cur = cur[Number(t)];
      continue;
    }
    if (!isObject(cur)) return;
    if (!hasOwn(cur, t)) {
      if (last && !mustExist) return;
      throw new Error(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`);
    }
    cur = cur[t];
  }
}

/** The parent of the member `__proto__` that `pointer` names, when only its last token is `__proto__` (a map key, as data). */
function protoKeyParent(doc: unknown, pointer: unknown): JsonObject | undefined {
  const toks = tokens(pointer);
  if (!toks?.length || toks[toks.length - 1] !== PROTO || toks.slice(0, -1).includes(PROTO)) return undefined;
  let cur: unknown = doc;
  for (const t of toks.slice(0, -1)) cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
  return isObject(cur) ? cur : undefined;
}

/**
 * add, replace, remove and test of a `__proto__` map key, which fast-json-patch refuses outright, done
 * here as on any other key. Returns false for every other operation.
 */
function applyToProtoKey(doc: unknown, op: JsonObject): boolean {
  const parent = protoKeyParent(doc, op.path);
  if (!parent) return false;
  switch (op.op) {
    case 'add':
    case 'replace':
      if (op.value === undefined) return false;
      setOwn(parent, PROTO, deepCopy(op.value));
      return true;
    case 'remove':
      delete parent[PROTO];
      return true;
    case 'test':
      if (!deepEqual(parent[PROTO], op.value)) throw new Error(`testing value ${op.path as string} failed: test failed`);
      return true;
  }
  return false;
}

/** Applies the operations to a copy of `document` and returns it; throws an Error naming the failing operation. */
export function applyJSONPatch<T>(document: T, ops: readonly unknown[]): T {
  let doc = deepCopy(document);
  ops.forEach((raw, i) => {
    if (isObject(raw) && typeof raw.op === 'string') {
      const op = raw.op;
      checkPointer(doc, op, raw.path, op === 'remove' || op === 'replace' || op === 'test');
      if (op === 'move' || op === 'copy') checkPointer(doc, op, raw.from, true);
      if (applyToProtoKey(doc, raw)) return;
    }
    doc = jsonPatch.applyOperation(doc, raw as Operation, true, true, true, i).newDocument;
  });
  return doc;
}
