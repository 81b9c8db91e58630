// OpenAPI documents built from the API schema (@kubelab/api definitions) and the resource table:
//   GET /openapi/v3                 index: {paths: {"api/v1": {serverRelativeURL: "/openapi/v3/api/v1?hash=<SHA512>"}, ...}}
//   GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>   one OpenAPI 3.0 document per group-version
//   GET /openapi/v2                 the swagger 2.0 document, as JSON or as the gnostic protobuf (openapi-v2-proto.ts)
// kubectl reads v3 for `explain`, for the "does the server support fieldValidation" check of
// --validate (the PATCH operations of a kind must list a `fieldValidation` parameter) and for the merge
// keys of client-side apply; it falls back to v2 only when v3 fails.
import { createHash } from 'node:crypto';
import { RESOURCES, definitions, notAcceptable, type JSONSchemaProps, type ResourceInfo, type SubresourceInfo } from '@kubelab/api';
import { VERSION } from '../version.js';
import { encodeOpenAPIV2Document } from './openapi-v2-proto.js';

type Json = Record<string, unknown>;
interface GVK {
  group: string;
  version: string;
  kind: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
/** What kubectl asks for (the '@' spelling, which Go's mime parser cannot read back)... */
export const PROTOBUF_V2_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** ... and what the server answers with, as upstream's kube-openapi handler does. */
export const PROTOBUF_V2_RESPONSE_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

// ---- operations, shared by v2 and v3 ----

interface Param {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'integer' | 'boolean';
  description: string;
  required?: boolean;
}

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });
const P = {
  pretty: q('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: q('dryRun', 'string',
      'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun ' +
      'directive will result in an error response and no further processing of the request. Valid values are: - All: ' +
      'all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'string',
      'fieldManager is a name associated with the actor or entity that is making these changes. The value must be ' +
      'less than or 128 characters long, and only contain printable characters, as defined by ' +
      'https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: q('fieldValidation', 'string',
      'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing ' +
      'unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently ' +
      'dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: ' +
      'This will send a warning via the standard warning response header for each unknown field that is dropped from ' +
      'the object, and for each duplicate field that is encountered. The request will still succeed if there are no ' +
      'other errors, and will only persist the last of any duplicate fields. This is the default. - Strict: This will ' +
      'fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any ' +
      'duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields ' +
      'encountered.'),
  force: q('force', 'boolean',
      'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other ' +
      'people. Force flag must be unset for non-apply patch requests.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag.'),
  continue: q('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  fieldSelector: q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  resourceVersion: q('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults to unset.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer',
      'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value ' +
      'zero indicates delete immediately.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned.'),
  propagationPolicy: q('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETECOLLECTION_PARAMS = [
  P.continue,
  P.dryRun,
  P.fieldSelector,
  P.gracePeriodSeconds,
  P.labelSelector,
  P.limit,
  P.orphanDependents,
  P.propagationPolicy,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
];

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

interface Operation {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  gvk: GVK;
  params: Param[];
  /** Request body definition (Patch for patch). */
  body?: string;
  /** Response definition. */
  response: string;
  created?: boolean;
  accepted?: boolean;
}

interface PathItem {
  path: string;
  params: Param[];
  ops: Operation[];
}

function groupVersionName(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
  const camel = g
    .split('.')
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
  return camel + version[0]!.toUpperCase() + version.slice(1);
}

function prefixOf(r: { group: string; version: string }): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

/** Definition name of a kind served in a group-version. */
function definitionFor(gvk: GVK): string {
  for (const [name, s] of Object.entries(definitions())) {
    if (s['x-kubernetes-group-version-kind']?.some((k) => k.group === gvk.group && k.version === gvk.version && k.kind === gvk.kind)) return name;
  }
  throw new Error(`openapi: no definition for ${gvk.group}/${gvk.version} ${gvk.kind}`);
}

function pathParam(name: 'name' | 'namespace', kind: string): Param {
  return name === 'name'
    ? { name, in: 'path', type: 'string', required: true, description: `name of the ${kind}` }
    : { name, in: 'path', type: 'string', required: true, description: 'object name and auth scope, such as for teams and projects' };
}

function subresourceGVK(r: ResourceInfo, s: SubresourceInfo): GVK {
  return { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind };
}

const STREAMING_SUBRESOURCES = new Set(['attach', 'exec', 'log', 'portforward']);
/**
 * Groups without OpenAPI paths or schemas yet: metrics.k8s.io (NodeMetrics, PodMetrics; upstream's come from the
 * metrics-server's aggregated spec, which Kubelab does not generate).
 */
const UNDESCRIBED_GROUPS = new Set(['metrics.k8s.io']);

/** Every path of a group-version with its operations, as upstream's installer lays them out. */
function pathItems(group: string, version: string): PathItem[] {
  const items: PathItem[] = [];
  const gvName = groupVersionName(group, version);
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version)) {
    const gvk: GVK = { group, version, kind: r.kind };
    const def = definitionFor(gvk);
    const listDef = r.verbs.includes('list') ? definitionFor({ ...gvk, kind: r.listKind }) : undefined;
    const ns = r.namespaced ? 'Namespaced' : '';
    const base = r.namespaced ? `${prefixOf(r)}/namespaces/{namespace}/${r.resource}` : `${prefixOf(r)}/${r.resource}`;
    const scopeParams = r.namespaced ? [pathParam('namespace', r.kind)] : [];
    const has = (v: string) => r.verbs.includes(v);
    const op = (method: Method, action: Action, verb: string, description: string, extra: Partial<Operation> = {}): Operation => {
      const { operationId: suffix, ...rest } = extra;
      return { method, action, operationId: `${verb}${gvName}${suffix ?? `${ns}${r.kind}`}`, description, gvk, params: [], response: def, ...rest };
    };

    const collection: Operation[] = [];
    if (has('list')) collection.push(op('get', 'list', 'list', `list or watch objects of kind ${r.kind}`, { params: LIST_PARAMS, response: listDef! }));
    if (has('create')) collection.push(op('post', 'post', 'create', `create ${article(r.kind)}`, { params: WRITE_PARAMS, body: def, created: true, accepted: true }));
    if (has('deletecollection')) {
      const extra = { operationId: `Collection${ns}${r.kind}`, params: DELETECOLLECTION_PARAMS, body: `${META}.DeleteOptions`, response: `${META}.Status` };
      collection.push(op('delete', 'deletecollection', 'delete', `delete collection of ${r.kind}`, extra));
    }
    if (collection.length) items.push({ path: base, params: [...scopeParams, P.pretty], ops: collection });

    const item: Operation[] = [];
    if (has('get')) item.push(op('get', 'get', 'read', `read the specified ${r.kind}`));
    if (has('update')) item.push(op('put', 'put', 'replace', `replace the specified ${r.kind}`, { params: WRITE_PARAMS, body: def, created: true }));
    if (has('patch')) item.push(op('patch', 'patch', 'patch', `partially update the specified ${r.kind}`, { params: [...WRITE_PARAMS, P.force], body: `${META}.Patch`, created: true }));
    if (has('delete')) item.push(op('delete', 'delete', 'delete', `delete ${article(r.kind)}`, { params: DELETE_PARAMS, body: `${META}.DeleteOptions`, response: `${META}.Status`, accepted: true }));
    if (item.length) items.push({ path: `${base}/{name}`, params: [pathParam('name', r.kind), ...scopeParams, P.pretty], ops: item });

    for (const s of r.subresources) {
      // The streaming subresources (upstream's connect operations, text or upgraded responses) are not described yet.
      if (r.resource === 'pods' && STREAMING_SUBRESOURCES.has(s.name)) continue;
      const sgvk = subresourceGVK(r, s);
      const sdef = definitionFor(sgvk);
      const suffix = `${ns}${r.kind}${s.name[0]!.toUpperCase()}${s.name.slice(1)}`;
      const what = `${s.name} of the specified ${r.kind}`;
      const sub: Operation[] = [];
      const sop = (method: Method, action: Action, verb: string, description: string, extra: Partial<Operation> = {}) =>
        op(method, action, verb, description, { gvk: sgvk, response: sdef, operationId: suffix, ...extra });
      if (s.verbs.includes('get')) sub.push(sop('get', 'get', 'read', `read ${what}`));
      if (s.verbs.includes('create')) sub.push(sop('post', 'post', 'create', `create ${s.name} of ${article(r.kind)}`, { params: WRITE_PARAMS, body: sdef, created: true, accepted: true }));
      if (s.verbs.includes('update')) sub.push(sop('put', 'put', 'replace', `replace ${what}`, { params: WRITE_PARAMS, body: sdef, created: true }));
      if (s.verbs.includes('patch')) sub.push(sop('patch', 'patch', 'patch', `partially update ${what}`, { params: [...WRITE_PARAMS, P.force], body: `${META}.Patch`, created: true }));
      items.push({ path: `${base}/{name}/${s.name}`, params: [pathParam('name', s.kind), ...scopeParams, P.pretty], ops: sub });
    }

    if (r.namespaced && has('list')) {
      items.push({
        path: `${prefixOf(r)}/${r.resource}`,
        params: [P.pretty],
        ops: [op('get', 'list', 'list', `list or watch objects of kind ${r.kind}`, { operationId: `${r.kind}ForAllNamespaces`, params: LIST_PARAMS, response: listDef! })],
      });
    }
  }
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/\./g, '_');
  return `${g}_${version}`;
}

// ---- schemas ----

/** Every definition reachable from `roots`, sorted. */
function reachable(roots: Iterable<string>): string[] {
  const defs = definitions();
  const seen = new Set<string>();
  const visit = (s: JSONSchemaProps | undefined) => {
    if (!s) return;
    if (s.$ref && !seen.has(s.$ref)) {
      seen.add(s.$ref);
      visit(defs[s.$ref]);
    }
    visit(s.items);
    visit(s.additionalProperties);
    for (const p of Object.values(s.properties ?? {})) visit(p);
  };
  for (const r of roots) visit({ $ref: r });
  return [...seen].sort();
}

/** A property or item schema, with refs pointing at `refPrefix`; v3 wraps described refs in allOf. */
function convert(s: JSONSchemaProps, refPrefix: string, v3: boolean, property: boolean): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' || k === 'items' || k === 'additionalProperties' || k === 'properties') continue;
    out[k] = v;
  }
  if (s.$ref) {
    const ref = { $ref: refPrefix + s.$ref };
    if (v3 && property) out.allOf = [ref];
    else Object.assign(out, ref);
  }
  if (s.items) out.items = convert(s.items, refPrefix, v3, false);
  if (s.additionalProperties) out.additionalProperties = convert(s.additionalProperties, refPrefix, v3, false);
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, convert(p, refPrefix, v3, true)]));
  return out;
}

function definitionSchema(name: string, refPrefix: string, v3: boolean): Json {
  const s = definitions()[name]!;
  const out = convert(s, refPrefix, v3, false);
  if (v3 && name === QUANTITY) {
    delete out.type;
    out.oneOf = [{ type: 'string' }, { type: 'number' }];
  }
  if (v3 && name === INT_OR_STRING) {
    delete out.type;
    out.oneOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (v3 && s['x-kubernetes-preserve-unknown-fields'] && name.endsWith('.FieldsV1')) delete out['x-kubernetes-preserve-unknown-fields'];
  return out;
}

function rootsOf(items: PathItem[]): Set<string> {
  const roots = new Set<string>([`${META}.Status`, `${META}.DeleteOptions`, `${META}.Patch`, `${META}.WatchEvent`, `${META}.APIResourceList`]);
  for (const it of items) {
    for (const o of it.ops) {
      roots.add(o.response);
      if (o.body) roots.add(o.body);
    }
  }
  return roots;
}

// ---- v3 ----

function v3Param(p: Param): Json {
  return { name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}), schema: { type: p.type, uniqueItems: true } };
}

function v3Content(def: string, types: string[]): Json {
  return Object.fromEntries(types.map((t) => [t, { schema: { $ref: `#/components/schemas/${def}` } }]));
}

function v3Operation(o: Operation, tag: string): Json {
  const responses: Json = { '200': { description: 'OK', content: v3Content(o.response, RESPONSE_TYPES) } };
  if (o.created) responses['201'] = { description: 'Created', content: v3Content(o.response, RESPONSE_TYPES) };
  if (o.accepted) responses['202'] = { description: 'Accepted', content: v3Content(o.response, RESPONSE_TYPES) };
  responses['401'] = { description: 'Unauthorized' };
  return {
    tags: [tag],
    description: o.description,
    operationId: o.operationId,
    ...(o.params.length ? { parameters: o.params.map(v3Param) } : {}),
    ...(o.body ? { requestBody: { content: v3Content(o.body, o.method === 'patch' ? PATCH_TYPES : ['*/*']), ...(o.method === 'delete' ? {} : { required: true }) } } : {}),
    responses,
    'x-kubernetes-action': o.action,
    'x-kubernetes-group-version-kind': o.gvk,
  };
}

/** The group-versions served, as `api/v1` and `apis/<group>/<version>`. */
function groupVersions(): { key: string; group: string; version: string }[] {
  const seen = new Map<string, { key: string; group: string; version: string }>();
  for (const r of RESOURCES) {
    if (UNDESCRIBED_GROUPS.has(r.group)) continue;
    const key = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
    if (!seen.has(key)) seen.set(key, { key, group: r.group, version: r.version });
  }
  return [...seen.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

const v3Cache = new Map<string, { doc: Json; text: string; hash: string }>();

function v3Entry(key: string): { doc: Json; text: string; hash: string } | undefined {
  const cached = v3Cache.get(key);
  if (cached) return cached;
  const gv = groupVersions().find((g) => g.key === key);
  if (!gv) return undefined;
  const items = pathItems(gv.group, gv.version);
  const tag = tagOf(gv.group, gv.version);
  const paths: Json = {};
  for (const it of items) {
    const entry: Json = {};
    for (const o of it.ops) entry[o.method] = v3Operation(o, tag);
    entry.parameters = it.params.map(v3Param);
    paths[it.path] = entry;
  }
  const schemas = Object.fromEntries(reachable(rootsOf(items)).map((n) => [n, definitionSchema(n, '#/components/schemas/', true)]));
  const doc: Json = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION.gitVersion },
    paths,
    components: { schemas, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
    security: [{ BearerToken: [] }],
  };
  const text = JSON.stringify(doc);
  const entry = { doc, text, hash: sha512Hex(text) };
  v3Cache.set(key, entry);
  return entry;
}

function sha512Hex(text: string): string {
  return createHash('sha512').update(text).digest('hex').toUpperCase();
}

/** The /openapi/v3 index: every group-version with its document's URL (hash = SHA-512 of the document, upper-case hex). */
export function openapiV3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) paths[gv.key] = { serverRelativeURL: `/openapi/v3/${gv.key}?hash=${v3Entry(gv.key)!.hash}` };
  return { paths };
}

/** The OpenAPI v3 document of a group-version (`api/v1`, `apis/apps/v1`), or undefined. */
export function openapiV3Document(gv: string): Json | undefined {
  return v3Entry(gv.replace(/^\/+|\/+$/g, ''))?.doc;
}

// ---- v2 ----

let v2Cache: { doc: Json; text: string } | undefined;

function v2Param(p: Param): Json {
  return { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true, ...(p.required ? { required: true } : {}) };
}

/** The swagger 2.0 document of every group-version. */
export function openapiV2Document(): Json {
  if (v2Cache) return v2Cache.doc;
  const paths: Json = {};
  const roots = new Set<string>();
  for (const gv of groupVersions()) {
    const items = pathItems(gv.group, gv.version);
    for (const r of rootsOf(items)) roots.add(r);
    const tag = tagOf(gv.group, gv.version);
    for (const it of items) {
      const entry: Json = {};
      for (const o of it.ops) {
        const responses: Json = { '200': { description: 'OK', schema: { $ref: `#/definitions/${o.response}` } } };
        if (o.created) responses['201'] = { description: 'Created', schema: { $ref: `#/definitions/${o.response}` } };
        if (o.accepted) responses['202'] = { description: 'Accepted', schema: { $ref: `#/definitions/${o.response}` } };
        responses['401'] = { description: 'Unauthorized' };
        const params = o.params.map(v2Param);
        if (o.body) params.unshift({ name: 'body', in: 'body', ...(o.method === 'delete' ? {} : { required: true }), schema: { $ref: `#/definitions/${o.body}` } });
        entry[o.method] = {
          description: o.description,
          consumes: o.method === 'patch' ? PATCH_TYPES : ['*/*'],
          produces: RESPONSE_TYPES,
          schemes: ['https'],
          tags: [tag],
          operationId: o.operationId,
          ...(params.length ? { parameters: params } : {}),
          responses,
          'x-kubernetes-action': o.action,
          'x-kubernetes-group-version-kind': o.gvk,
        };
      }
      entry.parameters = it.params.map(v2Param);
      paths[it.path] = entry;
    }
  }
  const definitionsOut = Object.fromEntries(reachable(roots).map((n) => [n, definitionSchema(n, '#/definitions/', false)]));
  const doc: Json = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: VERSION.gitVersion },
    paths,
    definitions: definitionsOut,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  v2Cache = { doc, text: JSON.stringify(doc) };
  return doc;
}

// ---- serving ----

export interface OpenAPIResponse {
  status: number;
  contentType?: string;
  headers: Record<string, string>;
  /** JSON text, or the protobuf bytes of /openapi/v2. */
  body: string | Buffer;
}

/** Media ranges of an Accept header, most preferred first (q order, then position). */
function acceptRanges(accept: string | undefined): string[] {
  const parts = (accept || '*/*').split(',').map((p, i) => {
    const [range, ...params] = p.split(';').map((x) => x.trim().toLowerCase());
    const qp = params.find((x) => x.startsWith('q='));
    return { range: range!, q: qp ? Number(qp.slice(2)) : 1, i };
  });
  return parts
    .filter((p) => p.range && p.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((p) => p.range);
}

function acceptsJSON(accept: string | undefined): boolean {
  for (const r of acceptRanges(accept)) {
    if (r === 'application/json' || r === 'application/*' || r === '*/*') return true;
  }
  return false;
}

let v2Proto: { bytes: Buffer; hash: string } | undefined;

/** Every error is a Status, also an unservable Accept header. */
const NOT_ACCEPTABLE = (): OpenAPIResponse => ({
  status: 406,
  contentType: 'application/json',
  headers: { vary: 'Accept' },
  body: JSON.stringify(notAcceptable('the server cannot serve the OpenAPI document in any of the media types the Accept header names').status),
});

/**
 * Serves GET /openapi/v2 and /openapi/v3[/<gv>] (`url` is the request path with its query string).
 * undefined when the path is not an OpenAPI path or names no group-version (the caller answers 404).
 */
export function serveOpenAPI(url: string, acceptHeader?: string): OpenAPIResponse | undefined {
  const u = new URL(url, 'https://localhost');
  const path = u.pathname.replace(/\/+$/, '');
  if (path === '/openapi/v2') {
    // The first acceptable range picks JSON or the gnostic protobuf (client-go's OpenAPISchema() asks for
    // the protobuf alone); each representation has its own ETag.
    for (const r of acceptRanges(acceptHeader)) {
      if (r === 'application/json' || r === 'application/*' || r === '*/*') {
        openapiV2Document();
        return { status: 200, contentType: 'application/json', headers: { etag: JSON.stringify(sha512Hex(v2Cache!.text)), vary: 'Accept' }, body: v2Cache!.text };
      }
      if (r === PROTOBUF_V2_CONTENT_TYPE || r === PROTOBUF_V2_RESPONSE_CONTENT_TYPE) {
        if (!v2Proto) {
          const bytes = encodeOpenAPIV2Document(openapiV2Document());
          v2Proto = { bytes, hash: createHash('sha512').update(bytes).digest('hex').toUpperCase() };
        }
        return { status: 200, contentType: PROTOBUF_V2_RESPONSE_CONTENT_TYPE, headers: { etag: JSON.stringify(v2Proto.hash), vary: 'Accept' }, body: v2Proto.bytes };
      }
    }
    return NOT_ACCEPTABLE();
  }
  if (path === '/openapi/v3') {
    const text = JSON.stringify(openapiV3Index());
    return { status: 200, contentType: 'application/json', headers: { etag: JSON.stringify(sha512Hex(text)) }, body: text };
  }
  if (!path.startsWith('/openapi/v3/')) return undefined;
  const key = path.slice('/openapi/v3/'.length);
  const entry = v3Entry(key);
  if (!entry) return undefined;
  if (!acceptsJSON(acceptHeader)) return NOT_ACCEPTABLE();
  const headers: Record<string, string> = { etag: JSON.stringify(entry.hash), vary: 'Accept' };
  const hash = u.searchParams.get('hash');
  if (hash) {
    if (hash !== entry.hash) return { status: 301, headers: { location: `/openapi/v3/${key}?hash=${entry.hash}`, vary: 'Accept' }, body: '' };
    headers['cache-control'] = 'public, immutable';
    headers.expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
  }
  return { status: 200, contentType: 'application/json', headers, body: entry.text };
}
