// Generates packages/api/src/schema/generated/definitions.json: the schema of every API type Kubelab
// serves, with upstream's definition names, descriptions, field types and required fields, read with the
// TypeScript compiler API from the declarations of `kubernetes-types` (which are generated from upstream's
// OpenAPI), merged with our patch metadata table (schema/patch-meta.ts) and a few fields newer than the
// installed kubernetes-types. Formats (int32/int64, byte), which kubernetes-types does not carry, come
// from the OpenAPI-generated models of @kubernetes/client-node (their attributeTypeMap).
//
//   node --import tsx hack/gen-schema.ts          write the file
//   node --import tsx hack/gen-schema.ts --check  exit 1 when the committed file is stale
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { PATCH_META, ATOMIC_STRUCTS } from '../packages/api/src/schema/patch-meta.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = join(ROOT, 'packages/api/src/schema/generated/definitions.json');

/** kubernetes-types module (relative to the package root, without .d.ts) -> upstream definition prefix. */
const MODULES: Record<string, string> = {
  'core/v1': 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'batch/v1': 'io.k8s.api.batch.v1',
  'rbac/v1': 'io.k8s.api.rbac.v1',
  'coordination/v1': 'io.k8s.api.coordination.v1',
  'discovery/v1': 'io.k8s.api.discovery.v1',
  'events/v1': 'io.k8s.api.events.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1',
  'autoscaling/v2': 'io.k8s.api.autoscaling.v2',
  'networking/v1': 'io.k8s.api.networking.v1',
  'storage/v1': 'io.k8s.api.storage.v1',
  'authentication/v1': 'io.k8s.api.authentication.v1',
  'authorization/v1': 'io.k8s.api.authorization.v1',
  'certificates/v1': 'io.k8s.api.certificates.v1',
  'scheduling/v1': 'io.k8s.api.scheduling.v1',
  'policy/v1': 'io.k8s.api.policy.v1',
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  runtime: 'io.k8s.apimachinery.pkg.runtime',
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** A property or item schema in the generated file (an OpenAPI v2 schema, refs as bare names). */
export interface PropSchema {
  type?: string;
  format?: string;
  $ref?: string;
  description?: string;
  items?: PropSchema;
  additionalProperties?: PropSchema;
  [ext: `x-kubernetes-${string}`]: unknown;
}

export interface Definition extends PropSchema {
  required?: string[];
  properties?: Record<string, PropSchema>;
}

// Fields upstream v1.32 serves that kubernetes-types 1.30 does not declare (checked against the
// release-1.32 types.go); descriptions are our own summaries.
const NEWER_FIELDS: Record<string, Record<string, PropSchema>> = {
  'io.k8s.api.core.v1.PodSpec': {
    resources: { $ref: 'io.k8s.api.core.v1.ResourceRequirements', description: 'Resources is the total amount of CPU and Memory resources required by all containers in the pod (pod-level resources; alpha, feature gate PodLevelResources).' },
  },
  'io.k8s.api.core.v1.PodSecurityContext': {
    seLinuxChangePolicy: { type: 'string', description: 'seLinuxChangePolicy defines how the container\'s SELinux label is applied to all volumes used by the Pod: "MountOption" or "Recursive".' },
    supplementalGroupsPolicy: { type: 'string', description: 'Defines how supplemental groups of the first container processes are calculated: "Merge" (default) or "Strict".' },
  },
  'io.k8s.api.core.v1.Volume': {
    image: { $ref: 'io.k8s.api.core.v1.ImageVolumeSource', description: 'image represents an OCI object (a container image or artifact) pulled and mounted on the kubelet\'s host machine.' },
  },
  'io.k8s.api.core.v1.ContainerStatus': {
    allocatedResourcesStatus: { type: 'array', items: { $ref: 'io.k8s.api.core.v1.ResourceStatus' }, description: 'AllocatedResourcesStatus represents the status of various resources allocated for this Pod.' },
    user: { $ref: 'io.k8s.api.core.v1.ContainerUser', description: 'User represents user identity information initially attached to the first process of the container.' },
  },
  'io.k8s.api.core.v1.NodeStatus': {
    features: { $ref: 'io.k8s.api.core.v1.NodeFeatures', description: 'Features describes the set of features implemented by the CRI implementation.' },
  },
  'io.k8s.api.core.v1.NodeRuntimeHandlerFeatures': {
    userNamespaces: { type: 'boolean', description: 'UserNamespaces is set to true if the runtime handler supports UserNamespaces, including for volumes.' },
  },
  'io.k8s.api.core.v1.PodResourceClaim': {
    resourceClaimName: { type: 'string', description: 'ResourceClaimName is the name of a ResourceClaim object in the same namespace as this pod.' },
    resourceClaimTemplateName: { type: 'string', description: 'ResourceClaimTemplateName is the name of a ResourceClaimTemplate object in the same namespace as this pod.' },
  },
  'io.k8s.api.core.v1.ResourceClaim': {
    request: { type: 'string', description: 'Request is the name chosen for a request in the referenced claim. If empty, everything from the claim is made available.' },
  },
  'io.k8s.api.coordination.v1.LeaseSpec': {
    preferredHolder: { type: 'string', description: 'PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up.' },
    strategy: { type: 'string', description: 'Strategy indicates the strategy for picking the leader for coordinated leader election.' },
  },
};

/** Fields removed upstream by v1.32 that kubernetes-types 1.30 still declares. */
const REMOVED_FIELDS: Record<string, string[]> = {
  'io.k8s.api.core.v1.PodResourceClaim': ['source'],
};

const NEWER_DEFINITIONS: Record<string, Definition> = {
  'io.k8s.api.core.v1.ImageVolumeSource': {
    type: 'object',
    description: 'ImageVolumeSource represents a image volume resource.',
    properties: {
      pullPolicy: { type: 'string', description: 'Policy for pulling OCI objects: Always, Never or IfNotPresent.' },
      reference: { type: 'string', description: 'Required: Image or artifact reference to be used.' },
    },
  },
  'io.k8s.api.core.v1.ResourceStatus': {
    type: 'object',
    description: 'ResourceStatus represents the status of a single resource allocated to a Pod.',
    required: ['name'],
    properties: {
      name: { type: 'string', description: 'Name of the resource. Must be unique within the pod and match one of the resources from the pod spec.' },
      resources: { type: 'array', items: { $ref: 'io.k8s.api.core.v1.ResourceHealth' }, description: 'List of unique resources health.' },
    },
  },
  'io.k8s.api.core.v1.ResourceHealth': {
    type: 'object',
    description: 'ResourceHealth represents the health of a resource.',
    required: ['resourceID'],
    properties: {
      health: { type: 'string', description: 'Health of the resource: Healthy, Unhealthy or Unknown.' },
      resourceID: { type: 'string', description: 'ResourceID is the unique identifier of the resource.' },
    },
  },
  'io.k8s.api.core.v1.ContainerUser': {
    type: 'object',
    description: 'ContainerUser represents user identity information.',
    properties: {
      linux: { $ref: 'io.k8s.api.core.v1.LinuxContainerUser', description: 'Linux holds user identity information initially attached to the first process of the containers in Linux.' },
    },
  },
  'io.k8s.api.core.v1.LinuxContainerUser': {
    type: 'object',
    description: 'LinuxContainerUser represents user identity information in Linux containers.',
    required: ['uid', 'gid'],
    properties: {
      gid: { type: 'integer', format: 'int64', description: 'GID is the primary gid initially attached to the first process in the container.' },
      supplementalGroups: { type: 'array', items: { type: 'integer', format: 'int64' }, description: 'SupplementalGroups are the supplemental groups initially attached to the first process in the container.' },
      uid: { type: 'integer', format: 'int64', description: 'UID is the primary uid initially attached to the first process in the container.' },
    },
  },
  'io.k8s.api.core.v1.NodeFeatures': {
    type: 'object',
    description: 'NodeFeatures describes the set of features implemented by the CRI implementation.',
    properties: {
      supplementalGroupsPolicy: { type: 'boolean', description: 'SupplementalGroupsPolicy is set to true if the runtime supports SupplementalGroupsPolicy and ContainerUser.' },
    },
  },
  [INT_OR_STRING]: {
    type: 'string',
    format: 'int-or-string',
    description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  },
};

function jsDocText(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  if (!docs?.length) return undefined;
  const text = ts.getTextOfJSDocComment(docs[docs.length - 1]!.comment);
  return text ? text.trim() : undefined;
}

interface ModuleScope {
  prefix: string;
  /** Imported name -> definition prefix of its module. */
  imports: Map<string, string>;
}

function refName(name: string, scope: ModuleScope): string {
  return `${scope.imports.get(name) ?? scope.prefix}.${name}`;
}

function typeSchema(node: ts.TypeNode, scope: ModuleScope): PropSchema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      // Every number in the served groups is an integer upstream (int32 or int64).
      return { type: 'integer' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.LiteralType:
      return { type: 'string' }; // apiVersion: "v1", kind: "Pod"
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: typeSchema((node as ts.ArrayTypeNode).elementType, scope) };
    case ts.SyntaxKind.UnionType: {
      const kinds = (node as ts.UnionTypeNode).types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) return { $ref: INT_OR_STRING };
      throw new Error(`unsupported union type ${node.getText()}`);
    }
    case ts.SyntaxKind.TypeLiteral: {
      const members = (node as ts.TypeLiteralNode).members;
      const index = members.find(ts.isIndexSignatureDeclaration);
      if (index && members.length === 1) return { type: 'object', additionalProperties: typeSchema(index.type, scope) };
      throw new Error(`unsupported type literal ${node.getText()}`);
    }
    case ts.SyntaxKind.TypeReference: {
      const ref = node as ts.TypeReferenceNode;
      const name = ref.typeName.getText();
      if (name === 'Array' && ref.typeArguments?.length === 1) return { type: 'array', items: typeSchema(ref.typeArguments[0]!, scope) };
      return { $ref: refName(name, scope) };
    }
    default:
      throw new Error(`unsupported type node ${ts.SyntaxKind[node.kind]}: ${node.getText()}`);
  }
}

function aliasDefinition(name: string, decl: ts.TypeAliasDeclaration, scope: ModuleScope): Definition {
  const description = jsDocText(decl);
  const full = `${scope.prefix}.${name}`;
  const base: Definition = {};
  if (full === QUANTITY) base.type = 'string'; // OpenAPI v2 form; v3 documents widen it to string-or-number
  else if (full.endsWith('.meta.v1.Time') || full.endsWith('.meta.v1.MicroTime')) Object.assign(base, { type: 'string', format: 'date-time' });
  else Object.assign(base, typeSchema(decl.type, scope));
  if (description) base.description = description;
  return base;
}

function interfaceDefinition(decl: ts.InterfaceDeclaration, scope: ModuleScope): Definition {
  const def: Definition = { type: 'object' };
  const description = jsDocText(decl);
  if (description) def.description = description;
  const properties: Record<string, PropSchema> = {};
  const required: string[] = [];
  let apiVersion: string | undefined;
  let kind: string | undefined;
  for (const member of decl.members) {
    if (!ts.isPropertySignature(member) || !member.type) throw new Error(`unsupported member in ${decl.name.text}`);
    const field = member.name.getText();
    const prop = typeSchema(member.type, scope);
    const doc = jsDocText(member);
    properties[field] = doc ? { description: doc, ...prop } : prop;
    if (!member.questionToken) required.push(field);
    if (ts.isLiteralTypeNode(member.type) && ts.isStringLiteral(member.type.literal)) {
      if (field === 'apiVersion') apiVersion = member.type.literal.text;
      if (field === 'kind') kind = member.type.literal.text;
    }
  }
  if (Object.keys(properties).length) def.properties = properties;
  if (required.length) def.required = required;
  if (apiVersion && kind) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    def['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  }
  return def;
}

function readModule(packageDir: string, module: string, prefix: string, out: Record<string, Definition>) {
  const file = join(packageDir, `${module}.d.ts`);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const scope: ModuleScope = { prefix, imports: new Map() };
  for (const stmt of source.statements) {
    if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier) && stmt.importClause?.namedBindings && ts.isNamedImports(stmt.importClause.namedBindings)) {
      const target = join(dirname(module), stmt.moduleSpecifier.text).replace(/\\/g, '/');
      const targetPrefix = MODULES[target];
      if (!targetPrefix) throw new Error(`${module} imports ${target}, which is not in MODULES`);
      for (const el of stmt.importClause.namedBindings.elements) scope.imports.set(el.name.text, targetPrefix);
    }
  }
  for (const stmt of source.statements) {
    if (ts.isInterfaceDeclaration(stmt)) out[`${prefix}.${stmt.name.text}`] = interfaceDefinition(stmt, scope);
    else if (ts.isTypeAliasDeclaration(stmt)) out[`${prefix}.${stmt.name.text}`] = aliasDefinition(stmt.name.text, stmt, scope);
  }
}

/** Capitalised group of a definition prefix for client-node's class names: io.k8s.api.core.v1 -> 'CoreV1'. */
function clientClassPrefixes(definition: string): string[] {
  const m = /^io\.k8s\.api\.([a-z]+)\.(v\d+)\.(\w+)$/.exec(definition);
  if (m) {
    const [, group, version, name] = m;
    const v = version!.toUpperCase();
    return [`${group![0]!.toUpperCase()}${group!.slice(1)}${v}${name}`, `${v}${name}`];
  }
  const meta = /^io\.k8s\.apimachinery\.pkg\.apis\.meta\.(v\d+)\.(\w+)$/.exec(definition);
  return meta ? [`${meta[1]!.toUpperCase()}${meta[2]}`] : [];
}

/** JSON field name -> OpenAPI format of one client-node model class, read from its generated source. */
function clientFormats(modelsDir: string, className: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(join(modelsDir, `${className}.js`), 'utf8');
  } catch {
    return undefined;
  }
  const m = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(text);
  if (!m) return undefined;
  const attrs = JSON.parse(m[1]!) as { baseName: string; format: string }[];
  return new Map(attrs.filter((a) => a.format).map((a) => [a.baseName, a.format]));
}

/** Sets `format` on every integer (int32, int64) and base64 string (byte) field, item and map value, as upstream's OpenAPI has it. */
function addFormats(defs: Record<string, Definition>): void {
  const require = createRequire(import.meta.url);
  const modelsDir = join(dirname(require.resolve('@kubernetes/client-node/package.json', { paths: [ROOT] })), 'dist/gen/models');
  const missing: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (!def.properties) continue;
    const formats = clientClassPrefixes(name).map((c) => clientFormats(modelsDir, c)).find((f) => f !== undefined);
    for (const [field, prop] of Object.entries(def.properties)) {
      const target = prop.items ?? prop.additionalProperties ?? prop;
      if (target.format) continue;
      const format = formats?.get(field);
      if (target.type === 'integer') {
        if (format === 'int32' || format === 'int64') target.format = format;
        else missing.push(`${name}.${field}`);
      } else if (target.type === 'string' && format === 'byte') {
        target.format = format;
      }
    }
  }
  if (missing.length) throw new Error(`no integer format for ${missing.join(', ')}`);
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

/** Builds the definitions, deterministically (definitions and properties sorted by name). */
export function generateDefinitions(): Record<string, Definition> {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('kubernetes-types/package.json', { paths: [ROOT] }));
  const defs: Record<string, Definition> = {};
  for (const [module, prefix] of Object.entries(MODULES)) readModule(packageDir, module, prefix, defs);
  Object.assign(defs, NEWER_DEFINITIONS);
  for (const [name, fields] of Object.entries(NEWER_FIELDS)) {
    const def = defs[name];
    if (!def?.properties) throw new Error(`NEWER_FIELDS: no definition ${name}`);
    Object.assign(def.properties, fields);
  }
  for (const [name, fields] of Object.entries(REMOVED_FIELDS)) {
    const def = defs[name]!;
    for (const f of fields) {
      delete def.properties![f];
      def.required = def.required?.filter((r) => r !== f);
      if (!def.required?.length) delete def.required;
    }
  }
  // Free-form payloads: the decoder keeps whatever they hold.
  for (const name of ['io.k8s.apimachinery.pkg.runtime.RawExtension', 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1']) {
    defs[name]!['x-kubernetes-preserve-unknown-fields'] = true;
  }
  for (const [name, fields] of Object.entries(PATCH_META)) {
    const def = defs[name];
    if (!def?.properties) throw new Error(`PATCH_META: no definition ${name}`);
    for (const [field, meta] of Object.entries(fields)) {
      const prop = def.properties[field];
      if (!prop) throw new Error(`PATCH_META: no field ${name}.${field}`);
      if (meta.listType && prop.type !== 'array') throw new Error(`PATCH_META: ${name}.${field} is not a list`);
      if (meta.patchMergeKey) prop['x-kubernetes-patch-merge-key'] = meta.patchMergeKey;
      if (meta.patchStrategy) prop['x-kubernetes-patch-strategy'] = meta.patchStrategy;
      if (meta.listType) prop['x-kubernetes-list-type'] = meta.listType;
      if (meta.listMapKeys) prop['x-kubernetes-list-map-keys'] = [...meta.listMapKeys];
      if (meta.mapType) prop['x-kubernetes-map-type'] = meta.mapType;
    }
  }
  for (const name of ATOMIC_STRUCTS) {
    if (!defs[name]) throw new Error(`ATOMIC_STRUCTS: no definition ${name}`);
    defs[name]['x-kubernetes-map-type'] = 'atomic';
  }
  addFormats(defs);
  const sorted: Record<string, Definition> = {};
  for (const name of Object.keys(defs).sort()) {
    const def = defs[name]!;
    sorted[name] = sortKeys({ ...def, ...(def.properties ? { properties: sortKeys(def.properties) } : {}) }) as Definition;
  }
  return sorted;
}

/** The file's text: one definition per line, so diffs stay readable. */
export function renderDefinitions(defs: Record<string, Definition>): string {
  const lines = Object.entries(defs).map(([name, def]) => `${JSON.stringify(name)}:${JSON.stringify(def)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

function main() {
  const text = renderDefinitions(generateDefinitions());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUTPUT, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error(`${OUTPUT} is stale: run node --import tsx hack/gen-schema.ts`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, text);
  console.log(`wrote ${Object.keys(JSON.parse(text)).length} definitions to ${OUTPUT}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
