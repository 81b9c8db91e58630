import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import type { Ingress } from 'kubernetes-types/networking/v1';
import { DEFAULT_ON_ADMISSION_PLUGINS, ADMISSION_PLUGIN_ORDER } from './index.js';
import { DefaultIngressClass } from './default-ingress-class.js';
import { attrs } from './testing.js';

const ingressClass = (name: string, created: string, isDefault: boolean): KubeObject =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
    spec: { controller: 'example.com/ingress' },
  }) as KubeObject;
const ingress = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default', annotations },
    spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...spec },
  }) as KubeObject;
const classOf = (o: KubeObject | null) => (o as unknown as Ingress).spec?.ingressClassName;
const ingressAttrs = (operation: 'CREATE' | 'UPDATE', obj: KubeObject, subresource = '') =>
  attrs('ingresses', operation, obj, { group: 'networking.k8s.io', subresource, oldObject: operation === 'UPDATE' ? ingress() : null });

describe('DefaultIngressClass admission', () => {
  const classes = [ingressClass('old', '2024-01-01T00:00:00Z', true), ingressClass('other', '2024-03-01T00:00:00Z', false), ingressClass('new', '2024-02-01T00:00:00Z', true)];
  const plugin = new DefaultIngressClass(async () => classes);

  it('gives an Ingress without a class the default class, the newest of several', async () => {
    const a = ingressAttrs('CREATE', ingress());
    await plugin.admit(a);
    expect(classOf(a.object)).toBe('new');
    const only = ingressAttrs('CREATE', ingress());
    await new DefaultIngressClass(async () => [ingressClass('kubelab', '2024-01-01T00:00:00Z', true)]).admit(only);
    expect(classOf(only.object)).toBe('kubelab');
  });

  it('breaks a tie in creation time by name', async () => {
    const a = ingressAttrs('CREATE', ingress());
    await new DefaultIngressClass(async () => [ingressClass('b', '2024-01-01T00:00:00Z', true), ingressClass('a', '2024-01-01T00:00:00Z', true)]).admit(a);
    expect(classOf(a.object)).toBe('a');
  });

  it('leaves an explicit class, "", the kubernetes.io/ingress.class annotation, updates and status alone', async () => {
    for (const [obj, want] of [
      [ingress({ ingressClassName: 'other' }), 'other'],
      [ingress({ ingressClassName: '' }), ''],
      [ingress({}, { 'kubernetes.io/ingress.class': 'nginx' }), undefined],
    ] as const) {
      const a = ingressAttrs('CREATE', obj);
      await plugin.admit(a);
      expect(classOf(a.object)).toBe(want);
    }
    const u = ingressAttrs('UPDATE', ingress());
    await plugin.admit(u);
    expect(classOf(u.object)).toBeUndefined();
    const s = ingressAttrs('CREATE', ingress(), 'status');
    await plugin.admit(s);
    expect(classOf(s.object)).toBeUndefined();
  });

  it('does nothing without a default class, or for other resources', async () => {
    const a = ingressAttrs('CREATE', ingress());
    await new DefaultIngressClass(async () => [ingressClass('other', '2024-03-01T00:00:00Z', false)]).admit(a);
    expect(classOf(a.object)).toBeUndefined();
    const svc = attrs('services', 'CREATE', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} } as KubeObject);
    await plugin.admit(svc);
    expect(svc.object).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} });
  });

  it('is on by default, after StorageObjectInUseProtection and before ResourceQuota, as upstream orders it', () => {
    expect(DEFAULT_ON_ADMISSION_PLUGINS).toContain('DefaultIngressClass');
    const at = (n: string) => ADMISSION_PLUGIN_ORDER.indexOf(n);
    expect(at('DefaultIngressClass')).toBeGreaterThan(at('StorageObjectInUseProtection'));
    expect(at('DefaultIngressClass')).toBeLessThan(at('ResourceQuota'));
  });
});
