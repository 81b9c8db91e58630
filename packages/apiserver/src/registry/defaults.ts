// The default strategy and the table of every resource's definition.
import { RESOURCES, setOwn, validateStatusUpdate, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { ResourceDefinition, StatusStrategy, Strategy } from './strategy.js';

/** Resources whose metadata.generation tracks spec changes (controllers report observedGeneration). */
const GENERATION = new Set(['deployments', 'replicasets', 'daemonsets', 'statefulsets', 'jobs', 'cronjobs', 'replicationcontrollers']);
/** PUT of a missing object creates it, as upstream's AllowCreateOnUpdate. */
const CREATE_ON_UPDATE = new Set(['endpoints', 'events', 'leases', 'limitranges', 'services', 'roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);
const RETURN_DELETED = new Set(['pods', 'serviceaccounts']);

function hasStatus(info: ResourceInfo): boolean {
  return info.subresources.some((s) => s.name === 'status');
}

/** Copies every top-level field but metadata and status from `from` to `to`. */
export function keepSpec(to: KubeObject, from: KubeObject): void {
  for (const k of Object.keys(to)) if (!['metadata', 'status', 'apiVersion', 'kind'].includes(k)) delete to[k];
  for (const [k, v] of Object.entries(from)) if (!['metadata', 'status', 'apiVersion', 'kind'].includes(k)) setOwn(to, k, structuredClone(v));
}

export function defaultStrategy(info: ResourceInfo): Strategy {
  const status = hasStatus(info);
  return {
    prepareForCreate(obj) {
      if (status) delete obj.status;
    },
    prepareForUpdate(obj, old) {
      if (status) {
        if (old.status === undefined) delete obj.status;
        else obj.status = structuredClone(old.status);
      }
    },
    validate: () => [],
    validateUpdate: () => [],
    canonicalize() {},
    allowCreateOnUpdate: CREATE_ON_UPDATE.has(info.resource),
    allowUnconditionalUpdate: true,
    tracksGeneration: GENERATION.has(info.resource),
    returnDeletedObject: RETURN_DELETED.has(info.resource),
  };
}

/** The status subresource: only .status (and labels/annotations) change; spec comes from the old object. */
export const statusStrategy: StatusStrategy = {
  prepareForUpdate(obj, old) {
    keepSpec(obj, old);
    obj.metadata.ownerReferences = old.metadata.ownerReferences;
    obj.metadata.finalizers = old.metadata.finalizers;
    if (obj.metadata.ownerReferences === undefined) delete obj.metadata.ownerReferences;
    if (obj.metadata.finalizers === undefined) delete obj.metadata.finalizers;
    if (old.metadata.generation !== undefined) obj.metadata.generation = old.metadata.generation;
  },
  // Per kind, as upstream's status strategies: metadata update rules plus the status checks (counts >= 0, ...).
  validateUpdate: validateStatusUpdate,
};

/**
 * A resource's own strategy (upstream's pkg/registry/<group>/<resource>/strategy.go), written as what it
 * changes in the default one.
 */
export type ResourceStrategy = (base: Strategy, info: ResourceInfo) => Partial<Strategy>;

export function buildDefinitions(
  strategies: Record<string, ResourceStrategy>,
  extraSubresources: Record<string, Record<string, StatusStrategy>> = {},
): Map<string, ResourceDefinition> {
  const defs = new Map<string, ResourceDefinition>();
  for (const info of RESOURCES) {
    const base = defaultStrategy(info);
    const id = info.group ? `${info.resource}.${info.group}` : info.resource;
    const strategy = { ...base, ...(strategies[id]?.(base, info) ?? {}) };
    const subresources: Record<string, StatusStrategy> = {};
    if (hasStatus(info)) subresources.status = statusStrategy;
    Object.assign(subresources, extraSubresources[id] ?? {});
    defs.set(`${info.group}/${info.version}/${info.resource}`, { info, strategy, subresources });
  }
  return defs;
}
