import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { printerFor } from './index.js';

const now = new Date('2024-06-01T12:00:00Z');
const metadata = { name: 'web', namespace: 'default', creationTimestamp: '2024-05-29T12:00:00Z' };

describe('networking printers', () => {
  it('prints an Ingress as upstream: class, hosts, address, ports', () => {
    const p = printerFor('networking.k8s.io', 'ingresses');
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
    const plain = { kind: 'Ingress', metadata, spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } } as unknown as KubeObject;
    expect(p.row(plain, now)).toEqual(['web', '<none>', '*', '', '80', '3d']);
    const rules = ['a.example', '', 'b.example', 'c.example', 'd.example'].map((host) => ({ host }));
    const full = {
      kind: 'Ingress',
      metadata,
      spec: { ingressClassName: 'kubelab', rules, tls: [{ hosts: ['a.example'] }] },
      status: { loadBalancer: { ingress: [{ ip: '172.30.0.12' }, { ip: '172.30.0.11' }, { ip: '172.30.0.11' }, { hostname: 'lb.example' }] } },
    } as unknown as KubeObject;
    expect(p.row(full, now)).toEqual(['web', 'kubelab', 'a.example,b.example,c.example + 2 more...', '172.30.0.11,172.30.0.12,lb.example', '80, 443', '3d']);
  });

  it('prints an IngressClass with its parameters reference', () => {
    const p = printerFor('networking.k8s.io', 'ingressclasses');
    expect(p.columns.map((c) => c.name)).toEqual(['Name', 'Controller', 'Parameters', 'Age']);
    const ic = { kind: 'IngressClass', metadata, spec: { controller: 'kubelab.io/ingress-controller' } } as unknown as KubeObject;
    expect(p.row(ic, now)).toEqual(['web', 'kubelab.io/ingress-controller', '<none>', '3d']);
    const withParams = { ...ic, spec: { controller: 'x.io/c', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } } } as unknown as KubeObject;
    expect(p.row(withParams, now)[2]).toBe('IngressParameters.k8s.example.com/p');
  });
});
