import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { resolveBackend, upstreamURL } from './endpoints.js';

const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'admin', port: 9000, protocol: 'TCP' }] } };
const slice = (endpoints: EndpointSlice['endpoints']): EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'admin', port: 9090, protocol: 'TCP' }],
  endpoints,
});
const ref = (port: { number?: number; name?: string }) => ({ namespace: 'default', ingress: 'ing', service: 'web', port });

describe('resolveBackend', () => {
  it('maps the Service port (number or name) to the ready endpoints target port', () => {
    const s = slice([
      { addresses: ['10.244.1.5'], conditions: { ready: true } },
      { addresses: ['10.244.2.7'] },
      { addresses: ['10.244.1.9'], conditions: { ready: false } },
    ]);
    expect(resolveBackend(ref({ number: 80 }), svc, [s])).toEqual({ kind: 'ok', upstreams: [{ ip: '10.244.1.5', port: 8080 }, { ip: '10.244.2.7', port: 8080 }] });
    expect(resolveBackend(ref({ name: 'admin' }), svc, [s])).toEqual({ kind: 'ok', upstreams: [{ ip: '10.244.1.5', port: 9090 }, { ip: '10.244.2.7', port: 9090 }] });
  });

  it('is unavailable (503) without the Service, the port or a ready endpoint', () => {
    expect(resolveBackend(ref({ number: 80 }), undefined, [])).toEqual({ kind: 'unavailable', reason: 'ServiceNotFound' });
    expect(resolveBackend(ref({ number: 81 }), svc, [])).toEqual({ kind: 'unavailable', reason: 'PortNotFound' });
    expect(resolveBackend(ref({ number: 80 }), svc, [slice([{ addresses: ['10.244.1.9'], conditions: { ready: false } }])])).toEqual({ kind: 'unavailable', reason: 'NoEndpoints' });
  });

  it('formats upstream URLs', () => {
    expect(upstreamURL({ ip: 'fd00::1', port: 80 })).toBe('http://[fd00::1]:80');
  });
});
