// Defaulting for discovery.k8s.io/v1 (upstream pkg/apis/discovery/v1/defaults.go).
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

/** Every port gets name "" and protocol TCP when unset. */
export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}
