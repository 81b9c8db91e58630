// HorizontalPodAutoscalers through the apiserver in-process (fastify inject over MemoryStorage):
// stored as autoscaling/v2, served as v2 and v1, validated, defaulted and printed as upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, silentLogger } from '@kubelab/component-base';
import { bootstrap } from '../bootstrap.js';
import { defaults } from '../config.js';
import { createApiServer, type ApiServerRuntime } from '../server.js';
import { MemoryStorage } from '../storage/memory.js';

let runtime: ApiServerRuntime;
let storage: MemoryStorage;

beforeAll(async () => {
  const ca = await createCA({ commonName: 'test-ca' });
  storage = new MemoryStorage();
  const config = { ...defaults(), tlsCertFile: 'unused', tlsPrivateKeyFile: 'unused', enableAdmissionPlugins: [], disableAdmissionPlugins: ['ServiceAccount'], etcdServers: [] };
  runtime = createApiServer({ config, tls: { cert: Buffer.from(ca.certPem), key: Buffer.from(ca.keyPem) }, storageFor: () => storage, rawStorage: storage, logger: silentLogger() });
  await bootstrap(runtime.registry, { advertiseAddress: '192.0.2.10', securePort: 6443 });
  await runtime.app.ready();
});
afterAll(async () => {
  await runtime?.app.close();
  await storage?.close();
});

const request = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown, headers: Record<string, string> = {}) =>
  runtime.app.inject({
    method,
    url,
    payload: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });

const V1 = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
const V2 = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers';

describe('HorizontalPodAutoscaler: autoscaling/v2 stored, v1 served by conversion', () => {
  it('discovery prefers v2 and serves v1 too', async () => {
    const group = (await request('GET', '/apis/autoscaling')).json();
    expect(group.preferredVersion).toEqual({ groupVersion: 'autoscaling/v2', version: 'v2' });
    expect(group.versions.map((v: { version: string }) => v.version)).toEqual(['v2', 'v1']);
    const v1 = (await request('GET', '/apis/autoscaling/v1')).json();
    expect(v1.resources.map((r: { name: string }) => r.name)).toEqual(['horizontalpodautoscalers', 'horizontalpodautoscalers/status']);
  });

  it('a v1 HPA (what kubectl autoscale sends) reads back as v2 with its CPU target, and as v1', async () => {
    const v1 = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    };
    const created = await request('POST', V1, v1);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } });
    const v2 = (await request('GET', `${V2}/web`)).json();
    expect(v2).toMatchObject({
      apiVersion: 'autoscaling/v2',
      spec: { minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    expect(v2.metadata.annotations).toBeUndefined();
  });

  it('v2-only fields survive a v1 update; behavior shows in v1 as the annotation', async () => {
    const cur = (await request('GET', `${V2}/web`)).json();
    const behavior = { scaleDown: { stabilizationWindowSeconds: 5, policies: [{ type: 'Pods', value: 1, periodSeconds: 1 }] } };
    const pods = { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } };
    const put = await request('PUT', `${V2}/web`, { ...cur, spec: { ...cur.spec, metrics: [...cur.spec.metrics, pods], behavior } });
    expect(put.statusCode).toBe(200);
    expect(put.json().spec.behavior.scaleUp.policies).toHaveLength(2); // defaulted

    const v1 = (await request('GET', `${V1}/web`)).json();
    expect(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']).scaleDown).toMatchObject(behavior.scaleDown);
    const updated = await request('PUT', `${V1}/web`, { ...v1, spec: { ...v1.spec, maxReplicas: 5, targetCPUUtilizationPercentage: 60 } });
    expect(updated.statusCode).toBe(200);
    const after = (await request('GET', `${V2}/web`)).json();
    expect(after.spec.maxReplicas).toBe(5);
    expect(after.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }, pods]);
    expect(after.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(5);
    expect(after.metadata.annotations).toBeUndefined();
  });

  it('rejects an invalid HPA with upstream messages', async () => {
    const bad = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 1 } };
    const res = await request('POST', V2, bad);
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toBe(
      'HorizontalPodAutoscaler.autoscaling "bad" is invalid: spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`',
    );
  });

  it('kubectl get hpa: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE', async () => {
    const res = await request('GET', V2, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    const table = res.json();
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
    expect(table.rows[0].cells.slice(0, 6)).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/60%, <unknown>/10', '1', 5, 0]);
    const v1Table = (await request('GET', V1, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).json();
    expect(v1Table.rows[0].cells.slice(0, 6)).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/60%', '1', 5, 0]);
  });
});
