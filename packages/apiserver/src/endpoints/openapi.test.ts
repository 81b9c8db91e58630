import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '@kubelab/api';
import { PROTOBUF_V2_CONTENT_TYPE, PROTOBUF_V2_RESPONSE_CONTENT_TYPE, openapiV2Document, openapiV3Document, openapiV3Index, serveOpenAPI } from './openapi.js';

type Json = Record<string, any>;

/** Every $ref in a document, with the prefix removed. */
function refs(doc: unknown, prefix: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref') {
          expect(x).toMatch(new RegExp(`^${prefix}`));
          out.push((x as string).slice(prefix.length));
        } else walk(x);
      }
    }
  };
  walk(doc);
  return out;
}

/** kubectl's check (cli-runtime queryParamVerifierV3): the first PATCH of the kind must list the parameter. */
function supportsQueryParam(doc: Json, gvk: { group: string; version: string; kind: string }, param: string): boolean {
  for (const item of Object.values(doc.paths as Json)) {
    const op = item.patch;
    if (!op) continue;
    const k = op['x-kubernetes-group-version-kind'];
    if (k?.group !== gvk.group || k?.version !== gvk.version || k?.kind !== gvk.kind) continue;
    return (op.parameters ?? []).some((p: Json) => p.name === param);
  }
  return false;
}

describe('openapi v3', () => {
  it('indexes every served group-version with the SHA-512 of its document', () => {
    const index = openapiV3Index();
    expect(Object.keys(index.paths)).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/authentication.k8s.io/v1',
      'apis/authorization.k8s.io/v1',
      'apis/autoscaling/v1',
      'apis/autoscaling/v2',
      'apis/batch/v1',
      'apis/certificates.k8s.io/v1',
      'apis/coordination.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/events.k8s.io/v1',
      'apis/networking.k8s.io/v1',
      'apis/policy/v1',
      'apis/rbac.authorization.k8s.io/v1',
      'apis/scheduling.k8s.io/v1',
      'apis/storage.k8s.io/v1',
    ]);
    for (const [gv, { serverRelativeURL }] of Object.entries(index.paths)) {
      const body = serveOpenAPI(serverRelativeURL, 'application/json')!.body;
      const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
      expect(serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${hash}`);
    }
  });

  it('has the schemas of every kind of the group-version, self-contained', () => {
    for (const gv of Object.keys(openapiV3Index().paths)) {
      const doc = openapiV3Document(gv)! as Json;
      expect(doc.openapi).toBe('3.0.0');
      const schemas = doc.components.schemas as Json;
      for (const name of refs(doc, '#/components/schemas/')) expect(schemas[name], `${gv}: ${name}`).toBeDefined();
      for (const r of RESOURCES.filter((x) => (x.group ? `apis/${x.group}/${x.version}` : `api/${x.version}`) === gv)) {
        const root = Object.values(schemas).find((s: Json) => s['x-kubernetes-group-version-kind']?.some((k: Json) => k.kind === r.kind && k.group === r.group));
        expect(root, r.kind).toBeDefined();
      }
    }
    const core = openapiV3Document('api/v1')! as Json;
    const container = core.components.schemas['io.k8s.api.core.v1.Container'];
    expect(container.required).toEqual(['name']);
    expect(container.properties.livenessProbe).toMatchObject({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Probe' }], description: expect.stringMatching(/liveness/) });
    expect(container.properties.ports).toMatchObject({
      type: 'array',
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    });
    expect(core.components.schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf).toEqual([{ type: 'string' }, { type: 'number' }]);
    expect(core.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] });
    expect(core.components.schemas['io.k8s.api.apps.v1.Deployment']).toBeUndefined();
    expect(openapiV3Document('apis/apps/v1')!.components).toMatchObject({ schemas: { 'io.k8s.api.autoscaling.v1.Scale': expect.anything() } });
    expect(openapiV3Document('apis/nope/v1')).toBeUndefined();
  });

  it('lists the operations of every resource with the parameters kubectl checks', () => {
    const core = openapiV3Document('api/v1')! as Json;
    const pods = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    expect(Object.keys(pods).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(pods.patch).toMatchObject({ operationId: 'patchCoreV1NamespacedPod', 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'Pod' } });
    expect(pods.patch.parameters.map((p: Json) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'force']);
    expect(Object.keys(pods.patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
    expect(core.paths['/api/v1/namespaces/{namespace}/pods'].post.parameters.map((p: Json) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation']);
    expect(core.paths['/api/v1/pods'].get.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect(core.paths['/api/v1/nodes/{name}/status'].patch.operationId).toBe('patchCoreV1NodeStatus');
    expect(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind'].kind).toBe('Binding');
    const apps = openapiV3Document('apis/apps/v1')! as Json;
    expect(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].delete.operationId).toBe('deleteAppsV1CollectionNamespacedDeployment');
    for (const r of RESOURCES.filter((x) => x.verbs.includes('patch'))) {
      const doc = openapiV3Document(r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)! as Json;
      expect(supportsQueryParam(doc, { group: r.group, version: r.version, kind: r.kind }, 'fieldValidation'), r.kind).toBe(true);
    }
  });
});

describe('openapi v2', () => {
  it('is a swagger 2.0 document with every definition it refers to', () => {
    const doc = openapiV2Document() as Json;
    expect(doc.swagger).toBe('2.0');
    for (const name of refs(doc, '#/definitions/')) expect(doc.definitions[name], name).toBeDefined();
    expect(doc.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(doc.definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string' });
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch.parameters[0]).toMatchObject({ name: 'body', in: 'body', schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    expect(patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
  });
});

describe('serveOpenAPI', () => {
  it('serves the index and the documents as JSON, immutable when the hash matches', () => {
    const index = serveOpenAPI('/openapi/v3', 'application/json')!;
    expect(index).toMatchObject({ status: 200, contentType: 'application/json' });
    const url = (JSON.parse(String(index.body)) as Json).paths['api/v1'].serverRelativeURL as string;
    const doc = serveOpenAPI(url, 'application/json, */*')!;
    expect(doc.status).toBe(200);
    expect(doc.headers['cache-control']).toBe('public, immutable');
    expect(doc.headers.etag).toBe(`"${url.split('hash=')[1]}"`);
    expect(serveOpenAPI('/openapi/v3/api/v1', undefined)!.headers['cache-control']).toBeUndefined();
    expect(serveOpenAPI('/openapi/v3/api/v1?hash=stale', 'application/json')).toMatchObject({ status: 301, headers: { location: url } });
    expect(serveOpenAPI('/openapi/v3/apis/nope/v1', 'application/json')).toBeUndefined();
    expect(serveOpenAPI('/api/v1', 'application/json')).toBeUndefined();
  });

  it('serves v2 as protobuf or JSON as asked, and v3 only as JSON', () => {
    expect(serveOpenAPI('/openapi/v2', PROTOBUF_V2_CONTENT_TYPE)).toMatchObject({ status: 200, contentType: PROTOBUF_V2_RESPONSE_CONTENT_TYPE });
    expect(serveOpenAPI('/openapi/v3/api/v1', 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf')!.status).toBe(406);
    const v2 = serveOpenAPI('/openapi/v2', 'application/json')!;
    expect(v2).toMatchObject({ status: 200, contentType: 'application/json' });
    expect((JSON.parse(String(v2.body)) as Json).swagger).toBe('2.0');
  });
});
