// networking.k8s.io/v1 defaults, as upstream's pkg/apis/networking/v1/defaults.go. Ingress has none in v1
// (pathType is required); an IngressClass' parameters reference is cluster-scoped unless it says otherwise.
import type { IngressClass } from 'kubernetes-types/networking/v1';

export function defaultIngressClass(ic: IngressClass): void {
  const params = ic.spec?.parameters;
  if (params && params.scope == null) params.scope = 'Cluster';
}
