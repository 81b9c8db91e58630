// Object builders for the proxier's tests (upstream's makeTestService / makeTestEndpointSlice in proxier_test.go).
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { SERVICE_NAME_LABEL } from './service-ports.js';

export function makeService(namespace: string, name: string, spec: ServiceSpec, status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { type: 'ClusterIP', ...spec }, ...(status ? { status } : {}) };
}

export function makeSlice(namespace: string, service: string, n: number, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name: `${service}-${n}`, labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    ports,
    endpoints,
  };
}

export function ready(ip: string, nodeName?: string): Endpoint {
  return { addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, ...(nodeName ? { nodeName } : {}) };
}

export function terminating(ip: string, nodeName?: string, serving = true): Endpoint {
  return { addresses: [ip], conditions: { ready: false, serving, terminating: true }, ...(nodeName ? { nodeName } : {}) };
}
