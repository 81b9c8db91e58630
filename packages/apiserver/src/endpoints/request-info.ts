// Turns a request's method and path into Kubernetes request attributes, as upstream's
// RequestInfoFactory: /api/v1/namespaces/ns/pods/name/status -> verb get, resource pods, ...
import { badRequest, type StatusError } from '@kubelab/api';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (or the lower-case HTTP method for non-resource requests). */
  verb: string;
  apiPrefix: string; // 'api' | 'apis'
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** The resource was addressed inside a namespace (/namespaces/NS/<resource>...), not the namespace object itself. */
  inNamespace: boolean;
  parts: string[];
  /** The query parameters (parsed once per request). */
  query: URLSearchParams;
}

const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * Splits an HTTP request target as Go's url.ParseRequestURI does: the query starts at the first '?', and a
 * '#' is an ordinary character (a request target never carries a fragment: WHATWG URL parsing would drop
 * everything after it, a `?dryRun=All` included). The path is not normalised: `.`, `..` and `//` stay.
 */
export function splitRequestTarget(target: string): { path: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: new URLSearchParams() } : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

/** Percent-decodes a whole path (so %2F separates segments, as in Go's URL.Path); a malformed escape is kept as it is. */
export function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run; // bytes that are not UTF-8
      }
    });
  }
}

/** The request attributes of a request line's method and target. */
export function requestInfoFor(method: string, target: string): RequestInfo {
  const { path, query } = splitRequestTarget(target);
  return parseRequestInfo(method, path, query);
}

/** upstream's path.IsValidPathSegmentName: what a name in a URL may not be. */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** The 400 for a named request whose name cannot be a key (upstream's NamespaceKeyFunc / NoNamespaceKeyFunc). */
export function invalidNameError(ri: RequestInfo): StatusError | undefined {
  if (!ri.isResourceRequest || !ri.name) return undefined;
  const msgs = isValidPathSegmentName(ri.name);
  return msgs.length ? badRequest(`Name parameter invalid: ${JSON.stringify(ri.name)}: ${msgs.join(';')}`) : undefined;
}

/**
 * Request attributes of a method and an (escaped) path. As upstream's RequestInfoFactory, the path is
 * decoded first and then split, and empty segments (`//`) are kept: they name no resource.
 */
export function parseRequestInfo(method: string, rawPath: string, query: URLSearchParams): RequestInfo {
  const path = decodePath(rawPath.split('?')[0]!);
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    inNamespace: false,
    parts: [],
    query,
  };
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  const segments = trimmed === '' ? [] : trimmed.split('/');
  if (segments.length === 0) return info;
  const prefix = segments[0]!;
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  let rest = segments.slice(1);
  if (prefix === 'apis') {
    if (rest.length < 1) return info;
    info.apiGroup = rest[0]!;
    rest = rest.slice(1);
  }
  if (rest.length < 1) return info;
  info.apiVersion = rest[0]!;
  rest = rest.slice(1);
  if (rest.length < 1) return info; // discovery document for the group version

  info.isResourceRequest = true;
  // Old-style watch paths: /api/v1/watch/namespaces/ns/pods
  let isWatchPath = false;
  if (rest[0] === 'watch') {
    isWatchPath = true;
    rest = rest.slice(1);
  }
  switch (method.toUpperCase()) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = 'get';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = 'delete';
      break;
    default:
      info.verb = '';
  }
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1]!;
      // /namespaces/ns is the namespace object itself, /namespaces/ns/status its subresource
      if (rest.length > 2 && !namespaceSubresources.has(rest[2]!)) {
        rest = rest.slice(2);
        info.inNamespace = true;
      } else {
        rest = ['namespaces', ...rest.slice(1)];
        info.namespace = rest.length > 1 ? rest[1]! : '';
      }
    }
  }
  info.parts = rest;
  if (rest.length >= 3) info.subresource = rest[2]!;
  if (rest.length >= 2) info.name = rest[1]!;
  if (rest.length >= 1) info.resource = rest[0]!;
  // The namespace object: its "namespace" is itself for authorization purposes, as upstream.
  if (info.resource === 'namespaces') info.namespace = info.name;

  if (isWatchPath && info.verb === 'get') info.verb = 'watch';
  if (info.verb === 'get' && info.name === '') info.verb = 'list';
  if (info.verb === 'list' && isTrue(query.get('watch'))) info.verb = 'watch';
  if (info.verb === 'delete' && info.name === '') info.verb = 'deletecollection';
  return info;
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}
