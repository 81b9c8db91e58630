// Server-side apply and field ownership (metadata.managedFields), after structured-merge-diff as the
// apiserver's fieldmanager drives it. Simplified: one API version per object (no conversion), no reset
// fields per strategy, no cap on the number of Update managers, no last-applied upgrade.
//
// Ownership is a set of field paths per manager. Apply merges the configuration into the live object,
// takes the configuration's fields as the applier's set, removes the fields the applier owned before
// and no longer applies (unless someone else owns them), and refuses (409) to change a field another
// manager owns unless forced. Update (create, update, patch) records the fields a request changed.
import type { ManagedFieldsEntry, StatusCause } from 'kubernetes-types/meta/v1';
import type { SchemaField, SchemaType } from '../schema/interface.js';
import { StatusError } from '../errors.js';
import { FieldSet, pathString, type FieldPath, type PathElement } from './fieldset.js';
import { getOwn, hasOwn, setOwn } from '../own.js';
import { deepCopy, deepEqual, isObject, type JsonObject, type JsonValue } from './json.js';

export type ManagedFieldsOperation = 'Apply' | 'Update';

export interface ApplyOptions {
  force: boolean;
  /** RFC3339 time recorded on the entry, e.g. '2024-05-01T10:00:00Z'. */
  now: string;
  /** The API version of the request, e.g. 'apps/v1'. */
  apiVersion: string;
  /** e.g. 'status' for an apply to /status. */
  subresource?: string;
}

export interface UpdateOptions {
  now: string;
  apiVersion: string;
  subresource?: string;
}

export interface ManagedResult<T> {
  object: T;
  managedFields: ManagedFieldsEntry[];
}

/** Manager name used for the fields of an object that had no managedFields when first applied to. */
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';

/** The cause type of each conflict in an apply conflict's Status. */
export const FIELD_MANAGER_CONFLICT = 'FieldManagerConflict';

// ---- schema view ----------------------------------------------------------------------------------

type ListShape = { kind: 'atomic' } | { kind: 'set' } | { kind: 'map'; keys: readonly string[] };

function listShape(type: SchemaType | undefined, field: SchemaField | undefined): ListShape {
  if (field?.listType === 'atomic') return { kind: 'atomic' };
  if (field?.listType === 'set') return { kind: 'set' };
  if (field?.listType === 'map') {
    const keys = field.listMapKeys?.length ? field.listMapKeys : field.patchMergeKey ? [field.patchMergeKey] : [];
    return keys.length ? { kind: 'map', keys } : { kind: 'atomic' };
  }
  const merge = (field?.patchStrategy ?? '').split(',').includes('merge');
  if (merge && field?.patchMergeKey) return { kind: 'map', keys: [field.patchMergeKey] };
  const elemKind = type?.elem?.kind;
  if (merge && elemKind && elemKind !== 'object' && elemKind !== 'map' && elemKind !== 'array') return { kind: 'set' };
  return { kind: 'atomic' };
}

/** x-kubernetes-map-type atomic on the field, or on the type itself (`+structType=atomic`, e.g. LabelSelector). */
function isAtomicMap(type: SchemaType | undefined, field: SchemaField | undefined): boolean {
  if (field?.mapType) return field.mapType === 'atomic';
  return (type as { mapType?: string } | undefined)?.mapType === 'atomic';
}

function child(type: SchemaType | undefined, key: string): { type: SchemaType | undefined; field: SchemaField | undefined } {
  if (!type) return { type: undefined, field: undefined };
  if (type.kind === 'object') {
    const field = type.property(key);
    return { type: field?.type, field };
  }
  if (type.kind === 'map') return { type: type.elem, field: undefined };
  return { type: undefined, field: undefined };
}

/** Schemas default these list-map keys; the key of an item that omits them uses the default. */
const KEY_DEFAULTS: Record<string, JsonValue> = { protocol: 'TCP' };

function itemKey(item: JsonValue, keys: readonly string[]): PathElement {
  const k: JsonObject = {};
  const obj = isObject(item) ? item : {};
  for (const name of [...keys].sort()) {
    const v = getOwn(obj, name) ?? getOwn(KEY_DEFAULTS, name);
    if (v !== undefined && v !== null) setOwn(k, name, v);
  }
  return `k:${JSON.stringify(k)}`;
}

const valueElement = (v: JsonValue): PathElement => `v:${JSON.stringify(v)}`;

// ---- field sets of values -------------------------------------------------------------------------

/**
 * Adds the paths of `value` to `set`: leaves, atomic lists and maps, list items and set values; with
 * `maps`, also every granular map (not struct) node itself (as an Update that adds a map records it).
 */
function collect(value: JsonValue | undefined, type: SchemaType | undefined, field: SchemaField | undefined, path: FieldPath, set: FieldSet, maps: boolean): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    const shape = listShape(type, field);
    if (shape.kind === 'atomic') set.add(path);
    else if (shape.kind === 'set') for (const v of value) set.add([...path, valueElement(v)]);
    else {
      for (const item of value) {
        const p = [...path, itemKey(item, shape.keys)];
        set.add(p);
        collectFields(item, type?.elem, p, set, maps);
      }
    }
    return;
  }
  if (isObject(value)) {
    if (isAtomicMap(type, field)) {
      set.add(path);
      return;
    }
    if (maps && type?.kind !== 'object') set.add(path);
    collectFields(value, type, path, set, maps);
    return;
  }
  set.add(path);
}

function collectFields(value: JsonValue, type: SchemaType | undefined, path: FieldPath, set: FieldSet, maps: boolean): void {
  if (!isObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const c = child(type, k);
    collect(v, c.type, c.field, [...path, `f:${k}`], set, maps);
  }
}

interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

function compare(lhs: JsonValue | undefined, rhs: JsonValue | undefined, type: SchemaType | undefined, field: SchemaField | undefined, path: FieldPath, out: Comparison): void {
  const l = lhs ?? undefined;
  const r = rhs ?? undefined;
  if (l === undefined && r === undefined) return;
  if (l === undefined) {
    collect(r, type, field, path, out.added, true);
    return;
  }
  if (r === undefined) {
    collect(l, type, field, path, out.removed, true);
    return;
  }
  if (Array.isArray(l) && Array.isArray(r)) {
    const shape = listShape(type, field);
    if (shape.kind === 'atomic') {
      if (!deepEqual(l, r)) out.modified.add(path);
    } else if (shape.kind === 'set') {
      for (const v of r) if (!l.some((x) => deepEqual(x, v))) out.added.add([...path, valueElement(v)]);
      for (const v of l) if (!r.some((x) => deepEqual(x, v))) out.removed.add([...path, valueElement(v)]);
    } else {
      const lm = new Map(l.map((i) => [itemKey(i, shape.keys), i] as const));
      const rm = new Map(r.map((i) => [itemKey(i, shape.keys), i] as const));
      for (const [k, item] of rm) {
        const p = [...path, k];
        if (!lm.has(k)) {
          out.added.add(p);
          collectFields(item, type?.elem, p, out.added, true);
        } else {
          compareFields(lm.get(k)!, item, type?.elem, p, out);
        }
      }
      for (const [k, item] of lm) {
        if (rm.has(k)) continue;
        const p = [...path, k];
        out.removed.add(p);
        collectFields(item, type?.elem, p, out.removed, true);
      }
    }
    return;
  }
  if (isObject(l) && isObject(r) && !isAtomicMap(type, field)) {
    compareFields(l, r, type, path, out);
    return;
  }
  if (!deepEqual(l, r)) out.modified.add(path);
}

function compareFields(l: JsonValue, r: JsonValue, type: SchemaType | undefined, path: FieldPath, out: Comparison): void {
  const lo = isObject(l) ? l : {};
  const ro = isObject(r) ? r : {};
  for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
    const c = child(type, k);
    compare(getOwn(lo, k), getOwn(ro, k), c.type, c.field, [...path, `f:${k}`], out);
  }
}

function compareObjects(lhs: JsonObject, rhs: JsonObject, type: SchemaType | undefined): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareFields(lhs, rhs, type, [], out);
  return out;
}

// ---- merge and prune ------------------------------------------------------------------------------

function stripNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) setOwn(out, k, stripNulls(x));
    return out;
  }
  return v;
}

/** Merges an applied configuration into the live value (structured-merge-diff's merge). */
function merge(lhs: JsonValue | undefined, rhs: JsonValue, type: SchemaType | undefined, field: SchemaField | undefined): JsonValue {
  if (lhs === undefined || lhs === null) return deepCopy(rhs);
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    const shape = listShape(type, field);
    if (shape.kind === 'set') return [...lhs, ...rhs.filter((v) => !lhs.some((x) => deepEqual(x, v)))];
    if (shape.kind === 'map') {
      const config = new Map(rhs.map((i) => [itemKey(i, shape.keys), i] as const));
      const seen = new Set<string>();
      const out = lhs.map((item) => {
        const k = itemKey(item, shape.keys);
        seen.add(k);
        const c = config.get(k);
        return c === undefined ? item : mergeFields(item, c, type?.elem);
      });
      for (const [k, item] of config) if (!seen.has(k)) out.push(deepCopy(item));
      return out;
    }
    return deepCopy(rhs);
  }
  if (isObject(lhs) && isObject(rhs) && !isAtomicMap(type, field)) return mergeFields(lhs, rhs, type);
  return deepCopy(rhs);
}

function mergeFields(lhs: JsonValue, rhs: JsonValue, type: SchemaType | undefined): JsonObject {
  const out: JsonObject = isObject(lhs) ? { ...lhs } : {};
  if (!isObject(rhs)) return out;
  for (const [k, v] of Object.entries(rhs)) {
    const c = child(type, k);
    setOwn(out, k, merge(getOwn(out, k), v, c.type, c.field));
  }
  return out;
}

/** Removes the value at `path` from `obj` (in place); a key field of a kept list item is never removed. */
function removePath(obj: JsonObject, path: FieldPath): void {
  let parent: JsonValue = obj;
  for (let i = 0; i < path.length; i++) {
    const pe = path[i]!;
    const last = i === path.length - 1;
    const kind = pe.slice(0, 2);
    const body = pe.slice(2);
    if (kind === 'f:') {
      if (!isObject(parent) || !hasOwn(parent, body)) return;
      if (last) {
        const prev = path[i - 1];
        if (prev?.startsWith('k:') && hasOwn(JSON.parse(prev.slice(2)) as object, body)) return;
        delete parent[body];
        return;
      }
      parent = parent[body]!;
    } else if (Array.isArray(parent)) {
      let idx = -1;
      if (kind === 'k:') {
        const key = JSON.parse(body) as JsonObject;
        idx = parent.findIndex((item) => isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(getOwn(item, k) ?? getOwn(KEY_DEFAULTS, k), v)));
      } else if (kind === 'v:') {
        const want = JSON.parse(body) as JsonValue;
        idx = parent.findIndex((v) => deepEqual(v, want));
      } else if (kind === 'i:') {
        idx = Number(body);
      }
      if (idx < 0 || idx >= parent.length) return;
      if (last) {
        parent.splice(idx, 1);
        return;
      }
      parent = parent[idx]!;
    } else {
      return;
    }
  }
}

// ---- managers -------------------------------------------------------------------------------------

interface ManagerEntry {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** upstream's BuildManagerIdentifier: Apply entries are one per manager whatever the version. */
function managerId(e: { manager: string; operation: string; apiVersion?: string; subresource?: string }): string {
  return JSON.stringify({
    manager: e.manager,
    operation: e.operation,
    ...(e.operation === 'Update' && e.apiVersion ? { apiVersion: e.apiVersion } : {}),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  });
}

function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): Map<string, ManagerEntry> {
  const out = new Map<string, ManagerEntry>();
  for (const e of entries ?? []) {
    if (!e.manager && !e.operation && !e.fieldsV1) continue;
    const entry: ManagerEntry = {
      manager: e.manager ?? '',
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: e.apiVersion ?? '',
      subresource: e.subresource || undefined,
      time: e.time,
      set: FieldSet.fromFieldsV1(e.fieldsV1),
    };
    const id = managerId(entry);
    const prev = out.get(id);
    if (prev) prev.set = prev.set.union(entry.set);
    else out.set(id, entry);
  }
  return out;
}

function seconds(t: string | undefined): number {
  return t ? Math.floor(Date.parse(t) / 1000) : 0;
}

/** Encodes managers as upstream orders them: by operation, time, manager, apiVersion, subresource. */
function encodeManagedFields(managers: Map<string, ManagerEntry>): ManagedFieldsEntry[] {
  const entries = [...managers.values()].filter((m) => !m.set.isEmpty());
  entries.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Fields nobody owns: the object's identity and server-set metadata (upstream's stripMetaManager). */
const STRIPPED: FieldPath[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:selfLink'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:clusterName'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
];

function stripMeta(set: FieldSet): FieldSet {
  const out = new FieldSet(set.list());
  for (const p of STRIPPED) out.delete(p);
  out.deleteTree(['f:metadata', 'f:managedFields']);
  return out;
}

/** The object without metadata.managedFields (ownership is not itself owned). */
function withoutManagedFields(obj: object | null | undefined): JsonObject {
  const copy = deepCopy((obj ?? {}) as JsonObject);
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/** `obj` without metadata.managedFields, copying only its top level and metadata (the rest is shared, for reading). */
function viewWithoutManagedFields(obj: object): JsonObject {
  const view: JsonObject = { ...(obj as JsonObject) };
  if (isObject(view.metadata)) {
    const { managedFields: _owned, ...metadata } = view.metadata;
    view.metadata = metadata;
  }
  return view;
}

// ---- fields of a created object -------------------------------------------------------------------

/**
 * A FieldsV1 tree being built: `member` when the path itself is in the set. Every path element has
 * a two-character prefix (`f:`, `k:`, `v:`), so no key is `__proto__`.
 */
class FieldsNode {
  member = false;
  children: Map<PathElement, FieldsNode> | undefined;

  child(pe: PathElement): FieldsNode {
    this.children ??= new Map();
    let c = this.children.get(pe);
    if (!c) this.children.set(pe, (c = new FieldsNode()));
    return c;
  }

  /** The FieldsV1 form (as FieldSet.toFieldsV1), or undefined when nothing at or below it is a member. */
  toFieldsV1(): Record<string, unknown> | undefined {
    let out: Record<string, unknown> | undefined;
    if (this.children) {
      for (const pe of [...this.children.keys()].sort()) {
        const v = this.children.get(pe)!.toFieldsV1();
        if (v === undefined) continue;
        out ??= this.member ? { '.': {} } : {};
        out[pe] = v;
      }
    }
    return out ?? (this.member ? {} : undefined);
  }
}

/** Adds what collect(value, ..., maps = true) adds, below `node` (the node of the value's path). */
function addCreated(value: JsonValue, type: SchemaType | undefined, field: SchemaField | undefined, node: FieldsNode): void {
  if (Array.isArray(value)) {
    const shape = listShape(type, field);
    if (shape.kind === 'atomic') node.member = true;
    else if (shape.kind === 'set') for (const v of value) node.child(valueElement(v)).member = true;
    else {
      for (const item of value) {
        const n = node.child(itemKey(item, shape.keys));
        n.member = true;
        addCreatedFields(item, type?.elem, n);
      }
    }
    return;
  }
  if (isObject(value)) {
    if (isAtomicMap(type, field)) {
      node.member = true;
      return;
    }
    if (type?.kind !== 'object') node.member = true;
    addCreatedFields(value, type, node);
    return;
  }
  node.member = true;
}

function addCreatedFields(value: JsonValue, type: SchemaType | undefined, node: FieldsNode): void {
  if (!isObject(value)) return;
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined || v === null) continue;
    const c = child(type, k);
    addCreated(v, c.type, c.field, node.child(`f:${k}`));
  }
}

/**
 * The FieldsV1 an Update creating `obj` (without managedFields) records when no other manager owns
 * anything: every field of the object but the stripped metadata (recordUpdate from an empty object,
 * built as one tree instead of path sets).
 */
function createdFieldsV1(obj: JsonObject, type: SchemaType | undefined): Record<string, unknown> | undefined {
  const root = new FieldsNode();
  addCreatedFields(obj, type, root);
  for (const p of STRIPPED) {
    let node: FieldsNode | undefined = root;
    for (const pe of p) node = node?.children?.get(pe);
    if (node) node.member = false;
  }
  root.children?.get('f:metadata')?.children?.delete('f:managedFields');
  return root.toFieldsV1();
}

/** The one managedFields entry of a create by `manager` (as encodeManagedFields writes it). */
function createdEntry(manager: string, fieldsV1: Record<string, unknown>, opts: UpdateOptions): ManagedFieldsEntry {
  const e: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion: opts.apiVersion };
  if (opts.now) e.time = opts.now;
  e.fieldsType = 'FieldsV1';
  e.fieldsV1 = fieldsV1;
  if (opts.subresource) e.subresource = opts.subresource;
  return e;
}

function withManagedFields<T>(obj: JsonObject, managedFields: ManagedFieldsEntry[]): T {
  const meta = isObject(obj.metadata) ? obj.metadata : (obj.metadata = {});
  if (managedFields.length) meta.managedFields = managedFields as unknown as JsonValue;
  else delete meta.managedFields;
  return obj as unknown as T;
}

/** Records an Update by `manager` from `live` to `updated` in `managers` (structured-merge-diff's Updater.Update). */
function recordUpdate(managers: Map<string, ManagerEntry>, live: JsonObject, updated: JsonObject, type: SchemaType | undefined, manager: string, opts: UpdateOptions): void {
  const c = compareObjects(live, updated, type);
  const changed = c.modified.union(c.added);
  // An update that changes nothing takes no fields, so no entry (nor its time) changes, as upstream.
  if (changed.isEmpty() && c.removed.list().length === 0) return;
  const id = managerId({ manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource });
  for (const [otherId, m] of managers) {
    if (otherId === id) continue;
    m.set = m.set.difference(changed);
    for (const p of c.removed.list()) m.set.deleteTree(p);
  }
  const prev = managers.get(id);
  let set = prev ? prev.set : new FieldSet();
  for (const p of c.removed.list()) set.deleteTree(p);
  set = stripMeta(set.union(changed));
  if (set.isEmpty()) {
    managers.delete(id);
    return;
  }
  managers.set(id, { manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource, time: opts.now, set });
}

/**
 * Records ownership for an ordinary create (`live` null), update or patch by `manager` (operation
 * Update), as the apiserver does before storing `updated`. Returns `updated` with its
 * metadata.managedFields set: a copy on update and patch; on create, a new top level and metadata
 * that share everything else with `updated`. As upstream: managedFields sent in the request replace the live ones
 * (`[{}]` clears them), and an existing object without managedFields is not tracked until applied to.
 */
export function updateManagedFields<T extends object>(live: object | null, updated: T, manager: string, type: SchemaType | undefined, opts: UpdateOptions): ManagedResult<T> {
  const requested = (updated as { metadata?: { managedFields?: ManagedFieldsEntry[] } }).metadata?.managedFields;
  const liveFields = (live as { metadata?: { managedFields?: ManagedFieldsEntry[] } } | null)?.metadata?.managedFields;
  const reset = requested?.length === 1 && Object.keys(requested[0] ?? {}).length === 0;
  let managers = reset ? new Map<string, ManagerEntry>() : decodeManagedFields(requested);
  if (!reset && managers.size === 0) managers = decodeManagedFields(liveFields);

  if (live === null) {
    // A create: nothing is compared, so the object is only read, never copied.
    const next = viewWithoutManagedFields(updated);
    let managedFields: ManagedFieldsEntry[];
    if (managers.size === 0) {
      const fields = createdFieldsV1(next, type);
      managedFields = fields ? [createdEntry(manager || 'unknown', fields, opts)] : [];
    } else {
      recordUpdate(managers, {}, next, type, manager || 'unknown', opts);
      managedFields = encodeManagedFields(managers);
    }
    return { object: withManagedFields<T>(next, managedFields), managedFields };
  }
  const next = withoutManagedFields(updated);
  if (managers.size === 0 && live !== null) {
    return { object: withManagedFields<T>(next, []), managedFields: [] };
  }
  recordUpdate(managers, withoutManagedFields(live), next, type, manager || 'unknown', opts);
  const managedFields = encodeManagedFields(managers);
  return { object: withManagedFields<T>(next, managedFields), managedFields };
}

interface Conflict {
  manager: ManagerEntry;
  path: FieldPath;
}

function printManager(m: ManagerEntry): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

/** The 409 an apply conflict becomes: upstream's message, one FieldManagerConflict cause per field. */
function applyConflictError(conflicts: Conflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: FIELD_MANAGER_CONFLICT,
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, Conflict[]>();
    for (const c of conflicts) {
      const id = managerId(c.manager);
      byManager.set(id, [...(byManager.get(id) ?? []), c]);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const group = byManager.get(id)!;
      lines.push(`conflicts with ${printManager(group[0]!.manager)}:`);
      for (const c of group) lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError({ code: 409, reason: 'Conflict', message, details: { causes } });
}

/**
 * Server-side apply of the configuration `applied` by `manager` to `live` (null to create). Returns
 * the new object (with metadata.managedFields) and its managedFields. When nothing changes, the
 * object equals `live`. Throws a 409 StatusError (reason Conflict, causes FieldManagerConflict) when
 * the configuration changes fields other managers own and `opts.force` is false.
 */
export function apply<T extends object>(live: object | null, applied: object, manager: string, type: SchemaType | undefined, opts: ApplyOptions): ManagedResult<T> {
  const liveFields = (live as { metadata?: { managedFields?: ManagedFieldsEntry[] } } | null)?.metadata?.managedFields;
  const managers = decodeManagedFields(liveFields);
  const liveObj = withoutManagedFields(live);
  if (live !== null && managers.size === 0) {
    recordUpdate(managers, {}, liveObj, type, BEFORE_FIRST_APPLY_MANAGER, { now: opts.now, apiVersion: opts.apiVersion });
  }
  const config = stripNulls(withoutManagedFields(applied)) as JsonObject;

  // Merge, take the configuration's fields, prune what this manager no longer applies.
  const merged = mergeFields(liveObj, config, type);
  const id = managerId({ manager, operation: 'Apply', subresource: opts.subresource });
  const previous = managers.get(id);
  const configSet = new FieldSet();
  collectFields(config, type, [], configSet, false);
  const newSet = stripMeta(configSet);
  if (previous) {
    const keep = new FieldSet(newSet.list());
    for (const [otherId, m] of managers) if (otherId !== id) for (const p of m.set.list()) keep.add(p);
    for (const p of previous.set.difference(newSet).list()) {
      if (!keep.hasOrHasDescendant(p)) removePath(merged, p);
    }
  }

  // Conflicts: fields this apply changes that other managers own.
  const c = compareObjects(liveObj, merged, type);
  const changed = c.modified.union(c.added);
  const conflicts: Conflict[] = [];
  for (const [otherId, m] of [...managers].sort(([a], [b]) => cmp(a, b))) {
    if (otherId === id) continue;
    for (const p of m.set.intersection(changed).list()) conflicts.push({ manager: m, path: p });
  }
  if (conflicts.length && !opts.force) throw applyConflictError(conflicts);

  for (const [otherId, m] of managers) {
    if (otherId === id) continue;
    m.set = m.set.difference(changed);
    for (const p of c.removed.list()) m.set.deleteTree(p);
  }
  const unchanged = deepEqual(liveObj, merged) && live !== null;
  managers.set(id, {
    manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    subresource: opts.subresource,
    time: unchanged ? previous?.time ?? opts.now : opts.now,
    set: newSet,
  });
  for (const [k, m] of managers) if (m.set.isEmpty()) managers.delete(k);

  const managedFields = encodeManagedFields(managers);
  const object = unchanged ? liveObj : merged;
  return { object: withManagedFields<T>(object, managedFields), managedFields };
}

/** upstream's prefixFromUserAgent: the user agent up to its first '/', printable characters, at most 128 bytes. */
export function prefixFromUserAgent(userAgent: string): string {
  const head = userAgent.split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of head) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    const n = Buffer.byteLength(ch);
    if (bytes + n > 128) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** The manager name of a request: its fieldManager, or else derived from its User-Agent. */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  return fieldManager ? fieldManager : prefixFromUserAgent(userAgent ?? '');
}
