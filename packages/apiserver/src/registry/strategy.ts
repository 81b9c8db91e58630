// A strategy is what one resource adds to the generic Store (upstream's RESTCreateStrategy,
// RESTUpdateStrategy, RESTDeleteStrategy): preparing, validating and canonicalizing objects. The
// Store does the rest (keys, storage, resourceVersions, finalizers, watch).
import type { FieldError, KubeObject, ResourceInfo } from '@kubelab/api';
import type { Requester } from './rbac.js';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  dryRun?: string[];
}

export interface Strategy {
  /**
   * Clears fields a client may not set on create (e.g. status) and sets derived ones. `requester` is the
   * user of the request (none for the server's own writes), as in the hooks below.
   */
  prepareForCreate(obj: KubeObject, requester?: Requester): void;
  /** Copies over what an update of the main resource must keep from the old object (e.g. status). */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  /** Normalises an object before it is stored. */
  canonicalize(obj: KubeObject): void;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites (last writer wins). */
  allowUnconditionalUpdate: boolean;
  /** metadata.generation is set to 1 on create and bumped when anything but metadata and status changes. */
  tracksGeneration: boolean;
  /**
   * Graceful deletion: returns the grace period in seconds to apply (deletionTimestamp set, object kept
   * until a later delete with 0), or 0 to delete now. Only pods use it (the kubelet finishes the delete).
   */
  gracePeriod?(obj: KubeObject, opts: DeleteOptions): number;
  /**
   * Runs before a new object is written (upstream's BeginCreate: allocating a ClusterIP). Returns a function that
   * undoes it, which the Store calls when the write fails or was a dry run.
   */
  beginCreate?(obj: KubeObject, dryRun: boolean, requester?: Requester): Promise<(() => Promise<void>) | void>;
  /** Runs before an update is written, with the old object. */
  beforeUpdate?(obj: KubeObject, old: KubeObject, dryRun: boolean, requester?: Requester): Promise<(() => Promise<void>) | void>;
  /** Runs after an update was stored (releases what the old object held). */
  afterUpdate?(obj: KubeObject, old: KubeObject): Promise<void>;
  /** Runs after an object was removed from storage. */
  afterDelete?(obj: KubeObject): Promise<void>;
  /** Overrides what deleting means (namespaces become Terminating). Return the object to keep, or undefined to delete. */
  onDelete?(obj: KubeObject, opts: DeleteOptions): KubeObject | undefined;
  /** An object being deleted is removed once this holds (default: no metadata.finalizers left). */
  readyToDelete?(obj: KubeObject): boolean;
  /** DELETE answers with the deleted object (pods, serviceaccounts) instead of a Success Status. */
  returnDeletedObject: boolean;
}

/** Status-subresource strategy: only .status may change; everything else comes from the old object. */
export interface StatusStrategy {
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
}

export interface ResourceDefinition {
  info: ResourceInfo;
  strategy: Strategy;
  /** Strategies for update-style subresources by name: 'status', and 'finalize' for namespaces. */
  subresources: Record<string, StatusStrategy>;
}
