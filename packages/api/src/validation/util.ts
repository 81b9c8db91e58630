// Shared building blocks for the per-kind validators: field paths, numeric bounds, immutability,
// label selectors and resource quantities, mirroring upstream's apimachinery and core helpers.
import { fieldErrors, type FieldError } from '../field-error.js';
import { Quantity, ERR_QUANTITY_FORMAT } from '../quantity.js';
import { isDNS1123Label, isDNS1123Subdomain, isDNS1035Label, isQualifiedName, isValidLabelValue, isValidPortName, isValidPortNum } from './names.js';
import { hasOwn } from '../own.js';

export type FieldErrorList = FieldError[];

/** `child('spec', 'replicas')` → `spec.replicas`; an empty parent yields the bare name. */
export function child(path: string, ...names: string[]): string {
  let p = path;
  for (const n of names) p = p ? `${p}.${n}` : n;
  return p;
}
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = <T>(v: T[] | undefined | null): T[] => (Array.isArray(v) ? v : []);
export const asMap = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});

export const IS_NEGATIVE = 'must be greater than or equal to 0';
export const NOT_POSITIVE = 'must be greater than zero';
export const IMMUTABLE = 'field is immutable';

export function nonNegative(value: unknown, path: string): FieldErrorList {
  return typeof value === 'number' && value < 0 ? [fieldErrors.invalid(path, value, IS_NEGATIVE)] : [];
}

export function positive(value: unknown, path: string): FieldErrorList {
  return typeof value === 'number' && value <= 0 ? [fieldErrors.invalid(path, value, NOT_POSITIVE)] : [];
}

/** Deep equality over JSON values, treating absent, null and empty collections as different (as Go's DeepEqual would for set/unset). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ak.length !== bk.length) return false;
    return ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

export function immutable(newVal: unknown, oldVal: unknown, path: string): FieldErrorList {
  return deepEqual(newVal, oldVal) ? [] : [fieldErrors.invalid(path, newVal, IMMUTABLE)];
}

/** Maps each message of a names.ts check to an Invalid error at `path`. */
export function msgsToInvalid(msgs: string[], path: string, value: unknown): FieldErrorList {
  return msgs.map((m) => fieldErrors.invalid(path, value, m));
}

export const validateDNS1123Label = (v: string, path: string) => msgsToInvalid(isDNS1123Label(v), path, v);
export const validateDNS1123Subdomain = (v: string, path: string) => msgsToInvalid(isDNS1123Subdomain(v), path, v);
export const validateDNS1035Label = (v: string, path: string) => msgsToInvalid(isDNS1035Label(v), path, v);
export const validateQualifiedName = (v: string, path: string) => msgsToInvalid(isQualifiedName(v), path, v);

/** Label map: each key a qualified name, each value a label value; errors point at the map. */
export function validateLabels(labels: unknown, path: string): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const [k, v] of Object.entries(asMap(labels))) {
    errs.push(...msgsToInvalid(isQualifiedName(k), path, k));
    const sv = typeof v === 'string' ? v : String(v);
    errs.push(...msgsToInvalid(isValidLabelValue(sv), path, sv));
  }
  return errs;
}

// ---- label selectors ----

export interface LabelSelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function validateLabelSelector(sel: LabelSelectorLike | undefined | null, path: string): FieldErrorList {
  if (!sel) return [];
  const errs: FieldErrorList = [];
  asArray(sel.matchExpressions).forEach((req, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const values = asArray(req?.values);
    switch (req?.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(child(p, 'operator'), req?.operator, 'not a valid selector operator'));
    }
    errs.push(...msgsToInvalid(isQualifiedName(req?.key ?? ''), child(p, 'key'), req?.key ?? ''));
    values.forEach((v, j) => errs.push(...msgsToInvalid(isValidLabelValue(v), index(child(p, 'values'), j), v)));
  });
  errs.push(...validateLabels(sel.matchLabels, child(path, 'matchLabels')));
  return errs;
}

export function selectorIsEmpty(sel: LabelSelectorLike | undefined | null): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && asArray(sel.matchExpressions).length === 0);
}

/** Whether a (valid) label selector selects the given labels. A nil selector selects nothing, an empty one everything. */
export function selectorMatches(sel: LabelSelectorLike | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (!hasOwn(l, k) || l[k] !== v) return false;
  for (const req of asArray(sel.matchExpressions)) {
    const has = hasOwn(l, req.key);
    const vals = asArray(req.values);
    switch (req.operator) {
      case 'In':
        if (!has || !vals.includes(l[req.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[req.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---- ports ----

/** An IntOrString port: a number 1-65535 or an IANA service name. */
export function validatePortNumOrName(port: unknown, path: string): FieldErrorList {
  if (typeof port === 'number') return msgsToInvalid(isValidPortNum(port), path, port);
  if (typeof port === 'string') return msgsToInvalid(isValidPortName(port), path, port);
  return [fieldErrors.invalid(path, port, 'must be an integer or a string')];
}

// ---- quantities ----

export const QUANTITY_SYNTAX = ERR_QUANTITY_FORMAT;

/** Parses a quantity field; returns the Quantity or an error. */
export function parseQuantity(value: unknown, path: string): { q?: Quantity; errs: FieldErrorList } {
  if (typeof value !== 'string' && typeof value !== 'number') return { errs: [fieldErrors.invalid(path, value, QUANTITY_SYNTAX)] };
  try {
    return { q: Quantity.parse(value), errs: [] };
  } catch (e) {
    return { errs: [fieldErrors.invalid(path, value, e instanceof Error && e.message ? e.message : QUANTITY_SYNTAX)] };
  }
}

export function quantityString(q: Quantity): string {
  return q.toString();
}

export function isNegativeQuantity(q: Quantity): boolean {
  return q.sign() < 0;
}

/** Upstream ValidateResourceQuantityValue: parseable, non-negative, integral for integer resources. */
export function validateResourceQuantityValue(resource: string, value: unknown, path: string): { q?: Quantity; errs: FieldErrorList } {
  const { q, errs } = parseQuantity(value, path);
  if (!q) return { errs };
  if (isNegativeQuantity(q)) errs.push(fieldErrors.invalid(path, quantityString(q), IS_NEGATIVE));
  else if (isIntegerResourceName(resource) && !isIntegral(q)) errs.push(fieldErrors.invalid(path, quantityString(q), 'must be an integer'));
  return { q, errs };
}

function isIntegral(q: Quantity): boolean {
  return q.milliValue() % 1000n === 0n;
}

export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** Resources for which requests must equal limits (extended resources and hugepages). */
export function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

const INTEGER_RESOURCES = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);
export function isIntegerResourceName(name: string): boolean {
  return INTEGER_RESOURCES.has(name) || isExtendedResourceName(name);
}

export function validateResourceName(name: string, path: string): FieldErrorList {
  return msgsToInvalid(isQualifiedName(name), path, name);
}

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
export function validateContainerResourceName(name: string, path: string): FieldErrorList {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) {
      errs.push(fieldErrors.invalid(path, name, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(fieldErrors.invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** A map of resource name to quantity (node capacity, quota hard...): names qualified, values valid and non-negative. */
export function validateResourceList(list: unknown, path: string, nameCheck: (name: string, p: string) => FieldErrorList = validateResourceName): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const [k, v] of Object.entries(asMap(list))) {
    const p = key(path, k);
    errs.push(...nameCheck(k, p));
    errs.push(...validateResourceQuantityValue(k, v, p).errs);
  }
  return errs;
}

export function validateEnum(value: unknown, path: string, valid: readonly string[]): FieldErrorList {
  if (value === undefined || value === null || value === '') return [fieldErrors.required(path, '')];
  return valid.includes(value as string) ? [] : [fieldErrors.notSupported(path, value, valid)];
}

export function validateOptionalEnum(value: unknown, path: string, valid: readonly string[]): FieldErrorList {
  if (value === undefined || value === null) return [];
  return validateEnum(value, path, valid);
}

/** Go's len(): UTF-8 bytes. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function isInRangeErr(value: number, min: number, max: number, path: string): FieldErrorList {
  return value >= min && value <= max ? [] : [fieldErrors.invalid(path, value, `must be between ${min} and ${max}, inclusive`)];
}
