// SchemaLookup over generated/definitions.json (written by hack/gen-schema.ts from kubernetes-types
// plus patch-meta.ts). The file is read on first use; types are built lazily and cached.
import { readFileSync } from 'node:fs';
import type { SchemaField, SchemaKind, SchemaLookup, SchemaType } from './interface.js';

/** A schema as stored in definitions.json: OpenAPI v2 shaped, `$ref` holding a bare definition name. */
export interface JSONSchemaProps {
  readonly type?: string;
  readonly format?: string;
  readonly $ref?: string;
  readonly description?: string;
  readonly items?: JSONSchemaProps;
  readonly additionalProperties?: JSONSchemaProps;
  readonly properties?: Readonly<Record<string, JSONSchemaProps>>;
  readonly required?: readonly string[];
  readonly 'x-kubernetes-group-version-kind'?: readonly { group: string; version: string; kind: string }[];
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export type Definitions = Readonly<Record<string, JSONSchemaProps>>;

export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

let loaded: Definitions | undefined;

/** Every definition, by upstream name (io.k8s.api.core.v1.PodSpec), read once. */
export function definitions(): Definitions {
  loaded ??= JSON.parse(readFileSync(new URL('./generated/definitions.json', import.meta.url), 'utf8')) as Definitions;
  return loaded;
}

function kindOf(name: string | undefined, s: JSONSchemaProps): SchemaKind {
  if (name === INT_OR_STRING) return 'int-or-string';
  if (name === QUANTITY) return 'quantity';
  if (s['x-kubernetes-preserve-unknown-fields']) return 'any';
  switch (s.type) {
    case 'object':
      return s.additionalProperties ? 'map' : 'object';
    case 'array':
      return 'array';
    case 'string':
      return s.format === 'date-time' ? 'time' : 'string';
    case 'integer':
    case 'number':
    case 'boolean':
      return s.type;
    default:
      return 'any';
  }
}

class Field implements SchemaField {
  readonly description?: string;
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];
  readonly mapType?: 'atomic' | 'granular';
  constructor(
    readonly type: SchemaType,
    s: JSONSchemaProps,
  ) {
    if (s.description !== undefined) this.description = s.description;
    if (s['x-kubernetes-patch-strategy'] !== undefined) this.patchStrategy = s['x-kubernetes-patch-strategy'];
    if (s['x-kubernetes-patch-merge-key'] !== undefined) this.patchMergeKey = s['x-kubernetes-patch-merge-key'];
    if (s['x-kubernetes-list-type'] !== undefined) this.listType = s['x-kubernetes-list-type'];
    if (s['x-kubernetes-list-map-keys'] !== undefined) this.listMapKeys = s['x-kubernetes-list-map-keys'];
    if (s['x-kubernetes-map-type'] !== undefined) this.mapType = s['x-kubernetes-map-type'];
  }
}

class Type implements SchemaType {
  readonly name: string;
  readonly kind: SchemaKind;
  readonly description?: string;
  readonly format?: string;
  readonly required?: readonly string[];
  readonly mapType?: 'atomic' | 'granular';
  readonly groupVersionKinds?: readonly { group: string; version: string; kind: string }[];
  private fields?: Map<string, SchemaField>;
  private elemType?: SchemaType;

  constructor(
    private readonly lookup: Schema,
    definitionName: string | undefined,
    private readonly s: JSONSchemaProps,
  ) {
    this.kind = kindOf(definitionName, s);
    this.name = definitionName ?? this.kind;
    if (s.description !== undefined) this.description = s.description;
    if (s.format !== undefined) this.format = s.format;
    if (s.required) this.required = s.required;
    if (s['x-kubernetes-map-type']) this.mapType = s['x-kubernetes-map-type'];
    if (s['x-kubernetes-group-version-kind']) this.groupVersionKinds = s['x-kubernetes-group-version-kind'];
  }

  get elem(): SchemaType | undefined {
    const inner = this.kind === 'array' ? this.s.items : this.kind === 'map' ? this.s.additionalProperties : undefined;
    if (!inner) return undefined;
    this.elemType ??= this.lookup.resolve(inner);
    return this.elemType;
  }

  property(name: string): SchemaField | undefined {
    if (this.kind !== 'object' || !this.s.properties || !Object.hasOwn(this.s.properties, name)) return undefined;
    this.fields ??= new Map();
    let f = this.fields.get(name);
    if (!f) {
      const p = this.s.properties[name]!;
      f = new Field(this.lookup.resolve(p), p);
      this.fields.set(name, f);
    }
    return f;
  }

  propertyNames(): string[] {
    return this.kind === 'object' && this.s.properties ? Object.keys(this.s.properties) : [];
  }
}

/** SchemaLookup over a set of definitions (the generated file by default). */
export class Schema implements SchemaLookup {
  private readonly byName = new Map<string, SchemaType>();
  private byKind?: Map<string, string>;

  constructor(private readonly defs: () => Definitions = definitions) {}

  typeByName(name: string): SchemaType | undefined {
    let t = this.byName.get(name);
    if (!t) {
      const s = this.defs()[name];
      if (!s) return undefined;
      t = new Type(this, name, s);
      this.byName.set(name, t);
    }
    return t;
  }

  rootType(apiVersion: string, kind: string): SchemaType | undefined {
    const name = this.definitionName(apiVersion, kind);
    return name ? this.typeByName(name) : undefined;
  }

  /** The definition name of a kind, e.g. ('apps/v1', 'Deployment') -> 'io.k8s.api.apps.v1.Deployment'. */
  definitionName(apiVersion: string, kind: string): string | undefined {
    if (!this.byKind) {
      this.byKind = new Map();
      for (const [name, s] of Object.entries(this.defs())) {
        for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) {
          this.byKind.set(`${gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version}|${gvk.kind}`, name);
        }
      }
    }
    return this.byKind.get(`${apiVersion}|${kind}`);
  }

  /** The type a property or item schema stands for: a definition when it is a $ref, else an inline type. */
  resolve(s: JSONSchemaProps): SchemaType {
    if (s.$ref) {
      const t = this.typeByName(s.$ref);
      if (!t) throw new Error(`schema: unknown definition ${s.$ref}`);
      return t;
    }
    return new Type(this, undefined, s);
  }
}

/** The schema of every served type (one per process; definitions load on first use). */
export const schemaLookup: Schema = new Schema();
