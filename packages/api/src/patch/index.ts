// Strategic merge patch and server-side apply (field ownership). Pure functions over JSON objects and
// the API schema (../schema).
export { strategicMergePatch, createTwoWayMergePatch, createThreeWayMergePatch, StrategicMergePatchError } from './strategic.js';
export {
  apply,
  updateManagedFields,
  managerOrUserAgent,
  prefixFromUserAgent,
  BEFORE_FIRST_APPLY_MANAGER,
  FIELD_MANAGER_CONFLICT,
  type ApplyOptions,
  type UpdateOptions,
  type ManagedResult,
  type ManagedFieldsOperation,
} from './apply.js';
export { mergePatch } from './merge.js';
export { applyJSONPatch } from './json-patch.js';
export { deepCopy } from './json.js';
export { FieldSet, pathString, type FieldPath, type PathElement } from './fieldset.js';
