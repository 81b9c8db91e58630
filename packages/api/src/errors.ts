// Status errors, as upstream's k8s.io/apimachinery/pkg/api/errors. Every error the API returns is one
// of these, serialised as a meta/v1 Status; clients parse the Status back with fromStatus().
import type { Status, StatusCause } from 'kubernetes-types/meta/v1';
import { aggregateFieldErrors, fieldErrorBody, type FieldError } from './field-error.js';

export type StatusReason =
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'StoreReadError'
  | 'Timeout'
  | 'TooManyRequests'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable'
  | '';

/** Group and resource, e.g. {group: 'apps', resource: 'deployments'}; printed `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class StatusError extends Error {
  readonly status: Status & { code: number; reason: StatusReason };

  constructor(status: Partial<Status> & { code: number; reason?: StatusReason; message: string }) {
    super(status.message);
    this.name = 'StatusError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      ...status,
      reason: (status.reason ?? '') as StatusReason,
    };
  }

  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason {
    return this.status.reason;
  }
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError({
    code: 404,
    reason: 'NotFound',
    message: name ? `${qualifiedResource(gr)} "${name}" not found` : `${qualifiedResource(gr)} not found`,
    details: { name, group: gr.group || undefined, kind: gr.resource },
  });
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError({
    code: 409,
    reason: 'AlreadyExists',
    message: `${qualifiedResource(gr)} "${name}" already exists`,
    details: { name, group: gr.group || undefined, kind: gr.resource },
  });
}

export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError({
    code: 409,
    reason: 'Conflict',
    message: `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    details: { name, group: gr.group || undefined, kind: gr.resource },
  });
}

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be ...` */
export function invalid(groupKind: { group: string; kind: string }, name: string, errs: FieldError[]): StatusError {
  const qualifiedKind = groupKind.group ? `${groupKind.kind}.${groupKind.group}` : groupKind.kind;
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  const message = errs.length
    ? `${qualifiedKind} "${name}" is invalid: ${aggregateFieldErrors(errs)}`
    : `${qualifiedKind} "${name}" is invalid`;
  return new StatusError({
    code: 422,
    reason: 'Invalid',
    message,
    details: { name, group: groupKind.group || undefined, kind: groupKind.kind, causes },
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError({ code: 400, reason: 'BadRequest', message });
}

export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return new StatusError({
    code: 403,
    reason: 'Forbidden',
    message: `${subject} is forbidden: ${why}`,
    details: { name: name || undefined, group: gr.group || undefined, kind: gr.resource },
  });
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError({ code: 401, reason: 'Unauthorized', message });
}

export function methodNotSupported(gr: GroupResource, action: string): StatusError {
  return new StatusError({
    code: 405,
    reason: 'MethodNotAllowed',
    message: `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    details: { group: gr.group || undefined, kind: gr.resource },
  });
}

export function gone(message: string): StatusError {
  return new StatusError({ code: 410, reason: 'Gone', message });
}

export function expired(message: string): StatusError {
  return new StatusError({ code: 410, reason: 'Expired', message });
}

export function requestEntityTooLarge(message: string): StatusError {
  return new StatusError({ code: 413, reason: 'RequestEntityTooLarge', message });
}

export function unsupportedMediaType(_contentType: string): StatusError {
  return new StatusError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
  });
}

export function notAcceptable(message: string): StatusError {
  return new StatusError({ code: 406, reason: 'NotAcceptable', message });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError({ code: 503, reason: 'ServiceUnavailable', message });
}

export function timeout(message: string): StatusError {
  return new StatusError({ code: 504, reason: 'Timeout', message });
}

export function internal(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError({
    code: 500,
    reason: 'InternalError',
    message: `Internal error occurred: ${msg}`,
    details: { causes: [{ message: msg }] },
  });
}

/** Any thrown value as a StatusError: StatusErrors pass through, anything else is an internal error. */
export function toStatusError(err: unknown): StatusError {
  return err instanceof StatusError ? err : internal(err);
}

/** Rebuilds a StatusError from a Status body a server sent. */
export function fromStatus(status: Status, httpCode?: number): StatusError {
  return new StatusError({ ...status, code: status.code ?? httpCode ?? 500, message: status.message ?? '', reason: (status.reason ?? '') as StatusReason });
}

function reasonOf(err: unknown): StatusReason | undefined {
  return err instanceof StatusError ? err.reason : undefined;
}
export const isNotFound = (err: unknown) => reasonOf(err) === 'NotFound';
export const isAlreadyExists = (err: unknown) => reasonOf(err) === 'AlreadyExists';
export const isConflict = (err: unknown) => reasonOf(err) === 'Conflict';
export const isInvalid = (err: unknown) => reasonOf(err) === 'Invalid';
export const isGone = (err: unknown) => reasonOf(err) === 'Gone' || reasonOf(err) === 'Expired';
export const isForbidden = (err: unknown) => reasonOf(err) === 'Forbidden';
