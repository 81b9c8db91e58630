import { describe, expect, it } from 'vitest';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { handlesIngress } from './classes.js';
import { configFromFlags } from './config.js';

const opts = { ingressClass: 'kubelab', controllerClass: 'kubelab.io/ingress-controller', watchIngressWithoutClass: false };
const cls = (name: string, controller: string, isDefault = false): IngressClass => ({
  metadata: { name, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller },
});
const ing = (className?: string, annotation?: string): Ingress => ({
  metadata: { name: 'i', namespace: 'default', annotations: annotation ? { 'kubernetes.io/ingress.class': annotation } : {} },
  spec: { ingressClassName: className },
});

describe('handlesIngress', () => {
  const classes = [cls('kubelab', 'kubelab.io/ingress-controller', true), cls('nginx', 'k8s.io/ingress-nginx')];
  it('follows spec.ingressClassName to the class controller', () => {
    expect(handlesIngress(ing('kubelab'), classes, opts)).toBe(true);
    expect(handlesIngress(ing('nginx'), classes, opts)).toBe(false);
    expect(handlesIngress(ing('missing'), classes, opts)).toBe(false);
  });
  it('honours the legacy annotation', () => {
    expect(handlesIngress(ing(undefined, 'kubelab'), classes, opts)).toBe(true);
    expect(handlesIngress(ing(undefined, 'nginx'), classes, opts)).toBe(false);
  });
  it('takes class-less Ingresses only as the default class or when told to', () => {
    expect(handlesIngress(ing(), classes, opts)).toBe(true);
    const notDefault = [cls('kubelab', 'kubelab.io/ingress-controller')];
    expect(handlesIngress(ing(), notDefault, opts)).toBe(false);
    expect(handlesIngress(ing(), notDefault, { ...opts, watchIngressWithoutClass: true })).toBe(true);
  });
});

describe('config', () => {
  it('has ingress-nginx style defaults and reads the pod from the environment', () => {
    const c = configFromFlags([], { POD_NAME: 'ic-x', POD_NAMESPACE: 'kube-system' });
    expect(c).toMatchObject({ ingressClass: 'kubelab', httpPort: 80, httpsPort: 443, healthzPort: 10254, updateStatus: true, podName: 'ic-x', podNamespace: 'kube-system' });
    expect(configFromFlags(['--publish-status-address=10.0.0.1, lb.example', '--update-status=false']).publishStatusAddress).toEqual(['10.0.0.1', 'lb.example']);
  });
  it('names the flag in errors', () => {
    expect(() => configFromFlags(['--http-port=70000'])).toThrow('--http-port 70000 must be between 0 and 65535, inclusive');
    expect(() => configFromFlags(['--controller-class=nginx'])).toThrow(/--controller-class "nginx"/);
  });
});
