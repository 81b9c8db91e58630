// Serves every resource request (upstream's endpoints/handlers): get, list, watch, create, update, patch,
// delete and deletecollection, on whatever storage the registry registered for the path (a resource or a
// subresource), by the capabilities of that storage (registry/rest.ts). It knows no resource by name.
// A create: decode -> field validation -> defaults -> managedFields -> admission -> Creater.create
// (registry/store.ts Store.create -> storage.create, an etcd transaction).
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  StatusError,
  badRequest,
  methodNotSupported,
  notFound,
  toStatusError,
  applyDefaults,
  schemaLookup,
  strategicMergePatch,
  mergePatch,
  applyJSONPatch,
  apply as serverSideApply,
  updateManagedFields,
  managerOrUserAgent,
  parseFieldValidation,
  strictDecodingErrors,
  strictDecodingMessage,
  strictDecodingBadRequestMessage,
  warningHeaderValue,
  decode,
  decodeAs,
  DecodeError,
  cannotBeHandledMessage,
  fieldErrors,
  invalid,
  type FieldValidationDirective,
  type KubeObject,
  type ResourceInfo,
} from '@kubelab/api';
import { buildTable, printerFor } from '../printers/index.js';
import {
  isCollectionDeleter,
  isCreater,
  isGetter,
  isGracefulDeleter,
  isLister,
  isNamedCreater,
  isUpdater,
  isWatcher,
  type Creater,
  type ListQuery,
  type ObjectKind,
  type RESTStorage,
  type Watcher,
  type WatchQuery,
  type WriteOptions,
} from '../registry/rest.js';
import type { DeleteOptions } from '../registry/strategy.js';
import { handOver } from '../registry/store.js';
import { isConnecter } from '../registry/rest.js';
import type { AdmissionAttributes, AdmissionChain } from '../admission/admission.js';
import type { Requester } from '../registry/rbac.js';
import type { RequestInfo } from './request-info.js';
import { WatchEventWriter, countWatchEvent, encodeWatchEvent, encodeWatchText } from './watch-writer.js';
import {
  PATCH_MEDIA_TYPES,
  decodeBody,
  encodeBody,
  encodeResponse,
  mediaTypeOf,
  negotiateOutput,
  unsupportedMediaTypeFor,
  type OutputFormat,
} from './negotiation.js';
import type { Metrics } from '../metrics.js';
import { watchLatency } from '../storage/watch-latency.js';

export interface ResourceContext {
  /** The registry's table: one storage per `<group>/<version>/<resource>[/<subresource>]`. */
  storages: Map<string, RESTStorage>;
  admission: AdmissionChain;
  clock: () => Date;
  metrics: Metrics;
  /** Upper bound for a watch without timeoutSeconds (upstream: --min-request-timeout, randomised up to 2x). */
  minRequestTimeoutSeconds: number;
}

/** Upstream answers unknown paths with a 404 Status "the server could not find the requested resource". */
export function notFoundPage(): StatusError {
  return new StatusError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: {} });
}

function boolParam(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return v === 'true' || v === '1' || v === '';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  // Query integers are int64 (strconv.ParseInt, base 10), as upstream's parameter codec reads them.
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const big = BigInt(v);
  if (big > 9223372036854775807n || big < -9223372036854775808n) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(big);
}

function listQuery(q: URLSearchParams): ListQuery {
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: intParam(q, 'limit'),
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
  };
}

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: "${v}". Valid values are "All".`);
  return values.includes('All');
}

function fieldValidationOf(q: URLSearchParams): FieldValidationDirective {
  const raw = q.get('fieldValidation') ?? undefined;
  const d = parseFieldValidation(raw);
  if (!d) {
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `fieldValidation: Unsupported value: "${raw}": supported values: "Ignore", "Strict", "Warn"`,
      details: { causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${raw}": supported values: "Ignore", "Strict", "Warn"`, field: 'fieldValidation' }] },
    });
  }
  return d;
}

/** Strict: 400 with the strict decoding errors; Warn: one Warning header each; Ignore: nothing. */
function enforceFieldValidation(directive: FieldValidationDirective, errors: string[], reply: FastifyReply, strictMessage: (errs: string[]) => string) {
  if (!errors.length || directive === 'Ignore') return;
  if (directive === 'Strict') throw badRequest(strictMessage(errors));
  for (const e of errors) warn(reply, e);
}

/**
 * Unknown and duplicate fields of a request body: from its JSON text when at hand (duplicates are only
 * visible there), else the unknown fields the decoder dropped.
 */
function decodingErrors(raw: Buffer | undefined, contentType: string | undefined, obj: KubeObject, unknown: string[]): string[] {
  if (mediaTypeOf(contentType) === 'application/json' && raw) return strictDecodingErrors(raw.toString('utf8'), obj.apiVersion ?? '', obj.kind ?? '');
  return unknownFieldErrors(unknown);
}

function unknownFieldErrors(paths: string[]): string[] {
  return paths.map((f) => `unknown field ${JSON.stringify(f)}`);
}

function managerOf(q: URLSearchParams, req: FastifyRequest): string {
  const fm = q.get('fieldManager') ?? undefined;
  if (fm !== undefined && fm.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
  return managerOrUserAgent(fm, req.headers['user-agent']);
}

function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** Warnings collected while serving a request (field validation, admission), sent as `Warning` headers. */
const requestWarnings = new WeakMap<FastifyReply, string[]>();

function warn(reply: FastifyReply, message: string) {
  let list = requestWarnings.get(reply);
  if (!list) requestWarnings.set(reply, (list = []));
  list.push(message);
}

/**
 * Sends a response. Returns the reply, which the handler returns too: a streamed list is still being
 * written when the handler's promise settles, and fastify waits on a returned reply (a thenable) for the
 * end of the response instead of sending an empty one.
 */
function send(reply: FastifyReply, code: number, format: OutputFormat, body: unknown): FastifyReply {
  const warnings = requestWarnings.get(reply);
  // A write may be tried more than once (optimistic concurrency): each warning is sent once.
  if (warnings?.length) reply.header('Warning', [...new Set(warnings)].map(warningHeaderValue));
  const payload = encodeResponse(format, body);
  // A streamed list's length is known up front: a content-length, not chunked encoding.
  if (typeof payload === 'object' && !Buffer.isBuffer(payload)) reply.header('content-length', payload.byteLength);
  return reply.code(code).header('content-type', format.mediaType).send(payload);
}

/** Renders an object, list or Table in the negotiated representation. */
function render(ctx: ResourceContext, info: ResourceInfo, format: OutputFormat, value: KubeObject, isList: boolean, q: URLSearchParams): unknown {
  if (format.as === 'table') {
    const printer = printerFor(info.group, info.resource);
    const includeObject = (q.get('includeObject') ?? 'Metadata') as 'None' | 'Metadata' | 'Object';
    const items: KubeObject[] = isList ? value.items : [value];
    const table = buildTable(printer, items, { now: ctx.clock(), includeObject, noHeaders: false });
    if (isList) {
      table.metadata = { ...value.metadata };
    } else {
      table.metadata = { resourceVersion: value.metadata?.resourceVersion };
    }
    return table;
  }
  if (format.as === 'partial') {
    if (isList) {
      return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: value.metadata, items: value.items.map(partialMetadata) };
    }
    return partialMetadata(value);
  }
  return value;
}

/** Checks the body's apiVersion/kind against the path and fills them in when missing, as upstream's decoder. */
function checkTypeMeta(body: unknown, { apiVersion, kind }: ObjectKind): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`the body of the request was not a ${kind} object`);
  }
  const obj = body as KubeObject;
  if (obj.apiVersion && obj.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (obj.kind && obj.kind !== kind) {
    throw badRequest(`${obj.kind} in version "${apiVersion.split('/').pop()}" cannot be handled as a ${kind}: no kind "${obj.kind}" is registered for version "${apiVersion}" in scheme`);
  }
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  return obj;
}

/** What a body became once decoded: the typed object and the unknown fields dropped from it. */
interface DecodedBody {
  obj: KubeObject;
  unknown: string[];
}

/**
 * Decodes a body into (apiVersion, kind) before anything else looks at it, as upstream's typed decode:
 * type meta checked, field types checked against the schema (a mismatch is a 400 `... cannot be handled
 * as a ...`, or what `onError` makes of it), unknown fields dropped and returned for field validation.
 */
function decodeObject(
  body: unknown,
  { apiVersion, kind }: ObjectKind,
  opts: { keepNulls?: boolean; onError?: (message: string) => StatusError } = {},
): DecodedBody {
  const typed = checkTypeMeta(body, { apiVersion, kind });
  let decoded: { object: KubeObject; unknownFields: string[] };
  try {
    decoded = decode(typed as KubeObject, apiVersion, kind, { keepNulls: opts.keepNulls });
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    throw opts.onError ? opts.onError(err.message) : badRequest(cannotBeHandledMessage(apiVersion, kind, err.message));
  }
  const obj = decoded.object;
  obj.metadata ??= {};
  return { obj, unknown: decoded.unknownFields };
}

/** A patch whose result does not decode: 422 `"" is invalid: patch: Invalid value: "<result>": <error>`, as upstream's patcher. */
function invalidPatchResult(patched: unknown): (message: string) => StatusError {
  return (message) => invalid({ group: '', kind: '' }, '', [fieldErrors.invalid('patch', JSON.stringify(patched), message)]);
}

const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';

function deleteOptionsOf(req: FastifyRequest, q: URLSearchParams): DeleteOptions {
  let opts: DeleteOptions = {};
  const raw = req.body as Buffer | undefined;
  if (raw?.length && raw.toString('utf8').trim()) {
    const body = decodeBody(raw, req.headers['content-type']);
    try {
      opts = decodeAs(body, schemaLookup.typeByName(DELETE_OPTIONS)!).object as DeleteOptions;
    } catch (err) {
      if (err instanceof DecodeError) throw badRequest(err.message);
      throw err;
    }
    // A copy: the query parameters below are merged into it.
    opts = { ...opts };
  }
  const grace = intParam(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const pp = q.get('propagationPolicy');
  if (pp) opts.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
  const orphan = boolParam(q.get('orphanDependents'));
  if (orphan !== undefined) opts.orphanDependents = orphan;
  if (q.getAll('dryRun').length) opts.dryRun = q.getAll('dryRun');
  // Anything but "All" would delete for real (upstream's ValidateDryRun).
  const dryRun = opts.dryRun ?? [];
  if (dryRun.some((v) => v !== 'All')) {
    const value = `[]string{${dryRun.map((v) => JSON.stringify(v)).join(', ')}}`;
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ${value}: supported values: "All"`,
      details: { group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: ${value}: supported values: "All"`, field: 'dryRun' }] },
    });
  }
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
    });
  }
  return opts;
}

function applyPatch(current: KubeObject, patchType: string, patchBody: Buffer, { apiVersion, kind }: ObjectKind): KubeObject {
  const type = PATCH_MEDIA_TYPES[patchType];
  if (type === 'json') {
    const ops = decodeBody(patchBody, 'application/json');
    if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    try {
      return applyJSONPatch(current, ops);
    } catch (err) {
      const e = err as Error & { name?: string };
      throw new StatusError({ code: 422, reason: 'Invalid', message: `the server rejected our request due to an error in our request: ${e.message.split('\n')[0]}` });
    }
  }
  if (type === 'merge') {
    const patch = decodeBody(patchBody, 'application/json');
    const merged = mergePatch(current, patch);
    if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) throw badRequest('the patch did not produce an object');
    return merged as KubeObject;
  }
  if (type === 'strategic') {
    const patch = decodeBody(patchBody, 'application/json');
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('the patch is not a JSON object');
    const schemaType = schemaLookup.rootType(apiVersion, kind);
    try {
      return strategicMergePatch(current, patch as object, schemaType) as KubeObject;
    } catch (err) {
      throw new StatusError({ code: 422, reason: 'Invalid', message: (err as Error).message });
    }
  }
  throw unsupportedMediaTypeFor('patch');
}

/** `/v1, Kind=Pod`, `apps/v1, Kind=Deployment`: a GroupVersionKind as Go prints it. */
function typeMetaString({ apiVersion, kind }: ObjectKind): string {
  return `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
}

function rfc3339Now(ctx: ResourceContext): string {
  return ctx.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Records which manager set which fields (metadata.managedFields, operation Update), as upstream does on every write. */
function recordManager(ctx: ResourceContext, { apiVersion, kind }: ObjectKind, live: KubeObject | null, obj: KubeObject, manager: string, subresource: string) {
  const type = schemaLookup.rootType(apiVersion, kind);
  const { object } = updateManagedFields(live, obj, manager, type, { now: rfc3339Now(ctx), apiVersion, subresource: subresource || undefined });
  obj.metadata.managedFields = (object as KubeObject).metadata.managedFields;
}

/**
 * Mutating admission, then defaulting again: plugins add fields (the service account token volume, ...)
 * that are stored in defaulted form, so that a later update, which is defaulted again, does not look
 * like a change of them. Defaulting is idempotent.
 */
async function admitAndDefault(ctx: ResourceContext, attrs: AdmissionAttributes): Promise<void> {
  await ctx.admission.admit(attrs);
  if (attrs.object) applyDefaults(attrs.object);
}

export async function handleResource(ctx: ResourceContext, ri: RequestInfo, req: FastifyRequest, reply: FastifyReply, requester: Requester): Promise<void> {
  const { user } = requester;
  const resourceKey = `${ri.apiGroup}/${ri.apiVersion}/${ri.resource}`;
  const resource = ctx.storages.get(resourceKey);
  if (!resource) throw notFoundPage();
  const info = resource.info;
  const q = ri.query;
  const ns = info.namespaced ? ri.namespace : '';
  if (info.namespaced && ri.name && !ri.namespace) throw notFoundPage();
  if (!info.namespaced && ri.inNamespace) throw notFoundPage();
  const sub = ri.subresource;
  const subInfo = sub ? info.subresources.find((s) => s.name === sub) : undefined;
  if (sub && !subInfo) throw notFoundPage();
  const gr = { group: info.group, resource: sub ? `${info.resource}/${sub}` : info.resource };
  if (!(subInfo ?? info).verbs.includes(ri.verb)) throw methodNotSupported(gr, ri.verb);
  // The subresource's own storage (status, scale, binding, ...); none registered is a 404 (serviceaccounts/token
  // without a signing key).
  const storage = sub ? ctx.storages.get(`${resourceKey}/${sub}`) : resource;
  if (!storage) throw notFoundPage();
  // pods/log, pods/exec, pods/attach: the storage takes the connection over (upstream's rest.Connecter).
  if (isConnecter(storage)) {
    if (!storage.connectMethods.includes(req.method)) throw methodNotSupported(gr, ri.verb);
    return storage.connect(ns, ri.name, q, { req: req.raw, res: reply.raw, hijack: () => reply.hijack() });
  }
  const admits = storage.admitsWrites;

  const warnings: string[] = [];
  requestWarnings.set(reply, warnings);
  if (storage.warning) warn(reply, storage.warning);
  const admissionAttrs = (
    operation: AdmissionAttributes['operation'],
    object: KubeObject | null,
    oldObject: KubeObject | null,
    name: string,
    dryRun: boolean,
  ): AdmissionAttributes => ({
    warnings,
    operation,
    resource: info,
    subresource: sub,
    namespace: ns,
    name,
    object,
    oldObject,
    user,
    dryRun,
  });
  const validateWrite = (name: string, dryRun: boolean) =>
    admits ? (o: KubeObject, old: KubeObject | null) => ctx.admission.validate(admissionAttrs(old ? 'UPDATE' : 'CREATE', o, old, name, dryRun)) : undefined;

  switch (ri.verb) {
    case 'get': {
      if (!isGetter(storage)) break;
      const format = negotiateOutput(req.headers.accept, !sub);
      const obj = await storage.get(ns, ri.name, { readOnly: true });
      return send(reply, 200, format, render(ctx, info, format, obj, false, q));
    }
    case 'list': {
      if (!isLister(storage)) break;
      const format = negotiateOutput(req.headers.accept, true);
      const list = await storage.list(ns, listQuery(q));
      return send(reply, 200, format, render(ctx, info, format, list as unknown as KubeObject, true, q));
    }
    case 'watch':
      if (!isWatcher(storage)) break;
      return serveWatch(ctx, storage, ns, ri, q, req, reply);
    case 'create': {
      const creater = isNamedCreater(storage) ? storage : isCreater(storage) ? storage : undefined;
      if (!creater) break;
      const create = (obj: KubeObject, opts: WriteOptions) =>
        isNamedCreater(creater) ? creater.createNamed(ns, ri.name, obj, opts) : (creater as Creater).create(ns, obj, opts);
      const format = negotiateOutput(req.headers.accept, false);
      const dryRun = dryRunOf(q);
      const contentType = req.headers['content-type'];
      if (!admits) {
        // Bound, answered or issued, never stored as sent (pods/binding, the reviews, serviceaccounts/token).
        const { obj } = decodeObject(decodeBody(req.body as Buffer, contentType), storage.kind);
        return send(reply, 201, format, await create(obj, { dryRun, requester }));
      }
      const validation = fieldValidationOf(q);
      const manager = managerOf(q, req);
      const { obj, unknown } = decodeObject(decodeBody(req.body as Buffer, contentType), storage.kind);
      enforceFieldValidation(validation, decodingErrors(req.body as Buffer, contentType, obj, unknown), reply, (errs) =>
        strictDecodingBadRequestMessage(obj.apiVersion!, obj.kind!, errs),
      );
      applyDefaults(obj);
      recordManager(ctx, storage.kind, null, obj, manager, sub);
      const attrs = admissionAttrs('CREATE', obj, null, obj.metadata.name ?? '', dryRun);
      await admitAndDefault(ctx, attrs);
      // The decoded body is this request's own: the Store writes it without copying it first.
      const created = await create(handOver(obj), {
        dryRun,
        requester,
        validate: (o) => ctx.admission.validate({ ...attrs, object: o, name: o.metadata.name ?? '' }),
      });
      return send(reply, 201, format, created);
    }
    case 'update': {
      if (!isUpdater(storage)) break;
      const format = negotiateOutput(req.headers.accept, false);
      const dryRun = dryRunOf(q);
      const validation = fieldValidationOf(q);
      const manager = managerOf(q, req);
      const contentType = req.headers['content-type'];
      const { obj, unknown } = decodeObject(decodeBody(req.body as Buffer, contentType), storage.kind);
      if (admits) {
        enforceFieldValidation(validation, decodingErrors(req.body as Buffer, contentType, obj, unknown), reply, (errs) =>
          strictDecodingBadRequestMessage(obj.apiVersion!, obj.kind!, errs),
        );
      }
      if (obj.metadata.name && obj.metadata.name !== ri.name) {
        throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${ri.name})`);
      }
      if (admits) applyDefaults(obj);
      const { object, created } = await storage.update(
        ns,
        ri.name,
        async (current) => {
          // A fresh copy per attempt, which the Store may keep as it is.
          const next = handOver(structuredClone(obj));
          if (!admits) return next;
          recordManager(ctx, storage.kind, current, next, manager, sub);
          const attrs = admissionAttrs(current ? 'UPDATE' : 'CREATE', next, current, ri.name, dryRun);
          await admitAndDefault(ctx, attrs);
          return attrs.object!;
        },
        { dryRun, requester, validate: validateWrite(ri.name, dryRun) },
      );
      return send(reply, created ? 201 : 200, format, object);
    }
    case 'patch': {
      if (!isUpdater(storage)) break;
      const format = negotiateOutput(req.headers.accept, false);
      const dryRun = dryRunOf(q);
      const patchType = mediaTypeOf(req.headers['content-type']);
      const isApply = PATCH_MEDIA_TYPES[patchType] === 'apply';
      // Server-side apply merges managed fields: only storages whose writes are field-managed take it.
      if (!PATCH_MEDIA_TYPES[patchType] || (isApply && !admits)) throw unsupportedMediaTypeFor('patch');
      const body = req.body as Buffer;
      if (!body?.length) throw badRequest('empty patch');
      const validation = fieldValidationOf(q);
      const fieldManager = q.get('fieldManager');
      if (isApply && !fieldManager) {
        throw new StatusError({
          code: 422,
          reason: 'Invalid',
          message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          details: {
            group: 'meta.k8s.io',
            kind: 'PatchOptions',
            causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
          },
        });
      }
      const force = boolParam(q.get('force')) ?? false;
      if (!isApply && q.has('force')) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
      const manager = managerOf(q, req);
      const kind = storage.kind;
      const { object, created } = await storage.update(
        ns,
        ri.name,
        async (current) => {
          let patched: KubeObject;
          if (isApply) {
            const { obj: applied, unknown } = decodeObject(decodeBody(body, 'application/apply-patch+yaml'), kind, {
              keepNulls: true,
              onError: (message) => badRequest(`failed to create typed patch object (${typeMetaString(kind)}): ${message}`),
            });
            enforceFieldValidation(validation, unknownFieldErrors(unknown), reply, strictDecodingMessage);
            if (applied.metadata?.name && applied.metadata.name !== ri.name) {
              throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${ri.name})`);
            }
            const type = schemaLookup.rootType(kind.apiVersion, kind.kind);
            const applyOpts = { force, now: rfc3339Now(ctx), apiVersion: kind.apiVersion, subresource: sub || undefined };
            patched = serverSideApply(current, applied, manager, type, applyOpts).object as KubeObject;
            patched = decodeObject(patched, kind, { onError: invalidPatchResult(patched) }).obj;
          } else {
            if (!current) throw notFound(storage.gr, ri.name);
            const result = applyPatch(current, patchType, body, kind);
            const decoded = decodeObject(result, kind, { onError: invalidPatchResult(result) });
            patched = decoded.obj;
            if (!admits) return patched;
            enforceFieldValidation(validation, unknownFieldErrors(decoded.unknown), reply, strictDecodingMessage);
            recordManager(ctx, kind, current, patched, manager, sub);
          }
          applyDefaults(patched);
          // A patch that does not name a resourceVersion applies to whatever is current.
          const attrs = admissionAttrs(current ? 'UPDATE' : 'CREATE', patched, current, ri.name, dryRun);
          await admitAndDefault(ctx, attrs);
          return attrs.object!;
        },
        { dryRun, requester, forceAllowCreate: isApply, validate: validateWrite(ri.name, dryRun) },
      );
      return send(reply, created ? 201 : 200, format, object);
    }
    case 'delete': {
      if (!isGracefulDeleter(storage) || !isGetter(storage)) break;
      const format = negotiateOutput(req.headers.accept, false);
      const opts = deleteOptionsOf(req, q);
      const current = await storage.get(ns, ri.name);
      await ctx.admission.validate(admissionAttrs('DELETE', null, current, ri.name, !!opts.dryRun?.includes('All')));
      const { object, deleted } = await storage.delete(ns, ri.name, opts);
      if (deleted && !storage.returnDeletedObject) {
        return send(reply, 200, format, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name: ri.name, group: info.group || undefined, kind: info.resource, uid: object.metadata.uid },
        });
      }
      const accepted = !deleted && opts.orphanDependents === false;
      return send(reply, accepted ? 202 : 200, format, object);
    }
    case 'deletecollection': {
      if (!isCollectionDeleter(storage)) break;
      const format = negotiateOutput(req.headers.accept, false);
      const opts = deleteOptionsOf(req, q);
      const list = await storage.deleteCollection(ns, listQuery(q), opts);
      return send(reply, 200, format, list);
    }
  }
  // A verb the storage cannot serve (upstream registers no route for it).
  throw methodNotSupported(gr, ri.verb || req.method);
}

async function serveWatch(ctx: ResourceContext, store: Watcher, ns: string, ri: RequestInfo, q: URLSearchParams, req: FastifyRequest, reply: FastifyReply) {
  const format = negotiateOutput(req.headers.accept, true);
  const query: WatchQuery = {
    ...listQuery(q),
    allowWatchBookmarks: boolParam(q.get('allowWatchBookmarks')),
    sendInitialEvents: boolParam(q.get('sendInitialEvents')),
  };
  // A watch on one object: /pods?fieldSelector=metadata.name=x or the old /watch/.../pods/x form.
  if (ri.name) query.fieldSelector = [query.fieldSelector, `metadata.name=${ri.name}`].filter(Boolean).join(',');
  // Read before the watch starts, so that a malformed value leaves no watcher behind. As upstream, 0 (or none)
  // is the randomised default and a negative value ends the watch at once.
  const timeoutSeconds = intParam(q, 'timeoutSeconds') || Math.floor(ctx.minRequestTimeoutSeconds * (1 + Math.random()));
  const watchStartedAt = watchLatency.now();
  const watcher = await store.watch(ns, query);
  const info = store.info;

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': format.mediaType, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders?.();
  ctx.metrics.registeredWatchers.inc({ group: info.group, version: info.version, kind: info.kind });
  const watchEvents = ctx.metrics.watchEvents.labels({ group: info.group, version: info.version, kind: info.kind });
  const countKey = `${info.group}/${info.version}/${info.kind}`;
  const countEvents = (n: number) => watchEvents.inc(n);
  const writer = new WatchEventWriter(res, req.method !== 'HEAD');
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    watcher.stop();
    ctx.metrics.registeredWatchers.dec({ group: info.group, version: info.version, kind: info.kind });
    if (!res.writableEnded) res.end();
  };
  // setTimeout takes at most 2^31-1 ms (24.8 days); a longer delay would fire at once. A HEAD response
  // carries no body, so its watch ends as soon as the headers are out (else it holds the connection).
  const timeoutMs = req.method === 'HEAD' ? 0 : Math.min(Math.max(0, timeoutSeconds) * 1000, 2 ** 31 - 1);
  const timer = setTimeout(finish, timeoutMs);
  req.raw.on('close', finish);
  res.on('close', finish);
  const printer = format.as === 'table' ? printerFor(info.group, info.resource) : undefined;
  let firstTable = true;
  try {
    for await (const ev of watcher) {
      if (done) break;
      let object: unknown = ev.object;
      if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
        if (printer) {
          const includeObject = (q.get('includeObject') ?? 'Metadata') as 'None' | 'Metadata' | 'Object';
          const table = buildTable(printer, [ev.object], { now: ctx.clock(), includeObject, noHeaders: !firstTable });
          table.metadata = { resourceVersion: ev.object.metadata?.resourceVersion };
          firstTable = false;
          object = table;
        } else if (format.as === 'partial') {
          object = partialMetadata(ev.object);
        }
      }
      const encoded = format.mediaType === 'application/yaml' ? encodeWatchText(encodeBody(format, { type: ev.type, object }) + '---\n') : encodeWatchEvent(ev.type, object);
      countWatchEvent(ctx.metrics.watchEvents, countKey, countEvents);
      const flushed = writer.write(encoded);
      if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') watchLatency.written(Number(ev.object.metadata?.resourceVersion), watchStartedAt);
      if (!flushed) await writer.drained();
    }
  } catch (err) {
    if (!done && !res.writableEnded) {
      const status = toStatusError(err).status;
      res.write(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    }
  } finally {
    finish();
  }
}
