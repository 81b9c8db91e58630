// meta.k8s.io/v1 Table shapes (kubernetes-types does not ship them) and the printer contract.
import type { ObjectMeta, ListMeta } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '@kubelab/api';

/** One column of a Table: all five fields are always serialised, as upstream does. */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type: string, integer, number, boolean, date. */
  type: string;
  /** OpenAPI format modifier; `name` marks the primary identifier column. */
  format: string;
  description: string;
  /** 0 = always shown; 1 = shown only with `-o wide`. */
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObjectPolicy = 'None' | 'Metadata' | 'Object';

/**
 * Prints one kind of object as table rows. Like upstream's server-side printers (which always run
 * with `Wide: true`), `row` returns a cell for every column, priority 1 ones included; kubectl hides
 * those unless `-o wide`.
 */
export interface TablePrinter {
  columns: TableColumnDefinition[];
  row(obj: KubeObject, now: Date): unknown[];
  /** Row conditions (upstream only sets them for finished pods). */
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
}
