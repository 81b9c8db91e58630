// Compiles labelSelector and fieldSelector query parameters into one storage predicate.
import { badRequest, convertFieldSelector, fieldsOf, parseFieldSelector, parseSelector, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { Predicate } from '../storage/interface.js';

export function compileSelectors(info: ResourceInfo, labelSelector?: string, fieldSelector?: string): Predicate | undefined {
  let labels: ReturnType<typeof parseSelector> | undefined;
  let fields: ReturnType<typeof parseFieldSelector> | undefined;
  if (labelSelector) {
    try {
      labels = parseSelector(labelSelector);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    if (labels.empty()) labels = undefined;
  }
  if (fieldSelector) {
    let parsed: ReturnType<typeof parseFieldSelector>;
    try {
      parsed = parseFieldSelector(fieldSelector);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    try {
      // Checks the fields this resource supports and maps legacy names (pods' spec.host), as upstream.
      fields = convertFieldSelector(info.resource, info.group, parsed);
    } catch (err) {
      // kubectl prefixes this with `Unable to find "<gvr>" that match label selector ...` itself.
      throw badRequest((err as Error).message);
    }
    if (fields.empty()) fields = undefined;
  }
  if (!labels && !fields) return undefined;
  const predicate: Predicate = (obj: KubeObject) =>
    (!labels || labels.matches(obj.metadata?.labels)) && (!fields || fields.matches(fieldsOf(info.resource, info.group, obj)));
  // The watch cache indexes watchers by an exactly required field (pods: spec.nodeName).
  const selector = fields;
  if (selector) predicate.requiresExactMatch = (field) => selector.requiresExactMatch(field);
  return predicate;
}
