// Strategic merge patch, as upstream's k8s.io/apimachinery/pkg/util/strategicpatch: applying a patch
// (what the apiserver does for `application/strategic-merge-patch+json`) and computing two-way and
// three-way patches (what kubectl's client-side apply sends). The schema supplies each field's patch
// strategy and merge key; where there is none (unknown types, e.g. inside a RawExtension) maps merge
// and lists are replaced, as in a JSON merge patch.
import type { SchemaType } from '../schema/interface.js';
import { getOwn, hasOwn, setOwn } from '../own.js';
import { deepCopy, deepEqual, goFormat, goTypeName, isObject, type JsonObject, type JsonValue } from './json.js';

const DIRECTIVE = '$patch';
const DELETE = 'delete';
const REPLACE = 'replace';
const MERGE = 'merge';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

export const ErrBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
export const ErrBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
export const ErrBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
const ErrNoListOfLists = 'lists of lists are not supported';

/** An error from computing or applying a strategic merge patch; the message is upstream's. */
export class StrategicMergePatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrategicMergePatchError';
  }
}

function fail(message: string): never {
  throw new StrategicMergePatchError(message);
}
function errNoMergeKey(m: JsonObject, key: string): never {
  fail(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}
function errBadArgType(expected: 'map' | 'slice', actual: unknown): never {
  fail(`expected a ${expected === 'map' ? 'map[string]interface {}' : '[]interface {}'}, but received a ${goTypeName(actual)}`);
}
function errBadPatchType(t: unknown, m: JsonObject): never {
  fail(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);
}

// ---- schema lookups -------------------------------------------------------------------------------

interface PatchMeta {
  /** Schema of the map value (for maps) or of the list items (for lists). */
  sub: SchemaType | undefined;
  strategies: string[];
  mergeKey: string;
}

function fieldOf(type: SchemaType | undefined, key: string) {
  if (!type) return { sub: undefined, field: undefined };
  if (type.kind === 'object') {
    const field = type.property(key);
    return { sub: field?.type, field };
  }
  if (type.kind === 'map') return { sub: type.elem, field: undefined };
  return { sub: undefined, field: undefined };
}

function strategiesOf(s: string | undefined): string[] {
  return s ? s.split(',').map((x) => x.trim()).filter(Boolean) : [];
}

function lookupForMap(type: SchemaType | undefined, key: string): PatchMeta {
  const { sub, field } = fieldOf(type, key);
  return { sub: sub && sub.kind !== 'any' ? sub : undefined, strategies: strategiesOf(field?.patchStrategy), mergeKey: field?.patchMergeKey ?? '' };
}

function lookupForSlice(type: SchemaType | undefined, key: string): PatchMeta {
  const { sub, field } = fieldOf(type, key);
  const elem = sub?.kind === 'array' ? sub.elem : undefined;
  return { sub: elem && elem.kind !== 'any' ? elem : undefined, strategies: strategiesOf(field?.patchStrategy), mergeKey: field?.patchMergeKey ?? '' };
}

function schemaName(type: SchemaType | undefined): string {
  if (!type) return '';
  const i = type.name.lastIndexOf('.');
  return i >= 0 ? type.name.slice(i + 1) : type.name;
}

/** Splits e.g. ['merge','retainKeys'] into (retainKeys?, the other strategy). */
function extractRetainKeysPatchStrategy(strategies: string[]): { retainKeys: boolean; strategy: string } {
  switch (strategies.length) {
    case 0:
      return { retainKeys: false, strategy: '' };
    case 1:
      return strategies[0] === RETAIN_KEYS_STRATEGY ? { retainKeys: true, strategy: '' } : { retainKeys: false, strategy: strategies[0]! };
    case 2:
      if (strategies[0] === RETAIN_KEYS_STRATEGY) return { retainKeys: true, strategy: strategies[1]! };
      if (strategies[1] === RETAIN_KEYS_STRATEGY) return { retainKeys: true, strategy: strategies[0]! };
  }
  fail(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

// ---- list helpers ---------------------------------------------------------------------------------

type Kind = 'map' | 'scalar';

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && deepEqual(a, b);
}

function typeTag(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'slice';
  return typeof v;
}

/** The common element type of the lists: 'map' or 'scalar'; errors as upstream's sliceElementType. */
function sliceElementKind(...lists: (JsonValue[] | undefined)[]): Kind {
  let prev: string | undefined;
  for (const l of lists) {
    for (const v of l ?? []) {
      const t = typeTag(v);
      if (prev === undefined) {
        prev = t;
        if (t === 'slice') fail(ErrNoListOfLists);
      } else if (prev !== t) {
        fail(`list element types are not identical: ${goFormat(lists.map((x) => x ?? []))}`);
      }
    }
  }
  if (prev === undefined) fail('no elements in any of the given slices');
  return prev === 'object' ? 'map' : 'scalar';
}

function itemKey(item: unknown, mergeKey: string, kind: Kind): unknown {
  if (kind === 'map') return isObject(item) ? getOwn(item, mergeKey) : undefined;
  return item;
}

function indexIn(list: readonly JsonValue[], item: unknown, mergeKey: string, kind: Kind): number {
  const want = itemKey(item, mergeKey, kind);
  return list.findIndex((v) => same(itemKey(v, mergeKey, kind), want));
}

function validateMergeKeyInLists(mergeKey: string, ...lists: JsonValue[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isObject(item)) errBadArgType('map', item);
      if (!hasOwn(item, mergeKey)) errNoMergeKey(item, mergeKey);
    }
  }
}

function extractToDeleteItems(l: JsonValue[]): { keep: JsonValue[]; toDelete: JsonValue[] } {
  const keep: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const v of l) {
    if (!isObject(v)) errBadArgType('map', v);
    if (v[DIRECTIVE] === DELETE) toDelete.push(v);
    else keep.push(v);
  }
  return { keep, toDelete };
}

/** Sorts `toSort` by position in `order` (stable; items not in `order` keep their place after those that are). */
function normalizeSliceOrder(toSort: JsonValue[], order: JsonValue[], mergeKey: string, kind: Kind): JsonValue[] {
  let toDelete: JsonValue[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    ({ keep: toSort, toDelete } = extractToDeleteItems(toSort));
  }
  const ranked = toSort.map((v, i) => {
    const at = indexIn(order, v, mergeKey, kind);
    return { v, i, at: at < 0 ? Number.POSITIVE_INFINITY : at };
  });
  ranked.sort((a, b) => (a.at === b.at ? a.i - b.i : a.at < b.at ? -1 : 1));
  return [...ranked.map((r) => r.v), ...toDelete];
}

/** Interleaves server-only items (left) into patch items (right), using the live order where both are known. */
function mergeSortedSlice(left: JsonValue[], right: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: Kind): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]!);
      else out.push(right[j++]!);
    }
  }
  return out;
}

function normalizeElementOrder(patch: JsonValue[], serverOnly: JsonValue[], patchOrder: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: Kind): JsonValue[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function partitionPrimitives(list: JsonValue[], by: JsonValue[]): { inPatch: JsonValue[]; serverOnly: JsonValue[] } {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) (by.some((b) => same(b, v)) ? inPatch : serverOnly).push(v);
  return { inPatch, serverOnly };
}

function partitionMaps(list: JsonValue[], by: JsonValue[], mergeKey: string): { inPatch: JsonValue[]; serverOnly: JsonValue[] } {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) {
    if (!isObject(v)) errBadArgType('map', v);
    if (!hasOwn(v, mergeKey)) errNoMergeKey(v, mergeKey);
    (findByKey(by, mergeKey, v[mergeKey]!) ? inPatch : serverOnly).push(v);
  }
  return { inPatch, serverOnly };
}

function findByKey(list: JsonValue[], key: string, value: JsonValue): { item: JsonObject; index: number } | undefined {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isObject(v)) fail(`value for key ${i} is not a map`);
    if (hasOwn(v, key) && same(v[key], value)) return { item: v, index: i };
  }
  return undefined;
}

function dedupe(list: JsonValue[]): JsonValue[] {
  const out: JsonValue[] = [];
  for (const v of list) if (!out.some((o) => same(o, v))) out.push(v);
  return out;
}

/** Go's sort of scalars by their `%v` text. */
function sortScalars(list: JsonValue[]): JsonValue[] {
  return [...list].sort((a, b) => {
    const x = goFormat(a);
    const y = goFormat(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Removes `$patch` maps (and list items), returning keep=false when the value itself is a directive. */
function removeDirectives(v: JsonValue): { value: JsonValue; keep: boolean } {
  if (isObject(v)) {
    if (hasOwn(v, DIRECTIVE)) return { value: null, keep: false };
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      // Directive keys carry no data; upstream's typed decode would drop them.
      if (k.startsWith('$')) continue;
      const r = removeDirectives(x);
      if (r.keep) setOwn(out, k, r.value);
    }
    return { value: out, keep: true };
  }
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const x of v) {
      const r = removeDirectives(x);
      if (r.keep) out.push(r.value);
    }
    return { value: out, keep: true };
  }
  return { value: v, keep: true };
}

function discardNullValues(v: JsonValue): void {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else discardNullValues(x);
    }
  } else if (Array.isArray(v)) {
    v.forEach(discardNullValues);
  }
}

// ---- applying a patch -----------------------------------------------------------------------------

interface MergeOptions {
  /** Apply `$deleteFromPrimitiveList` / `$setElementOrder` / `$retainKeys` (false when merging two patches). */
  mergeParallelList: boolean;
  /** Drop nulls that match nothing in the original (false keeps them, for merging patches). */
  ignoreUnmatchedNulls: boolean;
}

const APPLY: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) fail(ErrBadPatchFormatForPrimitiveList);
    if (prefix === SET_ELEMENT_ORDER) fail(ErrBadPatchFormatForSetElementOrderList);
    fail(`fail to find unknown prefix "${prefix}" in ${s}\n`);
  }
  return s.slice(slash + 1);
}

function handleDirectiveInMergeMap(directive: JsonValue, patch: JsonObject): JsonObject {
  if (directive === REPLACE) {
    const out = { ...patch };
    delete out[DIRECTIVE];
    return out;
  }
  if (directive === DELETE) return {};
  errBadPatchType(directive, patch);
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject, opts: MergeOptions): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS]!;
  delete patch[RETAIN_KEYS];
  if (!opts.mergeParallelList) {
    if (hasOwn(original, RETAIN_KEYS)) {
      if (!deepEqual(original[RETAIN_KEYS], retain)) {
        fail(`${goFormat(original[RETAIN_KEYS])} and ${goFormat(retain)} are not deep equal: this may happen when calculating the 3-way diff patch`);
      }
    } else {
      original[RETAIN_KEYS] = retain;
    }
    return;
  }
  if (!Array.isArray(retain)) fail(ErrBadPatchFormatForRetainKeys);
  const keep = new Set(retain.map((v) => (typeof v === 'string' ? v : goFormat(v))));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) fail(ErrBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function validatePatchWithSetOrderList(patchList: JsonValue[], setOrder: JsonValue[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList).keep : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrder.length) {
    const item = nonDelete[p]!;
    if (isObject(item) && hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrder[s]!, mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrder.length) {
    fail(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(setOrder)}\n`);
  }
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (!mergeKey) return same(left, right);
  if (!isObject(left)) errBadArgType('map', left);
  if (!isObject(right)) errBadArgType('map', right);
  if (!hasOwn(left, mergeKey)) errNoMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) errNoMergeKey(right, mergeKey);
  return same(left[mergeKey], right[mergeKey]);
}

/** Handles each `$setElementOrder/<list>` together with `<list>`, removing both from the patch. */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, type: SchemaType | undefined, opts: MergeOptions): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key]!;
    if (!opts.mergeParallelList) {
      if (hasOwn(original, key)) {
        if (!deepEqual(original[key], order)) fail(ErrBadPatchFormatForSetElementOrderList);
      } else {
        setOwn(original, key, order);
      }
    }
    delete patch[key];
    if (!Array.isArray(order)) errBadArgType('slice', order);
    const listKey = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = hasOwn(original, listKey);
    const foundPatch = hasOwn(patch, listKey);
    let originalList: JsonValue[] = [];
    let patchList: JsonValue[] = [];
    if (foundOriginal) {
      const v = original[listKey]!;
      if (!Array.isArray(v)) errBadArgType('slice', v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[listKey]!;
      if (!Array.isArray(v)) errBadArgType('slice', v);
      patchList = v;
    }
    const meta = lookupForSlice(type, listKey);
    const { strategy } = extractRetainKeysPatchStrategy(meta.strategies);
    validatePatchWithSetOrderList(patchList, order, meta.mergeKey);

    let merged: JsonValue[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchList).value as JsonValue[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, meta.sub, strategy, meta.mergeKey, false, opts);
    else continue;

    const { inPatch, serverOnly } = meta.mergeKey ? partitionMaps(merged, order, meta.mergeKey) : partitionPrimitives(merged, order);
    const kind = sliceElementKind(originalList, patchList);
    setOwn(original, listKey, normalizeElementOrder(inPatch, serverOnly, order, originalList, meta.mergeKey, kind));
    delete patch[listKey];
  }
}

function mergeMap(original: JsonObject | null, patch: JsonObject, type: SchemaType | undefined, opts: MergeOptions): JsonObject {
  if (hasOwn(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE]!, patch);
  const out: JsonObject = original ?? {};
  applyRetainKeysDirective(out, patch, opts);
  mergePatchIntoOriginal(out, patch, type, opts);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      if (!opts.mergeParallelList) {
        setOwn(out, rawKey, patchV);
        continue;
      }
      k = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete out[k];
      if (opts.ignoreUnmatchedNulls) continue;
    }

    if (!hasOwn(out, k) || typeTag(out[k]) !== typeTag(patchV)) {
      if (!isDeleteList) {
        if (opts.ignoreUnmatchedNulls) discardNullValues(patchV);
        const r = removeDirectives(patchV);
        if (r.keep) setOwn(out, k, r.value);
        else delete out[k];
      }
      continue;
    }

    const current = out[k]!;
    if (isObject(current)) {
      const meta = lookupForMap(type, k);
      const { strategy } = extractRetainKeysPatchStrategy(meta.strategies);
      setOwn(out, k, strategy === REPLACE ? (patchV as JsonObject) : mergeMap(current, patchV as JsonObject, meta.sub, opts));
    } else if (Array.isArray(current)) {
      const meta = lookupForSlice(type, k);
      const { strategy } = extractRetainKeysPatchStrategy(meta.strategies);
      setOwn(out, k, mergeSliceHandler(current, patchV as JsonValue[], meta.sub, strategy, meta.mergeKey, isDeleteList, opts));
    } else {
      const r = removeDirectives(patchV);
      if (r.keep) setOwn(out, k, r.value);
      else delete out[k];
    }
  }
  return out;
}

function mergeSliceHandler(original: JsonValue, patch: JsonValue, elem: SchemaType | undefined, strategy: string, mergeKey: string, isDeleteList: boolean, opts: MergeOptions): JsonValue[] {
  if (!Array.isArray(original)) errBadArgType('slice', original);
  if (!Array.isArray(patch)) errBadArgType('slice', patch);
  if (strategy === MERGE || isDeleteList) return mergeSlice(original, patch, elem, mergeKey, opts, isDeleteList);
  return patch;
}

function mergeSlice(original: JsonValue[], patch: JsonValue[], elem: SchemaType | undefined, mergeKey: string, opts: MergeOptions, isDeleteList: boolean): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: JsonValue[];
  if (kind !== 'map') {
    if (opts.mergeParallelList && isDeleteList) {
      return original.filter((v) => !patch.some((d) => same(d, v)));
    }
    merged = dedupe([...original, ...patch]);
  } else {
    if (!mergeKey) fail(`cannot merge lists without merge key for ${schemaName(elem)}`);
    ({ original, patch } = mergeSliceWithSpecialElements(original, patch, mergeKey));
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, elem, opts);
  }
  const { inPatch, serverOnly } = mergeKey ? partitionMaps(merged, patch, mergeKey) : partitionPrimitives(merged, patch);
  return normalizeElementOrder(inPatch, serverOnly, patch, original, mergeKey, kind);
}

function mergeSliceWithSpecialElements(original: JsonValue[], patch: JsonValue[], mergeKey: string): { original: JsonValue[]; patch: JsonValue[] } {
  const plain: JsonValue[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JsonObject;
    if (!hasOwn(m, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === DELETE) {
      if (!hasOwn(m, mergeKey)) errNoMergeKey(m, mergeKey);
      const value = m[mergeKey]!;
      original = original.filter((o) => {
        if (!isObject(o)) fail(`value for key ${original.indexOf(o)} is not a map`);
        return !(hasOwn(o, mergeKey) && same(o[mergeKey], value));
      });
    } else if (directive === REPLACE) {
      replace = true;
    } else if (directive === MERGE) {
      fail('merging lists cannot yet be specified in the patch');
    } else {
      errBadPatchType(directive, m);
    }
  }
  return replace ? { original: plain, patch: [] } : { original, patch: plain };
}

function mergeSliceWithoutSpecialElements(original: JsonValue[], patch: JsonValue[], mergeKey: string, elem: SchemaType | undefined, opts: MergeOptions): JsonValue[] {
  const out = [...original];
  for (const v of patch) {
    const m = v as JsonObject;
    if (!hasOwn(m, mergeKey)) errNoMergeKey(m, mergeKey);
    const found = findByKey(out, mergeKey, m[mergeKey]!);
    if (found) {
      out[found.index] = mergeMap(found.item, m, elem, opts);
    } else if (opts.mergeParallelList) {
      // A new element: take it as it is, without directives (they have nothing to act on).
      out.push(removeDirectives(m).value);
    } else {
      out.push(m);
    }
  }
  return out;
}

/**
 * Applies a strategic merge patch to `original` (neither argument is modified) and returns the result.
 * Throws StrategicMergePatchError with upstream's message for a malformed patch.
 */
export function strategicMergePatch<T extends object>(original: T, patch: object, type: SchemaType | undefined): T {
  if (!isObject(patch)) errBadArgType('map', patch);
  return mergeMap(deepCopy(original as unknown as JsonObject), deepCopy(patch as JsonObject), type, APPLY) as unknown as T;
}

// ---- computing a patch ----------------------------------------------------------------------------

interface DiffOptions {
  setElementOrder?: boolean;
  ignoreChangesAndAdditions?: boolean;
  ignoreDeletions?: boolean;
  buildRetainKeysDirective?: boolean;
}

function diffMaps(original: JsonObject, modified: JsonObject, type: SchemaType | undefined, opts: DiffOptions): JsonObject {
  const patch: JsonObject = {};
  const retainKeys: JsonValue[] = [];
  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (opts.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);
    if (!hasOwn(original, key)) {
      if (!opts.ignoreChangesAndAdditions) setOwn(patch, key, modifiedValue);
      continue;
    }
    const originalValue = original[key]!;
    if (key === DIRECTIVE) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') fail(`invalid value for special key: ${DIRECTIVE}`);
      if (originalValue !== modifiedValue) patch[DIRECTIVE] = modifiedValue;
      continue;
    }
    if (typeTag(originalValue) !== typeTag(modifiedValue)) {
      if (!opts.ignoreChangesAndAdditions) setOwn(patch, key, modifiedValue);
      continue;
    }
    if (isObject(originalValue)) {
      const meta = lookupForMap(type, key);
      const { retainKeys: rk, strategy } = extractRetainKeysPatchStrategy(meta.strategies);
      if (strategy === REPLACE) {
        if (!opts.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) setOwn(patch, key, modifiedValue);
      } else {
        const p = diffMaps(originalValue, modifiedValue as JsonObject, meta.sub, { ...opts, buildRetainKeysDirective: rk });
        if (Object.keys(p).length > 0) setOwn(patch, key, p);
      }
    } else if (Array.isArray(originalValue)) {
      const meta = lookupForSlice(type, key);
      const { retainKeys: rk, strategy } = extractRetainKeysPatchStrategy(meta.strategies);
      if (strategy === MERGE) {
        const d = diffLists(originalValue, modifiedValue as JsonValue[], meta.sub, meta.mergeKey, { ...opts, buildRetainKeysDirective: rk });
        if (d.patch.length > 0) setOwn(patch, key, d.patch);
        if (d.deletions.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST}/${key}`] = d.deletions;
        if (d.order.length > 0) patch[`${SET_ELEMENT_ORDER}/${key}`] = d.order;
      } else if (!opts.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) {
        setOwn(patch, key, modifiedValue);
      }
    } else if (!opts.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) {
      setOwn(patch, key, modifiedValue);
    }
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!hasOwn(modified, key)) setOwn(patch, key, null);
  }
  const hasAdditionalNewField = Object.entries(original).some(([k, v]) => v !== null && !hasOwn(modified, k));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalNewField)) {
    patch[RETAIN_KEYS] = sortScalars(retainKeys);
  }
  return patch;
}

function diffLists(
  original: JsonValue[],
  modified: JsonValue[],
  elem: SchemaType | undefined,
  mergeKey: string,
  opts: DiffOptions,
): { patch: JsonValue[]; deletions: JsonValue[]; order: JsonValue[] } {
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return { patch: [], deletions: [], order: [] };
    return { patch: modified, deletions: [], order: [] };
  }
  const kind = sliceElementKind(original, modified);
  if (kind === 'map') {
    const d = diffListsOfMaps(original, modified, elem, mergeKey, opts);
    let patchList = normalizeSliceOrder(d.patch, modified, mergeKey, kind);
    const orderSame = original.length === modified.length && modified.every((m, i) => mergeKeyValueEqual(original[i]!, m, mergeKey));
    patchList = [...patchList, ...d.deletions];
    let order: JsonValue[] = [];
    if (opts.setElementOrder && ((!opts.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) || (!opts.ignoreDeletions && patchList.length > 0))) {
      order = modified.map((m) => ({ [mergeKey]: (m as JsonObject)[mergeKey]! }));
    }
    return { patch: patchList, deletions: [], order };
  }
  const d = diffListsOfScalars(original, modified, opts);
  const patchList = normalizeSliceOrder(d.patch, modified, mergeKey, kind);
  let order: JsonValue[] = [];
  if (opts.setElementOrder && ((!opts.ignoreDeletions && d.deletions.length > 0) || (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified)))) {
    order = modified;
  }
  return { patch: patchList, deletions: d.deletions, order };
}

function diffListsOfScalars(original: JsonValue[], modified: JsonValue[], opts: DiffOptions): { patch: JsonValue[]; deletions: JsonValue[] } {
  const o = sortScalars(original);
  const m = sortScalars(modified);
  const add: JsonValue[] = [];
  const del: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const os = i < o.length ? goFormat(o[i]) : undefined;
    const ms = j < m.length ? goFormat(m[j]) : undefined;
    if (os !== undefined && ms !== undefined && os === ms) {
      i++;
      j++;
    } else if (os === undefined || (ms !== undefined && os > ms)) {
      if (!opts.ignoreChangesAndAdditions) add.push(m[j]!);
      j++;
    } else {
      if (!opts.ignoreDeletions) del.push(o[i]!);
      i++;
    }
  }
  return { patch: add, deletions: dedupe(del) };
}

function sortByMergeKey(list: JsonValue[], mergeKey: string): JsonObject[] {
  return list
    .map((v) => {
      if (!isObject(v)) errBadArgType('map', v);
      if (!hasOwn(v, mergeKey)) errNoMergeKey(v, mergeKey);
      return v;
    })
    .sort((a, b) => {
      const x = goFormat(a[mergeKey]);
      const y = goFormat(b[mergeKey]);
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

function diffListsOfMaps(original: JsonValue[], modified: JsonValue[], elem: SchemaType | undefined, mergeKey: string, opts: DiffOptions): { patch: JsonValue[]; deletions: JsonValue[] } {
  const o = sortByMergeKey(original, mergeKey);
  const m = sortByMergeKey(modified, mergeKey);
  const patch: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const os = i < o.length ? goFormat(o[i]![mergeKey]) : undefined;
    const ms = j < m.length ? goFormat(m[j]![mergeKey]) : undefined;
    if (os !== undefined && ms !== undefined && os === ms) {
      const p = diffMaps(o[i]!, m[j]!, elem, opts);
      if (Object.keys(p).length > 0) {
        setOwn(p, mergeKey, m[j]![mergeKey]!);
        patch.push(p);
      }
      i++;
      j++;
    } else if (os === undefined || (ms !== undefined && os > ms)) {
      if (!opts.ignoreChangesAndAdditions) patch.push(m[j]!);
      j++;
    } else {
      if (!opts.ignoreDeletions) deletions.push({ [mergeKey]: o[i]![mergeKey]!, [DIRECTIVE]: DELETE });
      i++;
    }
  }
  return { patch, deletions };
}

/**
 * The patch that turns `original` into `modified` (upstream's CreateTwoWayMergePatch): changed and
 * added fields, nulls for removed fields, `$patch: delete` for removed merge-list elements,
 * `$deleteFromPrimitiveList` and `$setElementOrder` directives for merge lists.
 */
export function createTwoWayMergePatch(original: object, modified: object, type: SchemaType | undefined): JsonObject {
  return diffMaps(deepCopy(original as JsonObject), deepCopy(modified as JsonObject), type, { setElementOrder: true });
}

/**
 * The patch kubectl's client-side apply sends (upstream's CreateThreeWayMergePatch): changes from
 * `current` (the live object) to `modified` (the new configuration), plus deletions of what was in
 * `original` (the last-applied configuration) but is no longer in `modified`. With overwrite=false,
 * throws when the patch would change a field that was changed since the last apply.
 */
export function createThreeWayMergePatch(original: object | null, modified: object, current: object, type: SchemaType | undefined, overwrite = true): JsonObject {
  const o = deepCopy((original ?? {}) as JsonObject);
  const m = deepCopy(modified as JsonObject);
  const c = deepCopy(current as JsonObject);
  const delta = diffMaps(c, m, type, { ignoreDeletions: true, setElementOrder: true });
  const deletions = diffMaps(o, m, type, { ignoreChangesAndAdditions: true, setElementOrder: true });
  const patch = mergeMap(deletions, delta, type, { mergeParallelList: false, ignoreUnmatchedNulls: false });
  if (!overwrite) {
    const changed = diffMaps(o, c, type, {});
    if (mapsHaveConflicts(patch, changed, type)) {
      fail(`patch:\n${JSON.stringify(patch)}\nconflicts with changes made from original to current:\n${JSON.stringify(changed)}\n`);
    }
  }
  return patch;
}

function mapsHaveConflicts(left: JsonObject, right: JsonObject, type: SchemaType | undefined): boolean {
  for (const [key, lv] of Object.entries(left)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || !hasOwn(right, key)) continue;
    const rv = right[key]!;
    if (key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    if (typeTag(lv) !== typeTag(rv)) return true;
    if (isObject(lv)) {
      const meta = lookupForMap(type, key);
      if (mapsHaveConflicts(lv, rv as JsonObject, meta.sub)) return true;
    } else if (Array.isArray(lv)) {
      const meta = lookupForSlice(type, key);
      const { strategy } = extractRetainKeysPatchStrategy(meta.strategies);
      if (strategy === MERGE && meta.mergeKey) {
        const byKey = (l: JsonValue[]) => new Map(l.filter(isObject).map((x) => [goFormat(x[meta.mergeKey]), x] as const));
        const rm = byKey(rv as JsonValue[]);
        for (const [k, x] of byKey(lv)) {
          const y = rm.get(k);
          if (y && mapsHaveConflicts(x, y, meta.sub)) return true;
        }
      } else if (strategy !== MERGE && !deepEqual(lv, rv)) {
        return true;
      }
    } else if (!deepEqual(lv, rv)) {
      return true;
    }
  }
  return false;
}
