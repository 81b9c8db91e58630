// Server-side Table printing (upstream pkg/printers/internalversion): the columns and cells kubectl
// shows for `kubectl get`.
export type {
  IncludeObjectPolicy,
  PartialObjectMetadata,
  Table,
  TableColumnDefinition,
  TablePrinter,
  TableRow,
  TableRowCondition,
} from './types.js';
export { printerFor } from './registry.js';
export { buildTable, toPartialObjectMetadata, type BuildTableOptions } from './table.js';
export { humanDuration, translateTimestampSince } from './duration.js';
export { defaultPrinter } from './default.js';
