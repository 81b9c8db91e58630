// Assembling a meta.k8s.io/v1 Table from a printer and objects.
import type { ListMeta } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '@kubelab/api';
import type { IncludeObjectPolicy, PartialObjectMetadata, Table, TablePrinter, TableRow } from './types.js';

export interface BuildTableOptions {
  now: Date;
  /** What each row carries in `object`; kubectl asks for Metadata (the default). */
  includeObject?: IncludeObjectPolicy;
  /** Leave out the column definitions (TableOptions.noHeaders). */
  noHeaders?: boolean;
  /** List metadata (resourceVersion, continue, remainingItemCount) for the table. */
  metadata?: ListMeta;
}

export function toPartialObjectMetadata(obj: KubeObject): PartialObjectMetadata {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** One row per object, cells from the printer, `object` according to the include policy. */
export function buildTable(printer: TablePrinter, objects: readonly KubeObject[], options: BuildTableOptions): Table {
  const include = options.includeObject ?? 'Metadata';
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = { cells: printer.row(obj, options.now) };
    const conditions = printer.conditions?.(obj);
    if (conditions) row.conditions = conditions;
    if (include === 'Metadata') row.object = toPartialObjectMetadata(obj);
    else if (include === 'Object') row.object = obj;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(options.metadata ?? {}) },
    columnDefinitions: options.noHeaders ? [] : printer.columns,
    rows,
  };
}
