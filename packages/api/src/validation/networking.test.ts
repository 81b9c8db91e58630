import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { fieldErrorString, type FieldError } from '../field-error.js';
import { applyDefaults } from '../defaults/index.js';
import { validateObject, validateObjectUpdate, validateStatusUpdate } from './index.js';

const strs = (errs: FieldError[]) => errs.map(fieldErrorString);

const backend = (name = 'web', port: Record<string, unknown> = { number: 80 }) => ({ service: { name, port } });

function ingress(spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', annotations }, spec } as KubeObject;
}

const rule = (host: string | undefined, paths: unknown[]) => ({ host, http: { paths } });
const path = (p: string | undefined, pathType: string | undefined, b: unknown = backend()) => ({ path: p, pathType, backend: b });

describe('Ingress validation', () => {
  it('accepts what kubectl create ingress sends', () => {
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [path('/', 'Prefix')])] })))).toEqual([]);
    expect(strs(validateObject(ingress({ defaultBackend: backend('web', { name: 'http' }) })))).toEqual([]);
    expect(strs(validateObject(ingress({ rules: [rule('*.example.com', [path('/a', 'Exact')])], tls: [{ hosts: ['*.example.com'], secretName: 'tls' }] })))).toEqual([]);
  });

  it('needs rules or a default backend', () => {
    expect(strs(validateObject(ingress({})))).toEqual(['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified']);
  });

  it('requires pathType and checks paths per type', () => {
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [path('/', undefined)])] })))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    ]);
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [path('/', 'Regex')])] })))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [path('a', 'Prefix'), path('/a//b', 'Exact'), path('/a/..', 'Prefix')])] })))).toEqual([
      'spec.rules[0].http.paths[0].path: Invalid value: "a": must be an absolute path',
      `spec.rules[0].http.paths[1].path: Invalid value: "/a//b": must not contain '//'`,
      `spec.rules[0].http.paths[2].path: Invalid value: "/a/..": cannot end with '/..'`,
    ]);
    // ImplementationSpecific may leave the path empty.
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [path(undefined, 'ImplementationSpecific')])] })))).toEqual([]);
    expect(strs(validateObject(ingress({ rules: [rule('a.example', [])] })))).toEqual(['spec.rules[0].http.paths: Required value']);
  });

  it('checks backends: service name, port name or number, not both kinds', () => {
    const errs = (b: unknown) => strs(validateObject(ingress({ defaultBackend: b })));
    expect(errs(backend('Web'))[0]).toMatch(/^spec.defaultBackend.service.name: Invalid value: "Web": a DNS-1035 label/);
    expect(errs(backend('web', {}))).toEqual(['spec.defaultBackend: Required value: port name or number is required']);
    expect(errs(backend('web', { name: 'http', number: 80 }))).toEqual(['spec.defaultBackend: Invalid value: "": cannot set both port name & port number']);
    expect(errs(backend('web', { number: 70000 }))).toEqual(['spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive']);
    expect(errs({})).toEqual(['spec.defaultBackend: Invalid value: "": resource or service backend is required']);
    expect(errs({ ...backend(), resource: { kind: 'Bucket', name: 'b' } })).toEqual(['spec.defaultBackend: Invalid value: "": cannot set both resource and service backends']);
  });

  it('refuses IP hosts and bad wildcards, in rules and TLS', () => {
    const e = strs(validateObject(ingress({ rules: [rule('10.0.0.1', [path('/', 'Prefix')]), rule('a.*.example', [path('/', 'Prefix')])], tls: [{ hosts: ['*'] }] })));
    expect(e[0]).toBe('spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address');
    expect(e[1]).toMatch(/^spec.rules\[1\].host: Invalid value: "a.\*.example": a wildcard DNS-1123 subdomain must start with '\*.'/);
    expect(e[2]).toMatch(/^spec.tls\[0\].hosts\[0\]: Invalid value: "\*": a wildcard DNS-1123 subdomain/);
    expect(e).toHaveLength(3);
  });

  it('the class annotation must match ingressClassName', () => {
    expect(strs(validateObject(ingress({ ingressClassName: 'a', defaultBackend: backend() }, { 'kubernetes.io/ingress.class': 'b' })))).toEqual([
      'annotations.kubernetes.io/ingress.class: Invalid value: "b": must match `ingressClassName` when both are specified',
    ]);
  });

  it('update keeps an old invalid TLS secret name; status checks load balancer IPs', () => {
    const old = ingress({ defaultBackend: backend(), tls: [{ secretName: 'Bad_Name' }] });
    (old.metadata as Record<string, unknown>).resourceVersion = '1';
    expect(strs(validateObjectUpdate(structuredClone(old), old))).toEqual([]);
    const fresh = ingress({ defaultBackend: backend(), tls: [{ secretName: 'Bad_Name' }] });
    expect(strs(validateObject(fresh))[0]).toMatch(/^spec.tls\[0\].secretName: Invalid value: "Bad_Name"/);
    const withStatus = { ...structuredClone(old), status: { loadBalancer: { ingress: [{ ip: '172.30.0.11' }, { ip: 'nope' }, { hostname: '1.2.3.4' }] } } };
    expect(strs(validateStatusUpdate(withStatus as KubeObject, old))).toEqual([
      'status.loadBalancer.ingress[1].ip: Invalid value: "nope": must be a valid IP address',
      'status.loadBalancer.ingress[2].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    ]);
  });
});

describe('IngressClass validation and defaults', () => {
  const ic = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubelab' }, spec }) as KubeObject;

  it('controller is a domain-prefixed path, immutable', () => {
    expect(strs(validateObject(ic({ controller: 'kubelab.io/ingress-controller' })))).toEqual([]);
    expect(strs(validateObject(ic({})))).toEqual(['spec.controller: Required value']);
    expect(strs(validateObject(ic({ controller: 'nginx' })))).toEqual(['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    const old = ic({ controller: 'kubelab.io/ingress-controller' });
    expect(strs(validateObjectUpdate(ic({ controller: 'kubelab.io/other' }), old))).toEqual(['spec.controller: Invalid value: "kubelab.io/other": field is immutable']);
  });

  it('parameters default to Cluster scope; Namespace scope needs a namespace', () => {
    const withParams = ic({ controller: 'kubelab.io/ingress-controller', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } });
    applyDefaults(withParams);
    expect((withParams as unknown as { spec: { parameters: { scope: string } } }).spec.parameters.scope).toBe('Cluster');
    expect(strs(validateObject(withParams))).toEqual([]);
    const ns = ic({ controller: 'kubelab.io/ingress-controller', parameters: { kind: 'P', name: 'p', scope: 'Namespace' } });
    expect(strs(validateObject(ns))).toEqual(["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"]);
  });
});
