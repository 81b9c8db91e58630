// The API schema: type lookup (merge keys, list types, known fields), field validation and the raw
// definitions the OpenAPI documents are built from.
export type { SchemaKind, SchemaType, SchemaField, SchemaLookup } from './interface.js';
export { Schema, schemaLookup, definitions, INT_OR_STRING, QUANTITY, type Definitions, type JSONSchemaProps } from './schema.js';
export { PATCH_META, ATOMIC_STRUCTS, type PatchMeta } from './patch-meta.js';
export {
  unknownFields,
  duplicateFields,
  strictDecodingErrors,
  strictDecodingMessage,
  strictDecodingBadRequestMessage,
  warningHeaderValue,
  parseFieldValidation,
  type FieldValidationDirective,
} from './field-validation.js';
export { decode, decodeAs, unknownFieldPaths, cannotBeHandledMessage, goTypeName, parseRFC3339, DecodeError, type DecodeOptions, type Decoded } from './decode.js';
