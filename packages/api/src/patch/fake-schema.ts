// A tiny hand-built SchemaType vocabulary for the patch tests (and anyone else who needs a schema
// without the generated one): objects with fields, maps, arrays and scalars.
import { getOwn } from '../own.js';
import type { SchemaField, SchemaKind, SchemaType } from '../schema/interface.js';

export type FieldSpec = SchemaType | (Omit<SchemaField, 'type'> & { type: SchemaType });

function toField(spec: FieldSpec): SchemaField {
  return 'kind' in spec ? { type: spec } : spec;
}

export function scalar(kind: SchemaKind = 'string'): SchemaType {
  return { name: kind, kind, property: () => undefined, propertyNames: () => [] };
}

export function arrayOf(elem: SchemaType): SchemaType {
  return { name: 'array', kind: 'array', elem, property: () => undefined, propertyNames: () => [] };
}

export function mapOf(elem: SchemaType): SchemaType {
  return { name: 'map', kind: 'map', elem, property: () => undefined, propertyNames: () => [] };
}

/** An object type; `fields` is a function so types can refer to themselves. */
export function objectType(name: string, fields: () => Record<string, FieldSpec>): SchemaType {
  let cache: Record<string, SchemaField> | undefined;
  const all = () => (cache ??= Object.fromEntries(Object.entries(fields()).map(([k, v]) => [k, toField(v)])));
  return {
    name,
    kind: 'object',
    property: (n) => getOwn(all(), n),
    propertyNames: () => Object.keys(all()),
  };
}
