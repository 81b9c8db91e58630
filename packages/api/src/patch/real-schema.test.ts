// The patch code against the real API schema (../schema): the merge keys, strategies and list types
// of Pod, Deployment and Service as upstream declares them.
import { describe, expect, it } from 'vitest';
import { schemaLookup } from '../schema/schema.js';
import { StatusError } from '../errors.js';
import { apply } from './apply.js';
import { createThreeWayMergePatch, strategicMergePatch } from './strategic.js';

type Obj = any;
const podType = schemaLookup.rootType('v1', 'Pod')!;
const deploymentType = schemaLookup.rootType('apps/v1', 'Deployment')!;
const serviceType = schemaLookup.rootType('v1', 'Service')!;

const pod = (): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web' }, finalizers: ['a/x'] },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }] },
      { name: 'log', image: 'busybox', args: ['tail', '-f'] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [{ key: 'k', operator: 'Exists' }],
  },
});

describe('strategic merge patch with the real schema', () => {
  it('merges containers by name, ports by containerPort and env by name', () => {
    const out = strategicMergePatch(
      pod(),
      { spec: { containers: [{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 443 }], env: [{ name: 'B', value: '2' }] }] } },
      podType,
    ) as Obj;
    // Without $setElementOrder, new items go before the live ones (upstream's mergeSortedSlice).
    expect(out.spec.containers).toEqual([
      {
        name: 'web',
        image: 'nginx:2',
        ports: [{ containerPort: 443 }, { containerPort: 80, protocol: 'TCP' }],
        env: [
          { name: 'B', value: '2' },
          { name: 'A', value: '1' },
        ],
      },
      { name: 'log', image: 'busybox', args: ['tail', '-f'] },
    ]);
  });

  it('replaces atomic lists (args, tolerations) and unions finalizers', () => {
    const out = strategicMergePatch(
      pod(),
      { metadata: { finalizers: ['b/y'] }, spec: { tolerations: [{ key: 'z', operator: 'Exists' }], containers: [{ name: 'log', args: ['sleep'] }] } },
      podType,
    ) as Obj;
    expect(out.spec.tolerations).toEqual([{ key: 'z', operator: 'Exists' }]);
    expect(out.spec.containers[1].args).toEqual(['sleep']);
    expect(out.metadata.finalizers).toEqual(['b/y', 'a/x']);
  });

  it('$patch: delete removes a container; $retainKeys switches a volume source', () => {
    const out = strategicMergePatch(
      pod(),
      {
        spec: {
          containers: [{ name: 'log', $patch: 'delete' }],
          volumes: [{ name: 'data', $retainKeys: ['hostPath', 'name'], hostPath: { path: '/d' } }],
        },
      },
      podType,
    ) as Obj;
    expect(out.spec.containers.map((c: Obj) => c.name)).toEqual(['web']);
    expect(out.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/d' } }]);
  });

  it('a Deployment strategy (retainKeys) switches type without leftovers', () => {
    const d = { spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const out = strategicMergePatch(d, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, deploymentType) as Obj;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('a container without its name is refused with upstream message', () => {
    expect(() => strategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }, podType)).toThrow(
      'map: map[image:x] does not contain declared merge key: name',
    );
  });

  it("kubectl apply's three-way patch removes a container port dropped from the configuration", () => {
    const lastApplied = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const modified = { spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    const current = { spec: { clusterIP: '10.96.0.5', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] } };
    const patch = createThreeWayMergePatch(lastApplied, modified, current, serviceType);
    expect(patch).toEqual({ spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ port: 443, $patch: 'delete' }] } });
    const out = strategicMergePatch(current, patch, serviceType) as Obj;
    expect(out.spec).toEqual({ clusterIP: '10.96.0.5', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
  });
});

describe('server-side apply with the real schema', () => {
  const deployment = (replicas: number, image: string): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80 }] }] } },
    },
  });

  it('records the selector as atomic and ports by (containerPort, protocol)', () => {
    const { managedFields } = apply<Obj>(null, deployment(1, 'nginx:1'), 'kubectl', deploymentType, { force: false, now: '2024-05-01T10:00:00Z', apiVersion: 'apps/v1' });
    const spec = (managedFields[0]!.fieldsV1 as Obj)['f:spec'];
    expect(spec['f:selector']).toEqual({});
    expect(spec['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:ports']).toEqual({
      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
    });
  });

  it('conflicts on the container image between two appliers', () => {
    const opts = { force: false, now: '2024-05-01T10:00:00Z', apiVersion: 'apps/v1' };
    const live = apply<Obj>(null, deployment(1, 'nginx:1'), 'alice', deploymentType, opts).object;
    live.metadata.uid = 'u';
    expect(() => apply(live, deployment(1, 'nginx:2'), 'bob', deploymentType, opts)).toThrow(StatusError);
    expect(() => apply(live, deployment(1, 'nginx:2'), 'bob', deploymentType, opts)).toThrow(
      'Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.containers[name="web"].image',
    );
  });
});
