// ObjectMeta validation, as upstream's apimachinery/pkg/api/validation/objectmeta.go: names, namespace,
// labels, annotations, finalizers and owner references on create, and the immutable fields on update.
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { isDNS1123Label, isDNS1123Subdomain, isDNS1035Label, isQualifiedName } from './names.js';
import { asArray, asMap, byteLength, child, immutable, msgsToInvalid, nonNegative, validateLabels } from './util.js';

/** Validates a name (or, with prefix=true, a generateName prefix); returns upstream's messages. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** Drops one trailing '-' from a generateName prefix before checking it, as upstream does. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -1) : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** Names that are path segments (RBAC objects): anything but '.', '..', or text with '/' or '%'. */
export const validatePathSegmentName: NameValidator = (name, prefix) => {
  const errs: string[] = [];
  if (!prefix && (name === '.' || name === '..')) errs.push(`may not be '${name}'`);
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
};

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export interface ObjectMetaOptions {
  namespaced: boolean;
  nameValidator?: NameValidator;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(asMap(annotations))) {
    errs.push(...msgsToInvalid(isQualifiedName(k.toLowerCase()), path, k));
    total += byteLength(k) + byteLength(typeof v === 'string' ? v : String(v ?? ''));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldErrors.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = asArray(finalizers as string[]);
  for (const f of list) errs.push(...msgsToInvalid(isQualifiedName(f), path, f));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(fieldErrors.invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  const list = asArray(refs as OwnerReference[]);
  for (const ref of list) {
    if (!ref?.apiVersion) errs.push(fieldErrors.invalid(child(path, 'apiVersion'), ref?.apiVersion ?? '', 'version must not be empty'));
    if (!ref?.kind) errs.push(fieldErrors.invalid(child(path, 'kind'), ref?.kind ?? '', 'kind must not be empty'));
    if (!ref?.name) errs.push(fieldErrors.invalid(child(path, 'name'), ref?.name ?? '', 'name must not be empty'));
    if (!ref?.uid) errs.push(fieldErrors.invalid(child(path, 'uid'), ref?.uid ?? '', 'uid must not be empty'));
    if (ref?.controller) controllers.push(ref.name);
  }
  if (controllers.length > 1) {
    errs.push(
      fieldErrors.invalid(
        path,
        list,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  }
  return errs;
}

/**
 * Upstream ValidateObjectMeta: name or generateName required and well formed, namespace required iff
 * namespaced, generation non-negative, labels, annotations, finalizers and owner references.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, opts: ObjectMetaOptions, path = 'metadata'): FieldError[] {
  const m: ObjectMeta = meta ?? {};
  const nameFn = opts.nameValidator ?? nameIsDNSSubdomain;
  const errs: FieldError[] = [];
  if (m.generateName) errs.push(...msgsToInvalid(nameFn(m.generateName, true), child(path, 'generateName'), m.generateName));
  if (!m.name) errs.push(fieldErrors.required(child(path, 'name'), 'name or generateName is required'));
  else errs.push(...msgsToInvalid(nameFn(m.name, false), child(path, 'name'), m.name));
  if (opts.namespaced) {
    if (!m.namespace) errs.push(fieldErrors.required(child(path, 'namespace'), ''));
    else errs.push(...msgsToInvalid(nameIsDNSLabel(m.namespace, false), child(path, 'namespace'), m.namespace));
  } else if (m.namespace) {
    errs.push(fieldErrors.forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  errs.push(...nonNegative(m.generation, child(path, 'generation')));
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  return errs;
}

/**
 * Upstream ValidateObjectMetaUpdate: the new metadata's own rules (labels, annotations, ...) plus
 * name, namespace, uid, creationTimestamp, deletionTimestamp and deletionGracePeriodSeconds immutable,
 * generation never decremented, and no new finalizers once deletion has begun.
 */
export function validateObjectMetaUpdate(newMeta: ObjectMeta | undefined, oldMeta: ObjectMeta | undefined, path = 'metadata'): FieldError[] {
  const n: ObjectMeta = newMeta ?? {};
  const o: ObjectMeta = oldMeta ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const old = new Set(o.finalizers ?? []);
    const extra = (n.finalizers ?? []).filter((f) => !old.has(f)).sort();
    if (extra.length) {
      errs.push(
        fieldErrors.forbidden(
          child(path, 'finalizers'),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }
  if ((n.generation ?? 0) < (o.generation ?? 0)) errs.push(fieldErrors.invalid(child(path, 'generation'), n.generation ?? 0, 'must not be decremented'));
  errs.push(...immutable(n.name ?? '', o.name ?? '', child(path, 'name')));
  errs.push(...immutable(n.namespace ?? '', o.namespace ?? '', child(path, 'namespace')));
  // Upstream's BeforeUpdate copies these from the old object when the request leaves them out, so an
  // absent value counts as unchanged here; a different value is an error.
  const held = <T>(nv: T | undefined, ov: T | undefined): T | null => (nv === undefined || nv === null ? (ov ?? null) : nv);
  errs.push(...immutable(held(n.uid || undefined, o.uid) ?? '', o.uid ?? '', child(path, 'uid')));
  errs.push(...immutable(held(n.creationTimestamp, o.creationTimestamp), o.creationTimestamp ?? null, child(path, 'creationTimestamp')));
  if (o.deletionTimestamp) errs.push(...immutable(held(n.deletionTimestamp, o.deletionTimestamp), o.deletionTimestamp, child(path, 'deletionTimestamp')));
  else errs.push(...immutable(n.deletionTimestamp ?? null, null, child(path, 'deletionTimestamp')));
  errs.push(
    ...immutable(held(n.deletionGracePeriodSeconds, o.deletionGracePeriodSeconds), o.deletionGracePeriodSeconds ?? null, child(path, 'deletionGracePeriodSeconds')),
  );
  errs.push(...nonNegative(n.generation, child(path, 'generation')));
  errs.push(...validateLabels(n.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(n.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(n.ownerReferences, child(path, 'ownerReferences')));
  errs.push(...validateFinalizers(n.finalizers, child(path, 'finalizers')));
  return errs;
}

