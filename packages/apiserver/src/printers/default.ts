// The table every resource without a dedicated printer gets (apiserver's defaultTableConvertor):
// Name, and Created At as an RFC 3339 date-time in UTC.
import { rfc3339 } from '@kubelab/api';
import type { TablePrinter } from './types.js';
import { doc } from './descriptions.js';
import { col, nameColumn } from './format.js';
import { parseTimestamp } from './duration.js';

/** Go's time.RFC3339 in UTC: second precision, `Z` suffix; Go's zero time when unset. */
export function formatRFC3339(ts: string | null | undefined): string {
  const t = parseTimestamp(ts);
  if (t === undefined) return '0001-01-01T00:00:00Z';
  return rfc3339(t);
}

export const defaultPrinter: TablePrinter = {
  columns: [nameColumn(), col('Created At', 'date', doc.metaCreationTimestamp)],
  row(obj) {
    return [obj.metadata.name ?? '', formatRFC3339(obj.metadata.creationTimestamp)];
  },
};
