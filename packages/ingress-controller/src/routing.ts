// The routing table (pure): which backend of which Ingress answers a request, from the host and path,
// as the Ingress API specifies (networking.k8s.io/v1):
// - hosts: a rule's host matches exactly; `*.example.com` matches exactly one more DNS label
//   (`a.example.com`, not `example.com` nor `a.b.example.com`); a rule without a host matches any host.
//   Exact hosts are tried first, then wildcards, then rules without a host.
// - paths: Exact matches the path exactly; Prefix matches element-wise on '/'-separated elements (so
//   `/aaa/bbb` matches `/aaa/bbb`, `/aaa/bbb/` and `/aaa/bbb/ccc`, not `/aaa/bbbxyz`; a trailing '/'
//   in either is ignored); ImplementationSpecific is treated as Prefix. The longest matching path wins;
//   for equal paths Exact beats Prefix.
// - nothing matches: the spec.defaultBackend of the oldest Ingress that has one, else nothing (404).
// Where two Ingresses claim the same host, path and type, the older one wins (creationTimestamp, then
// namespace/name), as ingress-nginx does.
import type { Ingress, IngressBackend } from 'kubernetes-types/networking/v1';

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

/** A backend of one Ingress: a Service port in the Ingress' namespace. */
export interface BackendRef {
  namespace: string;
  /** The Ingress that routed here. */
  ingress: string;
  service: string;
  /** The Service port: by number or by name. */
  port: { number?: number; name?: string };
}

export interface Route {
  /** The rule's host as written ('' for none). */
  host: string;
  path: string;
  pathType: PathType;
  backend: BackendRef;
}

export interface Match {
  backend: BackendRef;
  /** Undefined when the default backend answered. */
  route?: Route;
}

interface CompiledRoute extends Route {
  exact: boolean;
  segments: string[];
  /** For longest-match ordering. */
  length: number;
}

export interface RoutingTable {
  readonly exactHosts: ReadonlyMap<string, readonly CompiledRoute[]>;
  /** Keyed by the suffix after `*.` (`example.com`). */
  readonly wildcardHosts: ReadonlyMap<string, readonly CompiledRoute[]>;
  readonly anyHost: readonly CompiledRoute[];
  readonly defaultBackend?: BackendRef;
  /** Every route, for tests and logs. */
  readonly routes: readonly Route[];
}

/** The non-empty '/'-separated elements of a path. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Does `requestPath` (no query) match `route`? */
export function pathMatches(route: { path: string; pathType: PathType }, requestPath: string): boolean {
  if (route.pathType === 'Exact') return requestPath === route.path;
  const prefix = pathSegments(route.path || '/');
  const req = pathSegments(requestPath);
  if (prefix.length > req.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== req[i]) return false;
  return true;
}

/** The host of a Host header (or :authority): lower-cased, without port or trailing dot. */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(1, end) : h;
  } else {
    const colon = h.lastIndexOf(':');
    if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** The path of a request target, without the query string or fragment. */
export function requestPath(url: string | undefined): string {
  if (!url) return '/';
  const cut = url.search(/[?#]/);
  const p = cut >= 0 ? url.slice(0, cut) : url;
  return p || '/';
}

/** Orders Ingresses oldest first (creationTimestamp, then namespace/name): the older claim wins. */
export function compareIngressAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata?.namespace}/${a.metadata?.name}`;
  const kb = `${b.metadata?.namespace}/${b.metadata?.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function backendRef(ing: Ingress, b: IngressBackend | undefined): BackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined; // resource backends are not served
  const port = svc.port?.name ? { name: svc.port.name } : { number: svc.port?.number };
  return { namespace: ing.metadata?.namespace ?? 'default', ingress: ing.metadata?.name ?? '', service: svc.name, port };
}

/** Longest path first; for equal paths Exact before Prefix; then by insertion (older Ingress). */
function byPrecedence(a: CompiledRoute, b: CompiledRoute): number {
  if (a.length !== b.length) return b.length - a.length;
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  return 0;
}

/** Builds the table from the Ingresses this controller handles. */
export function buildRoutingTable(ingresses: readonly Ingress[]): RoutingTable {
  const sorted = [...ingresses].sort(compareIngressAge);
  const exactHosts = new Map<string, CompiledRoute[]>();
  const wildcardHosts = new Map<string, CompiledRoute[]>();
  const anyHost: CompiledRoute[] = [];
  const seen = new Set<string>();
  const routes: Route[] = [];
  let defaultBackend: BackendRef | undefined;

  for (const ing of sorted) {
    defaultBackend ??= backendRef(ing, ing.spec?.defaultBackend);
    for (const rule of ing.spec?.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      for (const p of rule.http?.paths ?? []) {
        const backend = backendRef(ing, p.backend);
        if (!backend) continue;
        const pathType = (p.pathType ?? 'ImplementationSpecific') as PathType;
        const path = p.path || '/';
        const exact = pathType === 'Exact';
        const key = `${host} ${exact ? 'Exact' : 'Prefix'} ${exact ? path : pathSegments(path).join('/')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const segments = pathSegments(path);
        const compiled: CompiledRoute = { host, path, pathType, backend, exact, segments, length: exact ? path.length : segments.join('/').length + 1 };
        routes.push({ host, path, pathType, backend });
        let bucket: CompiledRoute[];
        if (!host) bucket = anyHost;
        else if (host.startsWith('*.')) bucket = getOrCreate(wildcardHosts, host.slice(2));
        else bucket = getOrCreate(exactHosts, host);
        bucket.push(compiled);
      }
    }
  }
  // Array.prototype.sort is stable: equal routes keep the older Ingress first.
  for (const list of [...exactHosts.values(), ...wildcardHosts.values(), anyHost]) list.sort(byPrecedence);
  return { exactHosts, wildcardHosts, anyHost, defaultBackend, routes };
}

function getOrCreate(m: Map<string, CompiledRoute[]>, k: string): CompiledRoute[] {
  let v = m.get(k);
  if (!v) m.set(k, (v = []));
  return v;
}

function firstMatch(routes: readonly CompiledRoute[] | undefined, path: string): CompiledRoute | undefined {
  return routes?.find((r) => pathMatches(r, path));
}

/** The backend for a request's Host header and path, or undefined for a 404. */
export function matchRoute(table: RoutingTable, hostHeader: string | undefined, path: string): Match | undefined {
  const host = normalizeHost(hostHeader);
  const dot = host.indexOf('.');
  const candidates = [table.exactHosts.get(host), dot > 0 ? table.wildcardHosts.get(host.slice(dot + 1)) : undefined, table.anyHost];
  for (const routes of candidates) {
    const r = firstMatch(routes, path);
    if (r) return { backend: r.backend, route: { host: r.host, path: r.path, pathType: r.pathType, backend: r.backend } };
  }
  return table.defaultBackend ? { backend: table.defaultBackend } : undefined;
}

/** The TLS secret (namespace/name) for an SNI server name: exact hosts first, then wildcards. */
export interface TLSEntry {
  namespace: string;
  secretName: string;
}

export function buildTLSTable(ingresses: readonly Ingress[]): Map<string, TLSEntry> {
  const table = new Map<string, TLSEntry>();
  for (const ing of [...ingresses].sort(compareIngressAge)) {
    for (const tls of ing.spec?.tls ?? []) {
      if (!tls.secretName) continue;
      const entry = { namespace: ing.metadata?.namespace ?? 'default', secretName: tls.secretName };
      // Hosts left out mean the hosts of the rules (the API's "defaults to the wildcard host setting").
      const hosts = tls.hosts?.length ? tls.hosts : (ing.spec?.rules ?? []).map((r) => r.host ?? '').filter(Boolean);
      for (const h of hosts) if (!table.has(h.toLowerCase())) table.set(h.toLowerCase(), entry);
    }
  }
  return table;
}

export function matchTLS(table: ReadonlyMap<string, TLSEntry>, serverName: string | undefined): TLSEntry | undefined {
  const host = normalizeHost(serverName);
  if (!host) return undefined;
  const exact = table.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  return dot > 0 ? table.get(`*.${host.slice(dot + 1)}`) : undefined;
}
