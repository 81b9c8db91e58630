import { describe, expect, it } from 'vitest';
import { decodePath, invalidNameError, parseRequestInfo, requestInfoFor, splitRequestTarget } from './request-info.js';

const q = (s = '') => new URLSearchParams(s);

describe('parseRequestInfo', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', '', { verb: 'list', resource: 'pods', namespace: 'default', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/default/pods/web', '', { verb: 'get', resource: 'pods', name: 'web' }],
    ['PUT', '/api/v1/namespaces/default/pods/web/status', '', { verb: 'update', subresource: 'status', name: 'web' }],
    ['POST', '/api/v1/namespaces/default/pods/web/binding', '', { verb: 'create', subresource: 'binding' }],
    ['DELETE', '/apis/apps/v1/namespaces/ns1/deployments', '', { verb: 'deletecollection', apiGroup: 'apps', namespace: 'ns1' }],
    ['GET', '/api/v1/namespaces', '', { verb: 'list', resource: 'namespaces', namespace: '' }],
    ['GET', '/api/v1/namespaces/kube-system', '', { verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: 'kube-system' }],
    ['PUT', '/api/v1/namespaces/x/finalize', '', { verb: 'update', resource: 'namespaces', name: 'x', subresource: 'finalize' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', '', { verb: 'watch', resource: 'pods', namespace: 'default' }],
    ['GET', '/api/v1/nodes/n1', '', { verb: 'get', resource: 'nodes', name: 'n1', namespace: '' }],
    ['PATCH', '/apis/apps/v1/namespaces/d/deployments/web/scale', '', { verb: 'patch', subresource: 'scale' }],
  ])('%s %s?%s', (method, path, query, want) => {
    const info = parseRequestInfo(method, path, q(query));
    expect(info.isResourceRequest).toBe(true);
    expect(info).toMatchObject(want);
  });
  it('treats discovery and other paths as non-resource requests', () => {
    expect(parseRequestInfo('GET', '/apis/apps/v1', q()).isResourceRequest).toBe(false);
    expect(parseRequestInfo('GET', '/healthz', q())).toMatchObject({ isResourceRequest: false, verb: 'get' });
  });
});

describe('requestInfoFor', () => {
  it('does not resolve dot segments: they are names, which a named request may not use', () => {
    for (const [target, name] of [
      ['/api/v1/namespaces/ns/configmaps/..', '..'],
      ['/api/v1/namespaces/ns/configmaps/%2e%2e', '..'],
      ['/api/v1/namespaces/ns/configmaps/%2E', '.'],
      ['/api/v1/namespaces/..', '..'],
    ] as const) {
      const ri = requestInfoFor('DELETE', target);
      expect(ri, target).toMatchObject({ isResourceRequest: true, verb: 'delete', name });
      const message = `Name parameter invalid: "${name}": may not be '${name}'`;
      expect(invalidNameError(ri)?.status, target).toMatchObject({ code: 400, reason: 'BadRequest', message });
    }
    expect(invalidNameError(requestInfoFor('GET', '/api/v1/nodes/a%25b'))?.message).toBe(`Name parameter invalid: "a%b": may not contain '%'`);
    expect(invalidNameError(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps/..data'))).toBeUndefined();
    expect(invalidNameError(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps'))).toBeUndefined();
  });
  it('keeps a # as a character of the path or of the query, as Go does', () => {
    expect(requestInfoFor('DELETE', '/api/v1/namespaces/ns/configmaps/cm#?dryRun=All')).toMatchObject({ name: 'cm#', verb: 'delete' });
    expect(requestInfoFor('DELETE', '/api/v1/namespaces/ns/configmaps/cm#?dryRun=All').query.get('dryRun')).toBe('All');
    expect(requestInfoFor('DELETE', '/api/v1/namespaces/ns/configmaps/cm?dryRun=All#x').query.get('dryRun')).toBe('All#x');
  });
  it('decodes the whole path before splitting it, and keeps empty segments', () => {
    expect(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps/a%2Fb')).toMatchObject({ name: 'a', subresource: 'b' });
    expect(requestInfoFor('GET', '/api/v1/namespaces/ns//configmaps/cm')).toMatchObject({ resource: '', name: 'configmaps', subresource: 'cm' });
    expect(requestInfoFor('GET', '/api/v1//namespaces/ns')).toMatchObject({ apiVersion: 'v1', resource: '', name: 'namespaces' });
    expect(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps/')).toMatchObject({ verb: 'list', resource: 'configmaps' });
    expect(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps/a%zz')).toMatchObject({ name: 'a%zz' });
    expect(requestInfoFor('GET', '/api/v1/namespaces/ns/configmaps/a%00')).toMatchObject({ name: 'a\0' });
  });
  it('splits a target at its first ?', () => {
    const { path, query } = splitRequestTarget('/a/b?x=1?y#z&w=%20');
    expect(path).toBe('/a/b');
    expect([...query]).toEqual([['x', '1?y#z'], ['w', ' ']]);
    expect(decodePath('/a%2Fb/%E2%9C%93/%ff%41')).toBe('/a/b/✓/%ff%41');
  });
});
