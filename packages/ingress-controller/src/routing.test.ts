import { describe, expect, it } from 'vitest';
import type { Ingress } from 'kubernetes-types/networking/v1';
import { buildRoutingTable, buildTLSTable, matchRoute, matchTLS, normalizeHost, pathMatches, requestPath, type PathType } from './routing.js';

type P = { path: string; pathType: PathType; service: string };

function ingress(name: string, rules: { host?: string; paths: P[] }[], extra: Partial<Ingress['spec']> = {}, created = '2026-01-01T00:00:00Z'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec: {
      ...extra,
      rules: rules.map((r) => ({
        host: r.host,
        http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType, backend: { service: { name: p.service, port: { number: 80 } } } })) },
      })),
    },
  };
}

const served = (paths: P[], request: string, host = 'x.example') => matchRoute(buildRoutingTable([ingress('ing', [{ paths }])]), host, request)?.backend.service;

describe('path matching: the Ingress API examples table', () => {
  // https://kubernetes.io/docs/concepts/services-networking/ingress/#examples
  const cases: [PathType | 'Mixed', string[], string, boolean, string?][] = [
    ['Prefix', ['/'], '/anything/at/all', true],
    ['Exact', ['/foo'], '/foo', true],
    ['Exact', ['/foo'], '/bar', false],
    ['Exact', ['/foo'], '/foo/', false],
    ['Exact', ['/foo/'], '/foo', false],
    ['Prefix', ['/foo'], '/foo', true],
    ['Prefix', ['/foo'], '/foo/', true],
    ['Prefix', ['/foo/'], '/foo', true],
    ['Prefix', ['/foo/'], '/foo/', true],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', false],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb', true],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', true],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', true],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', true],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', false],
    ['Prefix', ['/', '/aaa'], '/aaa/ccc', true, '/aaa'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', true, '/aaa/bbb'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', true, '/'],
    ['Prefix', ['/aaa'], '/ccc', false],
  ];
  for (const [type, paths, req, matches, winner] of cases) {
    it(`${type} ${paths.join(', ')} vs ${req}: ${matches ? `matches ${winner ?? paths[0]}` : 'no match'}`, () => {
      const ps = paths.map((p) => ({ path: p, pathType: type as PathType, service: `svc${p.replaceAll('/', '-')}` }));
      const got = served(ps, req);
      expect(got).toBe(matches ? `svc${(winner ?? paths[0]!).replaceAll('/', '-')}` : undefined);
    });
  }

  it('Mixed: /foo (Prefix) and /foo (Exact) for /foo prefers Exact, in either order', () => {
    expect(served([{ path: '/foo', pathType: 'Prefix', service: 'prefix' }, { path: '/foo', pathType: 'Exact', service: 'exact' }], '/foo')).toBe('exact');
    expect(served([{ path: '/foo', pathType: 'Exact', service: 'exact' }, { path: '/foo', pathType: 'Prefix', service: 'prefix' }], '/foo/bar')).toBe('prefix');
  });

  it('ImplementationSpecific is treated as Prefix; an empty path is /', () => {
    expect(pathMatches({ path: '/api', pathType: 'ImplementationSpecific' }, '/api/v1')).toBe(true);
    expect(pathMatches({ path: '/api', pathType: 'ImplementationSpecific' }, '/apis')).toBe(false);
    expect(pathMatches({ path: '', pathType: 'ImplementationSpecific' }, '/x')).toBe(true);
  });

  it('ignores the query string', () => {
    expect(requestPath('/foo?x=/bar')).toBe('/foo');
    expect(served([{ path: '/foo', pathType: 'Exact', service: 'exact' }], requestPath('/foo?a=1'))).toBe('exact');
  });
});

describe('hosts', () => {
  const table = buildRoutingTable([
    ingress('hosts', [
      { host: 'foo.bar.com', paths: [{ path: '/', pathType: 'Prefix', service: 'exact-host' }] },
      { host: '*.bar.com', paths: [{ path: '/', pathType: 'Prefix', service: 'wildcard' }] },
      { paths: [{ path: '/any', pathType: 'Prefix', service: 'any-host' }] },
    ]),
  ]);
  const svc = (host: string, path = '/') => matchRoute(table, host, path)?.backend.service;

  it('as the API documents: exact, then one-label wildcard, then host-less rules', () => {
    expect(svc('foo.bar.com')).toBe('exact-host');
    expect(svc('FOO.bar.com:8080')).toBe('exact-host');
    expect(svc('baz.bar.com')).toBe('wildcard');
    expect(svc('bar.com')).toBeUndefined(); // no single label before the wildcard's suffix
    expect(svc('a.baz.bar.com')).toBeUndefined(); // two labels
    expect(svc('bar.com', '/any/x')).toBe('any-host');
    expect(svc('a.baz.bar.com', '/any')).toBe('any-host');
  });

  it('normalizes Host headers', () => {
    expect(normalizeHost('Example.COM.:443')).toBe('example.com');
    expect(normalizeHost('[::1]:80')).toBe('::1');
    expect(normalizeHost(undefined)).toBe('');
  });
});

describe('default backend and conflicts', () => {
  it('uses the oldest Ingress defaultBackend when no rule matches, else nothing (404)', () => {
    const newer = ingress('newer', [{ host: 'a.example', paths: [{ path: '/a', pathType: 'Prefix', service: 'a' }] }], { defaultBackend: { service: { name: 'def-new', port: { number: 80 } } } }, '2026-02-01T00:00:00Z');
    const older = ingress('older', [], { defaultBackend: { service: { name: 'def-old', port: { name: 'http' } } } }, '2026-01-01T00:00:00Z');
    const table = buildRoutingTable([newer, older]);
    expect(matchRoute(table, 'a.example', '/a')?.backend.service).toBe('a');
    const fallback = matchRoute(table, 'a.example', '/b');
    expect(fallback?.backend).toEqual({ namespace: 'default', ingress: 'older', service: 'def-old', port: { name: 'http' } });
    expect(fallback?.route).toBeUndefined();
    expect(matchRoute(buildRoutingTable([ingress('x', [{ paths: [{ path: '/a', pathType: 'Exact', service: 'a' }] }])]), 'h', '/b')).toBeUndefined();
  });

  it('the older Ingress wins the same host, path and type', () => {
    const a = ingress('a', [{ host: 'h.example', paths: [{ path: '/x/', pathType: 'Prefix', service: 'from-a' }] }], {}, '2026-03-01T00:00:00Z');
    const b = ingress('b', [{ host: 'h.example', paths: [{ path: '/x', pathType: 'Prefix', service: 'from-b' }] }], {}, '2026-01-01T00:00:00Z');
    const table = buildRoutingTable([a, b]);
    expect(matchRoute(table, 'h.example', '/x/y')?.backend).toMatchObject({ ingress: 'b', service: 'from-b' });
    expect(table.routes).toHaveLength(1);
  });
});

describe('TLS by SNI', () => {
  it('maps hosts (or, without hosts, the rules hosts) to secrets; exact before wildcard', () => {
    const ing = ingress('tls', [{ host: 'rule.example', paths: [{ path: '/', pathType: 'Prefix', service: 's' }] }], {
      tls: [{ hosts: ['a.example', '*.wild.example'], secretName: 'one' }, { secretName: 'two' }],
    });
    const t = buildTLSTable([ing]);
    expect(matchTLS(t, 'a.example')?.secretName).toBe('one');
    expect(matchTLS(t, 'x.wild.example')?.secretName).toBe('one');
    expect(matchTLS(t, 'rule.example')?.secretName).toBe('two');
    expect(matchTLS(t, 'other.example')).toBeUndefined();
    expect(matchTLS(t, undefined)).toBeUndefined();
  });
});
