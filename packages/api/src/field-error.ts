// Field errors, as upstream's k8s.io/apimachinery/pkg/util/validation/field: a type, a path, the bad
// value and a detail. Validators return FieldError[]; they never throw.

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with indices, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  badValue?: unknown;
  detail?: string;
}

const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

/** Renders a bad value the way Go's %#v does for the common cases (strings quoted, numbers bare). */
export function formatBadValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[]${v.length ? '{' + v.map(formatBadValue).join(', ') + '}' : '{}'}`;
  return JSON.stringify(v);
}

/** The part of the message after the field path: `Invalid value: -1: must be ...`. */
export function fieldErrorBody(e: FieldError): string {
  const head = typeText[e.type];
  switch (e.type) {
    case 'FieldValueRequired':
    case 'FieldValueForbidden':
    case 'FieldValueTooLong':
    case 'FieldValueTooMany':
    case 'InternalError':
      return e.detail ? `${head}: ${e.detail}` : head;
    default: {
      const parts = [head];
      if (e.badValue !== undefined || e.type === 'FieldValueInvalid' || e.type === 'FieldValueNotSupported' || e.type === 'FieldValueDuplicate' || e.type === 'FieldValueNotFound') {
        parts.push(formatBadValue(e.badValue));
      }
      if (e.detail) parts.push(e.detail);
      return parts.join(': ');
    }
  }
}

/** `spec.replicas: Invalid value: -1: must be greater than or equal to 0` */
export function fieldErrorString(e: FieldError): string {
  return e.field ? `${e.field}: ${fieldErrorBody(e)}` : fieldErrorBody(e);
}

/** Upstream joins several errors as `[a, b]` and one as itself. */
export function aggregateFieldErrors(errs: FieldError[]): string {
  const parts = errs.map(fieldErrorString);
  return parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
}

// Constructors, named as upstream's field.Invalid/Required/... take a path and return one error.
export const fieldErrors = {
  invalid: (field: string, badValue: unknown, detail?: string): FieldError => ({ type: 'FieldValueInvalid', field, badValue, detail }),
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  notSupported: (field: string, badValue: unknown, valid: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    badValue,
    detail: valid.length ? `supported values: ${valid.map((s) => JSON.stringify(s)).join(', ')}` : undefined,
  }),
  duplicate: (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, badValue }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, _badValue: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `must have at most ${max} bytes` }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field, detail: `must have at most ${max} items`, badValue: actual }),
  notFound: (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueNotFound', field, badValue }),
  internal: (field: string, detail: string): FieldError => ({ type: 'InternalError', field, detail }),
};
