// storage.k8s.io/v1 validation: StorageClass, as upstream's pkg/apis/storage/validation.
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName } from './names.js';
import { deepEqual, immutable, msgsToInvalid } from './util.js';

type Errs = FieldError[];
const clusterScoped = { namespaced: false, nameValidator: nameIsDNSSubdomain };

export const RECLAIM_POLICIES = ['Delete', 'Retain'] as const;
export const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;
/** Upstream's maxProvisionerParameterSize and maxProvisionerParameterLen. */
const MAX_PARAMETERS_SIZE = 256 * 1024;
const MAX_PARAMETERS = 512;

function validateProvisioner(provisioner: string | undefined): Errs {
  if (!provisioner) return [fieldErrors.required('provisioner', '')];
  return msgsToInvalid(isQualifiedName(provisioner.toLowerCase()), 'provisioner', provisioner);
}

function validateParameters(params: Record<string, string> | undefined): Errs {
  const entries = Object.entries(params ?? {});
  const errs: Errs = [];
  if (entries.length > MAX_PARAMETERS) errs.push(fieldErrors.tooLong('parameters', params, MAX_PARAMETERS));
  let size = 0;
  for (const [k, v] of entries) {
    if (k === '') errs.push(fieldErrors.invalid('parameters', params, 'field can not be empty.'));
    size += k.length + String(v).length;
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(fieldErrors.tooLong('parameters', '', MAX_PARAMETERS_SIZE));
  return errs;
}

function validateAllowedTopologies(sc: StorageClass): Errs {
  const errs: Errs = [];
  (sc.allowedTopologies ?? []).forEach((term, i) => {
    const p = `allowedTopologies[${i}]`;
    const exprs = term.matchLabelExpressions ?? [];
    if (exprs.length === 0) errs.push(fieldErrors.required(`${p}.matchLabelExpressions`, 'must have at least one topology selector requirement'));
    const seen = new Set<string>();
    exprs.forEach((req, j) => {
      const rp = `${p}.matchLabelExpressions[${j}]`;
      errs.push(...msgsToInvalid(isQualifiedName(req.key ?? ''), `${rp}.key`, req.key ?? ''));
      if (seen.has(req.key)) errs.push(fieldErrors.duplicate(`${rp}.key`, req.key));
      seen.add(req.key);
      if (!req.values?.length) errs.push(fieldErrors.required(`${rp}.values`, 'must supply at least one value'));
    });
  });
  return errs;
}

export function validateStorageClass(sc: StorageClass): Errs {
  const errs: Errs = [...validateObjectMeta(sc.metadata, clusterScoped), ...validateProvisioner(sc.provisioner), ...validateParameters(sc.parameters)];
  if (sc.reclaimPolicy !== undefined && !(RECLAIM_POLICIES as readonly string[]).includes(sc.reclaimPolicy)) {
    errs.push(fieldErrors.notSupported('reclaimPolicy', sc.reclaimPolicy, RECLAIM_POLICIES));
  }
  if (sc.volumeBindingMode === undefined) errs.push(fieldErrors.required('volumeBindingMode', ''));
  else if (!(VOLUME_BINDING_MODES as readonly string[]).includes(sc.volumeBindingMode)) {
    errs.push(fieldErrors.notSupported('volumeBindingMode', sc.volumeBindingMode, VOLUME_BINDING_MODES));
  }
  errs.push(...validateAllowedTopologies(sc));
  return errs;
}

/** Parameters, provisioner, reclaimPolicy and volumeBindingMode are fixed once a class exists. */
export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): Errs {
  const errs: Errs = [...validateObjectMetaUpdate(sc.metadata, old.metadata), ...validateStorageClass(sc).filter((e) => !e.field.startsWith('metadata'))];
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {})) errs.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
  if ((sc.provisioner ?? '') !== (old.provisioner ?? '')) errs.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(sc.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}
