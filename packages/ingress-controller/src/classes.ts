// Which Ingresses this controller handles (pure), as ingress-nginx decides: an Ingress whose
// spec.ingressClassName names an IngressClass with our spec.controller; else one whose legacy
// kubernetes.io/ingress.class annotation is our class name; else (no class at all) when one of our
// IngressClasses is the cluster default (ingressclass.kubernetes.io/is-default-class: "true") or
// --watch-ingress-without-class is set.
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';

export const ANNOTATION_INGRESS_CLASS = 'kubernetes.io/ingress.class';
export const ANNOTATION_IS_DEFAULT_CLASS = 'ingressclass.kubernetes.io/is-default-class';

export interface ClassOptions {
  ingressClass: string;
  controllerClass: string;
  watchIngressWithoutClass: boolean;
}

export function isDefaultClass(ic: IngressClass): boolean {
  return ic.metadata?.annotations?.[ANNOTATION_IS_DEFAULT_CLASS] === 'true';
}

export function handlesIngress(ing: Ingress, classes: readonly IngressClass[], opts: ClassOptions): boolean {
  const ours = classes.filter((c) => c.spec?.controller === opts.controllerClass);
  const name = ing.spec?.ingressClassName;
  if (name) return ours.some((c) => c.metadata?.name === name);
  const annotation = ing.metadata?.annotations?.[ANNOTATION_INGRESS_CLASS];
  if (annotation !== undefined) return annotation === opts.ingressClass;
  return opts.watchIngressWithoutClass || ours.some(isDefaultClass);
}
