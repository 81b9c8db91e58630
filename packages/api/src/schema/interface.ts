// The schema of the API types, as the write path needs it: strategic merge patch (merge keys and
// strategies), server-side apply (list types and map keys), field validation (known fields), OpenAPI
// documents and `kubectl explain`. One source of truth: generated from kubernetes-types (upstream's
// OpenAPI-derived declarations) plus the patch metadata table. Implemented in ./schema.ts.

export type SchemaKind = 'object' | 'map' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'quantity' | 'time' | 'any';

export interface SchemaType {
  /** Upstream's definition name for objects, e.g. 'io.k8s.api.core.v1.PodSpec'; the kind for others. */
  readonly name: string;
  readonly kind: SchemaKind;
  readonly description?: string;
  /** OpenAPI format: 'int32' or 'int64' for integers, 'date-time' for times. */
  readonly format?: string;
  /** object: its fields, by JSON name. */
  property(name: string): SchemaField | undefined;
  /** object: every field name. */
  propertyNames(): string[];
  /** object: required field names. */
  readonly required?: readonly string[];
  /** map: value type; array: item type. */
  readonly elem?: SchemaType;
  /** x-kubernetes-map-type of the definition ('atomic' for upstream's +structType=atomic structs). */
  readonly mapType?: 'atomic' | 'granular';
  /** x-kubernetes-group-version-kind: the kinds whose root type this is. */
  readonly groupVersionKinds?: readonly { group: string; version: string; kind: string }[];
}

export interface SchemaField {
  readonly type: SchemaType;
  readonly description?: string;
  /** x-kubernetes-patch-strategy: 'merge', 'replace', 'retainKeys', 'merge,retainKeys'. */
  readonly patchStrategy?: string;
  /** x-kubernetes-patch-merge-key, e.g. 'name' for containers, 'containerPort' for ports. */
  readonly patchMergeKey?: string;
  /** x-kubernetes-list-type. */
  readonly listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys. */
  readonly listMapKeys?: readonly string[];
  /** x-kubernetes-map-type. */
  readonly mapType?: 'atomic' | 'granular';
}

export interface SchemaLookup {
  /** The root type of a kind, e.g. ('apps/v1', 'Deployment'). */
  rootType(apiVersion: string, kind: string): SchemaType | undefined;
  /** A type by definition name. */
  typeByName(name: string): SchemaType | undefined;
}
