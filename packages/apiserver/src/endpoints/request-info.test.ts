import { describe, expect, it } from 'vitest';
import { parseRequestInfo } from './request-info.js';

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
