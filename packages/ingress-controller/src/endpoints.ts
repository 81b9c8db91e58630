// A backend's addresses (pure): the Service port an Ingress backend names (by number or name), then the
// ready endpoints of the Service's EndpointSlices for that port (the slice port carries the Service
// port's name and the resolved target port), as kube-proxy reads them.
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { BackendRef } from './routing.js';

export interface Upstream {
  ip: string;
  port: number;
}

export type Resolution =
  | { kind: 'ok'; upstreams: Upstream[] }
  /** No such Service, no such port on it, or no ready endpoint: 503. */
  | { kind: 'unavailable'; reason: 'ServiceNotFound' | 'PortNotFound' | 'NoEndpoints' };

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function resolveBackend(backend: BackendRef, service: Service | undefined, slices: readonly EndpointSlice[]): Resolution {
  if (!service) return { kind: 'unavailable', reason: 'ServiceNotFound' };
  const ports = service.spec?.ports ?? [];
  const svcPort = backend.port.name ? ports.find((p) => p.name === backend.port.name) : ports.find((p) => p.port === backend.port.number);
  if (!svcPort || (svcPort.protocol ?? 'TCP') !== 'TCP') return { kind: 'unavailable', reason: 'PortNotFound' };
  const portName = svcPort.name ?? '';
  const seen = new Set<string>();
  const upstreams: Upstream[] = [];
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
    if (!slicePort?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      // conditions.ready: nil means ready (the API's "should be interpreted as true").
      if (ep.conditions?.ready === false) continue;
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const key = `${ip}:${slicePort.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      upstreams.push({ ip, port: slicePort.port });
    }
  }
  if (upstreams.length === 0) return { kind: 'unavailable', reason: 'NoEndpoints' };
  upstreams.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
  return { kind: 'ok', upstreams };
}

/** `http://ip:port` (IPv6 bracketed). */
export function upstreamURL(u: Upstream, scheme = 'http'): string {
  return `${scheme}://${u.ip.includes(':') ? `[${u.ip}]` : u.ip}:${u.port}`;
}
