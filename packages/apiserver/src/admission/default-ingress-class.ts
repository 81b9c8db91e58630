// DefaultIngressClass (upstream plugin/pkg/admission/network/defaultingressclass): an Ingress created without a
// class (no spec.ingressClassName, not even "", and no kubernetes.io/ingress.class annotation) gets the cluster's
// default IngressClass, the one annotated ingressclass.kubernetes.io/is-default-class=true. When several are
// default, the newest wins, then the first by name (upstream since 1.25; before, such a create was refused).
import type { KubeObject } from '@kubelab/api';
import type { Ingress } from 'kubernetes-types/networking/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';

export const IS_DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The deprecated annotation that names an Ingress' class; an Ingress carrying it is left alone. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** Upstream's getDefaultClass: of the classes annotated default, the newest, then the first by name. */
export function defaultIngressClass(classes: KubeObject[]): KubeObject | undefined {
  const created = (o: KubeObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
  const name = (o: KubeObject) => o.metadata.name ?? '';
  return classes
    .filter((c) => c.metadata.annotations?.[IS_DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => created(b) - created(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))[0];
}

export class DefaultIngressClass implements AdmissionPlugin {
  readonly name = 'DefaultIngressClass';

  /** listIngressClasses: every IngressClass (from the watch cache). */
  constructor(private readonly listIngressClasses: () => Promise<KubeObject[]>) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || a.resource.group !== 'networking.k8s.io' || a.resource.resource !== 'ingresses' || a.subresource !== '') return;
    if (!a.object) return;
    const ingress = a.object as unknown as Ingress;
    if (ingress.spec?.ingressClassName !== undefined && ingress.spec.ingressClassName !== null) return;
    if (ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined) return;
    const def = defaultIngressClass(await this.listIngressClasses());
    if (!def) return;
    (ingress.spec ??= {}).ingressClassName = def.metadata.name;
  }
}
