// Field selectors, as upstream's k8s.io/apimachinery/pkg/fields (the `fieldSelector` syntax), plus the
// per-resource selectable fields (registry GetAttrs/ToSelectableFields) and field label conversions
// (scheme.AddFieldLabelConversionFunc) that decide which fields a resource accepts. An unsupported field
// is rejected by the apiserver with 400 BadRequest whose message is the conversion's error text.

import type { KubeObject } from './types.js';
import { RESOURCES } from './resources.js';
import { getOwn } from './own.js';

export type FieldOperator = '=' | '!=';

export interface FieldRequirement {
  readonly field: string;
  /** `==` parses to `=`, as upstream's selection.Equals. */
  readonly operator: FieldOperator;
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  /** A missing field reads as the empty string, as upstream's fields.Set.Get. */
  matches(fields: Readonly<Record<string, string>>): boolean;
  empty(): boolean;
  /** The value the selector pins a field to with `=`, if any. */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical form: terms joined by `,`, values escaped. */
  toString(): string;
  /**
   * Rewrites every term's field and value (upstream's Transform). `fn` may throw; a term mapped to an
   * empty field and value is dropped.
   */
  transform(fn: (field: string, value: string) => [string, string]): FieldSelector;
}

/** Escapes `\`, `,` and `=` in a value (upstream's EscapeValue). */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => '\\' + c);
}

/** Undoes escapeValue; throws upstream's `invalid field selector: ...` errors. */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new Error(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw new Error(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new Error('invalid field selector: invalid escape sequence: \\');
  return out;
}

class AndSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  constructor(reqs: readonly FieldRequirement[]) {
    this.requirements = Object.freeze(reqs.map((r) => Object.freeze({ ...r })));
  }
  matches(fields: Readonly<Record<string, string>>): boolean {
    return this.requirements.every((r) => {
      const actual = getOwn(fields, r.field) ?? '';
      return r.operator === '=' ? actual === r.value : actual !== r.value;
    });
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.operator === '=' && r.field === field)?.value;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(',');
  }
  transform(fn: (field: string, value: string) => [string, string]): FieldSelector {
    const out: FieldRequirement[] = [];
    for (const r of this.requirements) {
      const [field, value] = fn(r.field, r.value);
      if (field.length === 0 && value.length === 0) continue;
      out.push({ field, operator: r.operator, value });
    }
    return new AndSelector(out);
  }
}

const everythingFields: FieldSelector = new AndSelector([]);

/** The selector that matches everything. */
export function everythingFieldSelector(): FieldSelector {
  return everythingFields;
}

/** `field=value`, as upstream's OneTermEqualSelector. */
export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return new AndSelector([{ field, operator: '=', value }]);
}

/** `field!=value`, as upstream's OneTermNotEqualSelector. */
export function oneTermNotEqualSelector(field: string, value: string): FieldSelector {
  return new AndSelector([{ field, operator: '!=', value }]);
}

/** All the requirements of several selectors, ANDed. */
export function andFieldSelectors(...sels: FieldSelector[]): FieldSelector {
  return new AndSelector(sels.flatMap((s) => s.requirements));
}

/** `k=v` for every pair (sorted by field). */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>>): FieldSelector {
  return new AndSelector(
    Object.keys(set)
      .sort()
      .map((field) => ({ field, operator: '=' as const, value: set[field]! })),
  );
}

/** Splits on unescaped commas. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const termOperators = ['!=', '==', '='] as const;

function splitTerm(term: string): [string, (typeof termOperators)[number], string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/**
 * Parses the `fieldSelector` syntax: `a=b`, `a==b`, `a!=b`, comma separated, with `\,` `\=` `\\`
 * escapes in values; the empty string matches everything. Terms are sorted, as upstream sorts them.
 * Throws an Error with upstream's message on bad input.
 */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw new Error(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, op, rhs] = split;
    reqs.push({ field, operator: op === '!=' ? '!=' : '=', value: unescapeValue(rhs) });
  }
  return new AndSelector(reqs);
}

// ---------------------------------------------------------------------------------------------
// Selectable fields per resource

function isNamespaced(resource: string, group: string, obj: KubeObject): boolean {
  const info = RESOURCES.find((r) => r.group === group && r.resource === resource);
  return info ? info.namespaced : obj.metadata?.namespace !== undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/**
 * The selectable fields of an object, as upstream's registry ToSelectableFields builds them: every
 * resource has `metadata.name` (and `metadata.namespace` when namespaced), plus the resource's own
 * fields. Events of either group are given under both the core names (`involvedObject.kind`,
 * `reportingComponent`) and the events.k8s.io names (`regarding.kind`, `reportingController`), whichever
 * shape the object is stored in.
 */
export function fieldsOf(resource: string, group: string, obj: KubeObject): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': str(obj.metadata?.name) };
  if (isNamespaced(resource, group, obj)) f['metadata.namespace'] = str(obj.metadata?.namespace);
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  switch (`${group}/${resource}`) {
    case '/pods':
      f['spec.nodeName'] = str(spec.nodeName);
      f['spec.restartPolicy'] = str(spec.restartPolicy);
      f['spec.schedulerName'] = str(spec.schedulerName);
      f['spec.serviceAccountName'] = str(spec.serviceAccountName);
      f['spec.hostNetwork'] = spec.hostNetwork === true ? 'true' : 'false';
      f['status.phase'] = str(status.phase);
      f['status.podIP'] = str(Array.isArray(status.podIPs) && status.podIPs.length > 0 ? status.podIPs[0]?.ip : status.podIP);
      f['status.nominatedNodeName'] = str(status.nominatedNodeName);
      break;
    case '/events':
    case 'events.k8s.io/events': {
      const ref = obj.involvedObject ?? obj.regarding ?? {};
      const reporting = str(obj.reportingComponent ?? obj.reportingController);
      for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
        f[`involvedObject.${k}`] = str(ref[k]);
        if (group === 'events.k8s.io') f[`regarding.${k}`] = str(ref[k]);
      }
      f['reason'] = str(obj.reason);
      f['source'] = str(obj.source?.component ?? obj.deprecatedSource?.component);
      f['type'] = str(obj.type);
      f['reportingComponent'] = reporting;
      if (group === 'events.k8s.io') f['reportingController'] = reporting;
      break;
    }
    case '/secrets':
      f['type'] = str(obj.type);
      break;
    case '/nodes':
      f['spec.unschedulable'] = spec.unschedulable === true ? 'true' : 'false';
      break;
    case '/namespaces':
      f['status.phase'] = str(status.phase);
      break;
    case '/replicationcontrollers':
    case 'apps/replicasets':
      f['status.replicas'] = String(status.replicas ?? 0);
      break;
    case 'batch/jobs':
      f['status.successful'] = String(status.succeeded ?? 0);
      break;
    case '/services':
      f['spec.clusterIP'] = str(spec.clusterIP);
      f['spec.type'] = str(spec.type);
      break;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Field label conversions: which fields a resource accepts in a selector, and how they are renamed.

/** Go's %q for plain ASCII text. */
function q(s: string): string {
  return JSON.stringify(s);
}

function allowList(labels: string[]): (label: string) => string {
  const set = new Set(labels);
  return (label) => {
    if (set.has(label)) return label;
    throw new Error(`field label not supported: ${label}`);
  };
}

const eventsV1Mapping: Record<string, string> = {
  reason: 'reason',
  'regarding.kind': 'involvedObject.kind',
  'regarding.namespace': 'involvedObject.namespace',
  'regarding.name': 'involvedObject.name',
  'regarding.uid': 'involvedObject.uid',
  'regarding.apiVersion': 'involvedObject.apiVersion',
  'regarding.resourceVersion': 'involvedObject.resourceVersion',
  'regarding.fieldPath': 'involvedObject.fieldPath',
  reportingController: 'reportingComponent',
  source: 'source',
  type: 'type',
  'metadata.namespace': 'metadata.namespace',
  'metadata.name': 'metadata.name',
};

const podLabels = allowList([
  'metadata.name',
  'metadata.namespace',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
]);

const conversions: Record<string, (label: string) => string> = {
  '/pods': (label) => (label === 'spec.host' ? 'spec.nodeName' : podLabels(label)), // spec.host: old v1 clients
  '/nodes': allowList(['metadata.name', 'spec.unschedulable']),
  '/replicationcontrollers': allowList(['metadata.name', 'metadata.namespace', 'status.replicas']),
  '/events': allowList([
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    'metadata.namespace',
    'metadata.name',
  ]),
  '/namespaces': allowList(['status.phase', 'metadata.name']),
  '/secrets': allowList(['type', 'metadata.namespace', 'metadata.name']),
  '/services': allowList(['metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type']),
  'events.k8s.io/events': (label) => {
    const mapped = getOwn(eventsV1Mapping, label);
    if (mapped === undefined) throw new Error(`field label not supported: ${label}`);
    return mapped;
  },
  'batch/jobs': (label) => {
    if (label === 'metadata.name' || label === 'metadata.namespace' || label === 'status.successful') return label;
    throw new Error(`field label ${q(label)} not supported for batchv1.Job`);
  },
};

/** Upstream's DefaultMetaV1FieldSelectorConversion, used by every resource without its own. */
function defaultConversion(label: string): string {
  if (label === 'metadata.name' || label === 'metadata.namespace') return label;
  throw new Error(`${q(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
}

/**
 * Converts a selector's field labels to the names fieldsOf() uses for the resource (e.g. pods'
 * `spec.host` to `spec.nodeName`, events.k8s.io's `regarding.kind` to `involvedObject.kind`), as the
 * apiserver's list/watch handler does. Throws an Error with upstream's message for an unsupported
 * field; the apiserver answers that with 400 BadRequest carrying the message.
 */
export function convertFieldSelector(resource: string, group: string, sel: FieldSelector): FieldSelector {
  const conv = getOwn(conversions, `${group}/${resource}`) ?? defaultConversion;
  return sel.transform((field, value) => [conv(field), value]);
}

/**
 * The error message for the first field the resource does not support, or undefined when every field
 * is supported. Upstream's text, e.g. `field label not supported: spec.foo` (pods) or
 * `"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"` (resources
 * without their own fields, including apps/v1 replicasets). The apiserver returns it as 400 BadRequest.
 */
export function validateFieldSelector(resource: string, group: string, sel: FieldSelector): string | undefined {
  try {
    convertFieldSelector(resource, group, sel);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
