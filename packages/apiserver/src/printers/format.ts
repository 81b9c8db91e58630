// Cell formatting helpers shared by the printers (labels.FormatLabels, metav1.FormatLabelSelector,
// layoutContainerCells and friends).
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { Container } from 'kubernetes-types/core/v1';
import type { TableColumnDefinition } from './types.js';
import { doc } from './descriptions.js';

/** `a=1,b=2` with keys sorted; empty string for no labels. */
export function labelsString(labels: Record<string, string> | null | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** labels.FormatLabels: like labelsString, but `<none>` when there are none. */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  return labelsString(labels) || '<none>';
}

/**
 * The string form of a label selector (labels.Selector.String after LabelSelectorAsSelector):
 * requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Empty for a nil or
 * empty selector; undefined when the selector is invalid.
 */
export function labelSelectorString(selector: LabelSelector | null | undefined): string | undefined {
  if (!selector) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    reqs.push({ key, text: `${key}=${value}` });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const values = [...(expr.values ?? [])].sort();
    switch (expr.operator) {
      case 'In':
        reqs.push({ key: expr.key, text: `${expr.key} in (${values.join(',')})` });
        break;
      case 'NotIn':
        reqs.push({ key: expr.key, text: `${expr.key} notin (${values.join(',')})` });
        break;
      case 'Exists':
        reqs.push({ key: expr.key, text: expr.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: expr.key, text: `!${expr.key}` });
        break;
      default:
        return undefined;
    }
  }
  // Go's sort.Sort by key is not stable, but equal keys only come from a selector that repeats one.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  const s = labelSelectorString(selector);
  if (s === undefined) return '<error>';
  return s || '<none>';
}

/** Container names and images, each joined with commas. */
export function layoutContainerCells(containers: Container[] | null | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/** `a,b,c + 2 more...`, or `<unset>` for an empty list. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret || '<unset>';
}

/** net.JoinHostPort: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The Name column every printer starts with. */
export function nameColumn(): TableColumnDefinition {
  return col('Name', 'string', doc.metaName, { format: 'name' });
}

/** The Age column (string, creationTimestamp's description). */
export function ageColumn(): TableColumnDefinition {
  return col('Age', 'string', doc.metaCreationTimestamp);
}

export function col(
  name: string,
  type: string,
  description: string,
  opts: { format?: string; priority?: number } = {},
): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

/** A priority-1 column, shown only with `-o wide`. */
export function wide(name: string, type: string, description: string): TableColumnDefinition {
  return col(name, type, description, { priority: 1 });
}

export const CONTAINERS_DESCRIPTION = 'Names of each container in the template.';
export const IMAGES_DESCRIPTION = 'Images referenced by each container in the template.';
