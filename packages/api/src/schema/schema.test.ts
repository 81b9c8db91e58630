import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESOURCES, apiVersionOf } from '../resources.js';
import { generateDefinitions, renderDefinitions, OUTPUT } from '../../../../hack/gen-schema.js';
import { schemaLookup, definitions } from './index.js';

function field(apiVersion: string, kind: string, ...path: string[]) {
  let t = schemaLookup.rootType(apiVersion, kind);
  let f;
  for (const p of path) {
    while (t && (t.kind === 'array' || t.kind === 'map')) t = t.elem;
    f = t?.property(p);
    t = f?.type;
  }
  return f;
}

describe('generated definitions', () => {
  it('are what hack/gen-schema.ts generates from kubernetes-types and patch-meta.ts (regenerate after changing either)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(renderDefinitions(generateDefinitions()));
  }, 30_000);

  it('resolve every $ref', () => {
    const defs = definitions();
    const missing: string[] = [];
    const walk = (v: unknown) => {
      if (v && typeof v === 'object') {
        const ref = (v as { $ref?: string }).$ref;
        if (ref && !defs[ref]) missing.push(ref);
        Object.values(v).forEach(walk);
      }
    };
    walk(defs);
    expect(missing).toEqual([]);
  });
});

describe('schemaLookup', () => {
  it('has a root type for every served kind and its list', () => {
    // metrics.k8s.io is computed and read-only (no body is ever decoded); upstream's schema for it comes from
    // metrics-server's aggregated OpenAPI, which kubernetes-types does not carry (the OpenAPI document skips it too).
    for (const r of RESOURCES.filter((r) => r.group !== 'metrics.k8s.io')) {
      expect(schemaLookup.rootType(apiVersionOf(r), r.kind)?.kind, r.kind).toBe('object');
      if (r.verbs.includes('list')) expect(schemaLookup.rootType(apiVersionOf(r), r.listKind)?.property('items')?.type.kind, r.listKind).toBe('array');
    }
    expect(schemaLookup.rootType('autoscaling/v1', 'Scale')?.name).toBe('io.k8s.api.autoscaling.v1.Scale');
    expect(schemaLookup.rootType('v1', 'Nope')).toBeUndefined();
    expect(schemaLookup.rootType('apps/v1', 'Pod')).toBeUndefined();
  });

  it('describes fields with upstream names, types, descriptions and required-ness', () => {
    const pod = schemaLookup.rootType('v1', 'Pod')!;
    expect(pod.name).toBe('io.k8s.api.core.v1.Pod');
    expect(pod.groupVersionKinds).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(pod.propertyNames().sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const spec = pod.property('spec')!.type;
    expect(spec.name).toBe('io.k8s.api.core.v1.PodSpec');
    expect(spec.required).toEqual(['containers']);
    const containers = spec.property('containers')!;
    expect(containers.type.kind).toBe('array');
    expect(containers.type.elem!.name).toBe('io.k8s.api.core.v1.Container');
    expect(containers.type.elem!.required).toEqual(['name']);
    expect(containers.description).toMatch(/^List of containers belonging to the pod/);
    const c = containers.type.elem!;
    expect(c.property('livenessProbe')!.type.property('periodSeconds')!.type.kind).toBe('integer');
    expect(c.property('livenessProbe')!.type.property('httpGet')!.type.property('port')!.type.kind).toBe('int-or-string');
    expect(c.property('resources')!.type.property('limits')!.type.kind).toBe('map');
    expect(c.property('resources')!.type.property('limits')!.type.elem!.kind).toBe('quantity');
    expect(c.property('imagee')).toBeUndefined();
    expect(pod.property('metadata')!.type.property('creationTimestamp')!.type.kind).toBe('time');
    expect(pod.property('metadata')!.type.property('labels')!.type.elem!.kind).toBe('string');
    expect(spec.property('hostNetwork')!.type.kind).toBe('boolean');
    expect(schemaLookup.rootType('apps/v1', 'ControllerRevision')!.property('data')!.type.kind).toBe('any');
  });

  it('carries the fields upstream 1.32 has beyond kubernetes-types 1.30', () => {
    const spec = schemaLookup.typeByName('io.k8s.api.core.v1.PodSpec')!;
    expect(spec.property('resources')!.type.name).toBe('io.k8s.api.core.v1.ResourceRequirements');
    expect(schemaLookup.typeByName('io.k8s.api.core.v1.Volume')!.property('image')!.type.property('reference')).toBeDefined();
    expect(schemaLookup.typeByName('io.k8s.api.core.v1.PodResourceClaim')!.property('source')).toBeUndefined();
  });

  it('returns the same objects on repeated lookups', () => {
    expect(schemaLookup.typeByName('io.k8s.api.core.v1.PodSpec')).toBe(schemaLookup.rootType('v1', 'Pod')!.property('spec')!.type);
  });
});

describe('patch metadata', () => {
  it('merges containers, env, volumes, volumeMounts and imagePullSecrets by name/mountPath', () => {
    for (const p of ['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'imagePullSecrets']) {
      expect(field('v1', 'Pod', 'spec', p), p).toMatchObject({ patchStrategy: expect.stringMatching(/^merge/), patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] });
    }
    expect(field('v1', 'Pod', 'spec', 'volumes')!.patchStrategy).toBe('merge,retainKeys');
    expect(field('v1', 'Pod', 'spec', 'containers', 'env')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'name' });
    expect(field('v1', 'Pod', 'spec', 'containers', 'volumeMounts')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'mountPath' });
    expect(field('apps/v1', 'Deployment', 'spec', 'template', 'spec', 'containers', 'env')).toMatchObject({ patchMergeKey: 'name' });
  });

  it('merges container ports by containerPort and keys them by containerPort+protocol under SSA', () => {
    expect(field('v1', 'Pod', 'spec', 'containers', 'ports')).toMatchObject({
      patchStrategy: 'merge',
      patchMergeKey: 'containerPort',
      listType: 'map',
      listMapKeys: ['containerPort', 'protocol'],
    });
    expect(field('v1', 'Service', 'spec', 'ports')).toMatchObject({ patchMergeKey: 'port', listMapKeys: ['port', 'protocol'] });
  });

  it('knows atomic lists and maps, sets, conditions and owner references', () => {
    const tol = field('v1', 'Pod', 'spec', 'tolerations')!;
    expect(tol.listType).toBe('atomic');
    expect(tol.patchStrategy).toBeUndefined();
    expect(field('v1', 'Pod', 'spec', 'containers', 'args')!.listType).toBe('atomic');
    expect(field('v1', 'Pod', 'spec', 'nodeSelector')!.mapType).toBe('atomic');
    expect(field('v1', 'Pod', 'metadata', 'finalizers')).toMatchObject({ patchStrategy: 'merge', listType: 'set' });
    expect(field('v1', 'Pod', 'metadata', 'ownerReferences')).toMatchObject({ patchMergeKey: 'uid', listMapKeys: ['uid'] });
    expect(field('v1', 'Pod', 'status', 'conditions')).toMatchObject({ patchMergeKey: 'type', listType: 'map' });
    expect(field('batch/v1', 'Job', 'status', 'conditions')).toMatchObject({ patchMergeKey: 'type', listType: 'atomic' });
    expect(field('v1', 'Pod', 'spec', 'hostAliases')).toMatchObject({ patchMergeKey: 'ip' });
    expect(field('v1', 'Pod', 'spec', 'topologySpreadConstraints')).toMatchObject({ patchMergeKey: 'topologyKey', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] });
    expect(field('rbac.authorization.k8s.io/v1', 'Role', 'rules')!.listType).toBe('atomic');
    expect(field('v1', 'Endpoints', 'subsets')!.listType).toBe('atomic');
    expect(field('apps/v1', 'Deployment', 'spec', 'strategy')!.patchStrategy).toBe('retainKeys');
    expect(schemaLookup.typeByName('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')!.mapType).toBe('atomic');
    expect(field('v1', 'Pod', 'spec', 'containers', 'image')!.patchStrategy).toBeUndefined();
  });
});
