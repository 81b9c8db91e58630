// The swagger 2.0 document as the gnostic `openapi.v2.Document` protobuf message, the form client-go's
// OpenAPISchema() asks for (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf) and
// kubectl's client-side validation decodes. It is produced by walking the JSON document, so the JSON
// and protobuf representations always carry the same content.
//
// Only an encoder: proto3 wire format (varints, fixed64 doubles, length-delimited strings and nested
// messages, repeated fields as one record per element). Field numbers follow gnostic's
// openapiv2/OpenAPIv2.proto. Scalars holding their zero value are omitted as proto3 does, except inside
// a oneof; message fields are always written when the JSON key is present, because readers test
// presence (kube-openapi's proto parser tells a kind from a map by `properties != nil`). Maps become
// repeated Named* (name, value) pairs in JSON key order; `x-` keys become vendor extensions whose
// Any.yaml holds the value as YAML text (JSON flow style, which every YAML parser reads).

type Json = Record<string, unknown>;

// ---- wire format ----

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

/** One message under construction: fields are appended as records and concatenated by finish(). */
class Message {
  private readonly parts: Buffer[] = [];

  private key(field: number, wire: number): void {
    this.parts.push(varint((field << 3) | wire));
  }

  bytes(field: number, b: Buffer): this {
    this.key(field, LEN);
    this.parts.push(varint(b.length), b);
    return this;
  }

  string(field: number, v: unknown): this {
    if (typeof v === 'string' && v !== '') this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  strings(field: number, v: unknown): this {
    for (const s of asArray(v)) if (typeof s === 'string') this.bytes(field, Buffer.from(s, 'utf8'));
    return this;
  }

  /** `always` writes false too (a oneof member is present even at its zero value). */
  bool(field: number, v: unknown, always = false): this {
    if (typeof v === 'boolean' && (v || always)) {
      this.key(field, VARINT);
      this.parts.push(varint(v ? 1 : 0));
    }
    return this;
  }

  int64(field: number, v: unknown): this {
    if (typeof v === 'number' && Number.isInteger(v) && v !== 0) {
      this.key(field, VARINT);
      this.parts.push(varint(v));
    }
    return this;
  }

  double(field: number, v: unknown): this {
    if (typeof v === 'number' && v !== 0) {
      this.key(field, FIXED64);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      this.parts.push(b);
    }
    return this;
  }

  /** A nested message when `v` is an object (written even if it encodes to nothing). */
  message(field: number, v: unknown, encode: (j: Json) => Buffer): this {
    if (isObject(v)) this.bytes(field, encode(v));
    return this;
  }

  messages(field: number, v: unknown, encode: (j: Json) => Buffer): this {
    for (const x of asArray(v)) this.message(field, x, encode);
    return this;
  }

  /** A JSON object as repeated Named<T>{name = 1, value = 2}, skipping `x-` keys. */
  named(field: number, v: unknown, encodeValue: (x: unknown) => Buffer | undefined): this {
    if (!isObject(v)) return this;
    for (const [name, x] of Object.entries(v)) {
      if (name.startsWith('x-')) continue;
      const entry = new Message().string(1, name);
      const value = encodeValue(x);
      if (value) entry.bytes(2, value);
      this.bytes(field, entry.finish());
    }
    return this;
  }

  /** The `x-` keys of a JSON object as repeated NamedAny. */
  extensions(field: number, j: Json): this {
    for (const [name, x] of Object.entries(j)) {
      if (name.startsWith('x-') && x !== undefined) this.bytes(field, new Message().string(1, name).bytes(2, any(x)).finish());
    }
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

// ---- gnostic openapi.v2 messages ----

/** Any { value = 1 (google.protobuf.Any, unused), yaml = 2 } */
function any(v: unknown): Buffer {
  return new Message().string(2, `${JSON.stringify(v)}\n`).finish();
}

const anyOf = (x: unknown): Buffer => any(x);

/** ExternalDocs { description = 1, url = 2, vendor_extension = 3 } */
function externalDocs(j: Json): Buffer {
  return new Message().string(1, j.description).string(2, j.url).extensions(3, j).finish();
}

/** Info { title = 1, version = 2, description = 3, terms_of_service = 4, contact = 5, license = 6, vendor_extension = 7 } */
function info(j: Json): Buffer {
  return new Message()
    .string(1, j.title)
    .string(2, j.version)
    .string(3, j.description)
    .string(4, j.termsOfService)
    .message(5, j.contact, (c) => new Message().string(1, c.name).string(2, c.url).string(3, c.email).extensions(4, c).finish())
    .message(6, j.license, (l) => new Message().string(1, l.name).string(2, l.url).extensions(3, l).finish())
    .extensions(7, j)
    .finish();
}

/** Xml { name = 1, namespace = 2, prefix = 3, attribute = 4, wrapped = 5, vendor_extension = 6 } */
function xml(j: Json): Buffer {
  return new Message().string(1, j.name).string(2, j.namespace).string(3, j.prefix).bool(4, j.attribute).bool(5, j.wrapped).extensions(6, j).finish();
}

/** Schema: the JSON-schema subset of swagger 2.0 (definitions, properties, items, body parameters). */
function schema(j: Json): Buffer {
  const m = new Message()
    .string(1, j.$ref)
    .string(2, j.format)
    .string(3, j.title)
    .string(4, j.description);
  if ('default' in j) m.bytes(5, any(j.default));
  m.double(6, j.multipleOf)
    .double(7, j.maximum)
    .bool(8, j.exclusiveMaximum)
    .double(9, j.minimum)
    .bool(10, j.exclusiveMinimum)
    .int64(11, j.maxLength)
    .int64(12, j.minLength)
    .string(13, j.pattern)
    .int64(14, j.maxItems)
    .int64(15, j.minItems)
    .bool(16, j.uniqueItems)
    .int64(17, j.maxProperties)
    .int64(18, j.minProperties)
    .strings(19, j.required);
  for (const e of asArray(j.enum)) m.bytes(20, any(e));
  // AdditionalPropertiesItem { oneof { Schema schema = 1; bool boolean = 2 } }
  if (isObject(j.additionalProperties)) m.bytes(21, new Message().bytes(1, schema(j.additionalProperties)).finish());
  else if (typeof j.additionalProperties === 'boolean') m.bytes(21, new Message().bool(2, j.additionalProperties, true).finish());
  // TypeItem { repeated string value = 1 }
  if (j.type !== undefined) m.bytes(22, new Message().strings(1, j.type).finish());
  // ItemsItem { repeated Schema schema = 1 }
  if (j.items !== undefined) m.bytes(23, new Message().messages(1, j.items, schema).finish());
  m.messages(24, j.allOf, schema);
  // Properties { repeated NamedSchema additional_properties = 1 }
  if (isObject(j.properties)) m.bytes(25, new Message().named(1, j.properties, (p) => (isObject(p) ? schema(p) : undefined)).finish());
  m.string(26, j.discriminator).bool(27, j.readOnly).message(28, j.xml, xml).message(29, j.externalDocs, externalDocs);
  if ('example' in j) m.bytes(30, any(j.example));
  return m.extensions(31, j).finish();
}

/**
 * The fields shared by PrimitivesItems and the non-body parameter sub-schemas, numbered consecutively
 * from `first` (type, format, items, collectionFormat, default, maximum, exclusiveMaximum, minimum,
 * exclusiveMinimum, maxLength, minLength, pattern, maxItems, minItems, uniqueItems, enum, multipleOf).
 */
function primitiveFields(m: Message, j: Json, first: number): Message {
  const f = (i: number) => first + i;
  m.string(f(0), j.type)
    .string(f(1), j.format)
    .message(f(2), j.items, primitivesItems)
    .string(f(3), j.collectionFormat);
  if ('default' in j) m.bytes(f(4), any(j.default));
  m.double(f(5), j.maximum)
    .bool(f(6), j.exclusiveMaximum)
    .double(f(7), j.minimum)
    .bool(f(8), j.exclusiveMinimum)
    .int64(f(9), j.maxLength)
    .int64(f(10), j.minLength)
    .string(f(11), j.pattern)
    .int64(f(12), j.maxItems)
    .int64(f(13), j.minItems)
    .bool(f(14), j.uniqueItems);
  for (const e of asArray(j.enum)) m.bytes(f(15), any(e));
  return m.double(f(16), j.multipleOf);
}

/** PrimitivesItems { type = 1 ... multiple_of = 17, vendor_extension = 18 } */
function primitivesItems(j: Json): Buffer {
  return primitiveFields(new Message(), j, 1).extensions(18, j).finish();
}

/** Header { type = 1 ... multiple_of = 17, description = 18, vendor_extension = 19 } */
function header(j: Json): Buffer {
  return primitiveFields(new Message(), j, 1).string(18, j.description).extensions(19, j).finish();
}

/**
 * Parameter { oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2 } }.
 * NonBodyParameter picks its member by `in`: header = 1, formData = 2, query = 3, path = 4. The query and
 * formData sub-schemas carry allow_empty_value = 5 and so number the shared fields from 6, header and
 * path from 5.
 */
function parameter(j: Json): Buffer {
  if (j.in === 'body') {
    const body = new Message().string(1, j.description).string(2, j.name).string(3, j.in).bool(4, j.required).message(5, j.schema, schema).extensions(6, j).finish();
    return new Message().bytes(1, body).finish();
  }
  const member = { header: 1, formData: 2, query: 3, path: 4 }[String(j.in)];
  if (!member) return new Message().finish();
  const sub = new Message().bool(1, j.required).string(2, j.in).string(3, j.description).string(4, j.name);
  const withEmpty = member === 2 || member === 3;
  if (withEmpty) sub.bool(5, j.allowEmptyValue);
  const first = withEmpty ? 6 : 5;
  primitiveFields(sub, j, first).extensions(first + 17, j);
  return new Message().bytes(2, new Message().bytes(member, sub.finish()).finish()).finish();
}

/** JsonReference { _ref = 1, description = 2 } */
function jsonReference(j: Json): Buffer {
  return new Message().string(1, j.$ref).string(2, j.description).finish();
}

/** ParametersItem { oneof { Parameter parameter = 1; JsonReference json_reference = 2 } } */
function parametersItem(j: Json): Buffer {
  return typeof j.$ref === 'string' ? new Message().bytes(2, jsonReference(j)).finish() : new Message().bytes(1, parameter(j)).finish();
}

/** Response { description = 1, schema = 2 (SchemaItem), headers = 3, examples = 4, vendor_extension = 5 } */
function response(j: Json): Buffer {
  const m = new Message().string(1, j.description);
  if (isObject(j.schema)) {
    // SchemaItem { oneof { Schema schema = 1; FileSchema file_schema = 2 } }
    m.bytes(2, j.schema.type === 'file' ? new Message().bytes(2, fileSchema(j.schema)).finish() : new Message().bytes(1, schema(j.schema)).finish());
  }
  if (isObject(j.headers)) m.bytes(3, new Message().named(1, j.headers, (h) => (isObject(h) ? header(h) : undefined)).finish());
  if (isObject(j.examples)) m.bytes(4, new Message().named(1, j.examples, anyOf).finish());
  return m.extensions(5, j).finish();
}

/** FileSchema { format = 1, title = 2, description = 3, default = 4, required = 5, type = 6, read_only = 7, external_docs = 8, example = 9, vendor_extension = 10 } */
function fileSchema(j: Json): Buffer {
  const m = new Message().string(1, j.format).string(2, j.title).string(3, j.description);
  if ('default' in j) m.bytes(4, any(j.default));
  m.strings(5, j.required).string(6, j.type).bool(7, j.readOnly).message(8, j.externalDocs, externalDocs);
  if ('example' in j) m.bytes(9, any(j.example));
  return m.extensions(10, j).finish();
}

/** ResponseValue { oneof { Response response = 1; JsonReference json_reference = 2 } } */
function responseValue(j: Json): Buffer {
  return typeof j.$ref === 'string' ? new Message().bytes(2, jsonReference(j)).finish() : new Message().bytes(1, response(j)).finish();
}

/** SecurityRequirement { repeated NamedStringArray additional_properties = 1 }, StringArray { repeated string value = 1 } */
function securityRequirement(j: Json): Buffer {
  return new Message().named(1, j, (scopes) => new Message().strings(1, scopes).finish()).finish();
}

/**
 * Operation { tags = 1, summary = 2, description = 3, external_docs = 4, operation_id = 5, produces = 6, consumes = 7,
 * parameters = 8, responses = 9, schemes = 10, deprecated = 11, security = 12, vendor_extension = 13 }
 */
function operation(j: Json): Buffer {
  const m = new Message()
    .strings(1, j.tags)
    .string(2, j.summary)
    .string(3, j.description)
    .message(4, j.externalDocs, externalDocs)
    .string(5, j.operationId)
    .strings(6, j.produces)
    .strings(7, j.consumes)
    .messages(8, j.parameters, parametersItem);
  // Responses { repeated NamedResponseValue response_code = 1, vendor_extension = 2 }
  m.message(9, j.responses, (r) => new Message().named(1, r, (v) => (isObject(v) ? responseValue(v) : undefined)).extensions(2, r).finish());
  return m
    .strings(10, j.schemes)
    .bool(11, j.deprecated)
    .messages(12, j.security, securityRequirement)
    .extensions(13, j)
    .finish();
}

/** PathItem { _ref = 1, get = 2, put = 3, post = 4, delete = 5, options = 6, head = 7, patch = 8, parameters = 9, vendor_extension = 10 } */
function pathItem(j: Json): Buffer {
  const m = new Message().string(1, j.$ref);
  (['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const).forEach((method, i) => m.message(2 + i, j[method], operation));
  return m.messages(9, j.parameters, parametersItem).extensions(10, j).finish();
}

/**
 * SecurityDefinitionsItem { oneof { basic_authentication_security = 1, api_key_security = 2,
 * oauth2_implicit_security = 3, oauth2_password_security = 4, oauth2_application_security = 5,
 * oauth2_access_code_security = 6 } }, chosen by `type` and, for oauth2, `flow`.
 */
function securityDefinitionsItem(j: Json): Buffer {
  const m = new Message();
  if (j.type === 'basic') return m.bytes(1, new Message().string(1, j.type).string(2, j.description).extensions(3, j).finish()).finish();
  if (j.type === 'apiKey') return m.bytes(2, new Message().string(1, j.type).string(2, j.name).string(3, j.in).string(4, j.description).extensions(5, j).finish()).finish();
  if (j.type !== 'oauth2') return m.finish();
  // Oauth2Scopes { repeated NamedString additional_properties = 1 }: the value is a plain string
  const scopes = (s: Json) => new Message().named(1, s, (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : undefined)).finish();
  const base = () => new Message().string(1, j.type).string(2, j.flow).message(3, j.scopes, scopes);
  switch (j.flow) {
    case 'implicit':
      return m.bytes(3, base().string(4, j.authorizationUrl).string(5, j.description).extensions(6, j).finish()).finish();
    case 'password':
      return m.bytes(4, base().string(4, j.tokenUrl).string(5, j.description).extensions(6, j).finish()).finish();
    case 'application':
      return m.bytes(5, base().string(4, j.tokenUrl).string(5, j.description).extensions(6, j).finish()).finish();
    case 'accessCode':
      return m.bytes(6, base().string(4, j.authorizationUrl).string(5, j.tokenUrl).string(6, j.description).extensions(7, j).finish()).finish();
    default:
      return m.finish();
  }
}

/**
 * Document { swagger = 1, info = 2, host = 3, base_path = 4, schemes = 5, consumes = 6, produces = 7,
 * paths = 8, definitions = 9, parameters = 10, responses = 11, security = 12, security_definitions = 13,
 * tags = 14, external_docs = 15, vendor_extension = 16 }
 */
export function encodeOpenAPIV2Document(doc: Json): Buffer {
  const m = new Message()
    .string(1, doc.swagger)
    .message(2, doc.info, info)
    .string(3, doc.host)
    .string(4, doc.basePath)
    .strings(5, doc.schemes)
    .strings(6, doc.consumes)
    .strings(7, doc.produces);
  // Paths { repeated NamedAny vendor_extension = 1, repeated NamedPathItem path = 2 }
  m.message(8, doc.paths, (p) => new Message().extensions(1, p).named(2, p, (v) => (isObject(v) ? pathItem(v) : undefined)).finish());
  // Definitions { repeated NamedSchema additional_properties = 1 }
  m.message(9, doc.definitions, (d) => new Message().named(1, d, (v) => (isObject(v) ? schema(v) : undefined)).finish());
  // ParameterDefinitions { repeated NamedParameter }, ResponseDefinitions { repeated NamedResponse }
  m.message(10, doc.parameters, (d) => new Message().named(1, d, (v) => (isObject(v) ? parameter(v) : undefined)).finish());
  m.message(11, doc.responses, (d) => new Message().named(1, d, (v) => (isObject(v) ? response(v) : undefined)).finish());
  m.messages(12, doc.security, securityRequirement);
  // SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1 }
  m.message(13, doc.securityDefinitions, (d) => new Message().named(1, d, (v) => (isObject(v) ? securityDefinitionsItem(v) : undefined)).finish());
  m.messages(14, doc.tags, (t) => new Message().string(1, t.name).string(2, t.description).message(3, t.externalDocs, externalDocs).extensions(4, t).finish());
  m.message(15, doc.externalDocs, externalDocs);
  return m.extensions(16, doc).finish();
}
