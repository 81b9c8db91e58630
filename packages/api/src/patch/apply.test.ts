import { describe, expect, it } from 'vitest';
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1';
import { StatusError } from '../errors.js';
import { apply, managerOrUserAgent, prefixFromUserAgent, updateManagedFields } from './apply.js';
import { schemaLookup } from '../schema/schema.js';
import { arrayOf, mapOf, objectType, scalar } from './fake-schema.js';

// A Deployment-shaped schema with the list kinds that matter: containers and env (map lists),
// ports (map list with two keys), finalizers (set), args (atomic), selector (atomic map).
const str = scalar('string');
const int = scalar('integer');
const Meta = objectType('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', () => ({
  name: str,
  namespace: str,
  uid: str,
  resourceVersion: str,
  labels: mapOf(str),
  annotations: mapOf(str),
  finalizers: { type: arrayOf(str), patchStrategy: 'merge', listType: 'set' },
  managedFields: arrayOf(scalar('any')),
}));
const Port = objectType('io.k8s.api.core.v1.ContainerPort', () => ({ containerPort: int, protocol: str, name: str }));
const Env = objectType('io.k8s.api.core.v1.EnvVar', () => ({ name: str, value: str }));
const Container = objectType('io.k8s.api.core.v1.Container', () => ({
  name: str,
  image: str,
  args: { type: arrayOf(str), listType: 'atomic' },
  ports: { type: arrayOf(Port), patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  env: { type: arrayOf(Env), patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
}));
const Selector = objectType('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector', () => ({ matchLabels: mapOf(str) }));
const Deployment = objectType('io.k8s.api.apps.v1.Deployment', () => ({
  apiVersion: str,
  kind: str,
  metadata: Meta,
  spec: objectType('io.k8s.api.apps.v1.DeploymentSpec', () => ({
    replicas: int,
    selector: { type: Selector, mapType: 'atomic' },
    template: objectType('io.k8s.api.core.v1.PodTemplateSpec', () => ({
      metadata: Meta,
      spec: objectType('io.k8s.api.core.v1.PodSpec', () => ({
        containers: { type: arrayOf(Container), patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
      })),
    })),
  })),
}));

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const opts = (o: Partial<{ force: boolean; now: string }> = {}) => ({ force: false, now: T0, apiVersion: 'apps/v1', ...o });

type Obj = any;

function config(replicas: number | undefined, containers: Obj[], extra: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, ...(extra.metadata ?? {}) },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
    },
  };
}

/** The live object as the store would hold it after an apply. */
function stored(o: Obj): Obj {
  return { ...o, metadata: { ...o.metadata, uid: 'u1', resourceVersion: '1' } };
}

const entry = (mf: ManagedFieldsEntry[], manager: string) => mf.find((e) => e.manager === manager);

describe('server-side apply', () => {
  it('first apply creates the object and records the applier as owner of every applied field', () => {
    const cfg = config(2, [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80 }] }]);
    const { object, managedFields } = apply<Obj>(null, cfg, 'kubectl', Deployment, opts());
    expect(object.spec.replicas).toBe(2);
    expect(object.metadata.managedFields).toEqual(managedFields);
    expect(managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('re-applying the same configuration is a no-op', () => {
    const cfg = config(2, [{ name: 'nginx', image: 'nginx:1' }]);
    const first = stored(apply<Obj>(null, cfg, 'kubectl', Deployment, opts()).object);
    const again = apply<Obj>(first, cfg, 'kubectl', Deployment, opts({ now: T1 }));
    expect(again.object).toEqual(first);
    expect(again.managedFields[0]!.time).toBe(T0);
  });

  it('a field removed from the configuration is removed from the object', () => {
    const first = stored(apply<Obj>(null, config(2, [{ name: 'nginx', image: 'nginx:1', args: ['a'] }, { name: 'sidecar', image: 'sc' }]), 'kubectl', Deployment, opts()).object);
    const next = apply<Obj>(first, config(undefined, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl', Deployment, opts({ now: T1 }));
    expect(next.object.spec.replicas).toBeUndefined();
    expect(next.object.spec.template.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1' }]);
    const f = next.managedFields[0]!.fieldsV1 as Obj;
    expect(f['f:spec']['f:replicas']).toBeUndefined();
    expect(next.managedFields[0]!.time).toBe(T1);
  });

  it('a field removed from the configuration stays when another manager owns it', () => {
    const first = stored(apply<Obj>(null, config(2, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl', Deployment, opts()).object);
    // Another applier declares the same replicas value: shared ownership, no conflict.
    const shared = stored(apply<Obj>(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'hpa', Deployment, opts()).object);
    expect(entry(shared.metadata.managedFields, 'hpa')).toBeDefined();
    const next = apply<Obj>(shared, config(undefined, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl', Deployment, opts());
    expect(next.object.spec.replicas).toBe(2);
  });

  it('changing a field another manager owns is a conflict with upstream message and causes', () => {
    const created = updateManagedFields<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl-client-side-apply', Deployment, { now: T0, apiVersion: 'apps/v1' });
    const live = stored(created.object);
    let err: unknown;
    try {
      apply(live, config(3, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl', Deployment, opts());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    const status = (err as StatusError).status;
    expect(status.code).toBe(409);
    expect(status.reason).toBe('Conflict');
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(status.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
  });

  it('several conflicts are grouped by manager', () => {
    const a = stored(apply<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'alice', Deployment, opts()).object);
    let err: StatusError | undefined;
    try {
      apply(a, config(2, [{ name: 'nginx', image: 'nginx:2' }]), 'bob', Deployment, opts());
    } catch (e) {
      err = e as StatusError;
    }
    expect(err?.status.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    expect(err?.status.details?.causes?.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  });

  it('force moves ownership of the conflicting fields to the applier', () => {
    const a = stored(apply<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'alice', Deployment, opts()).object);
    const forced = apply<Obj>(a, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, 'bob', Deployment, opts({ force: true, now: T1 }));
    expect(forced.object.spec.replicas).toBe(5);
    const alice = entry(forced.managedFields, 'alice')!.fieldsV1 as Obj;
    const bob = entry(forced.managedFields, 'bob')!.fieldsV1 as Obj;
    expect(alice['f:spec']['f:replicas']).toBeUndefined();
    expect(alice['f:spec']['f:selector']).toEqual({});
    expect(bob).toEqual({ 'f:spec': { 'f:replicas': {} } });
    // alice no longer owns replicas: her next apply without force does not conflict, and (since
    // bob owns it) dropping it from her configuration does not delete it.
    const again = apply<Obj>(stored(forced.object), config(undefined, [{ name: 'nginx', image: 'nginx:1' }]), 'alice', Deployment, opts());
    expect(again.object.spec.replicas).toBe(5);
  });

  it('listType=map: appliers own their own items of the same list', () => {
    const a = stored(apply<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1', env: [{ name: 'A', value: '1' }] }]), 'alice', Deployment, opts()).object);
    const sidecar = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'proxy', image: 'envoy' },
              { name: 'nginx', env: [{ name: 'B', value: '2' }] },
            ],
          },
        },
      },
    };
    const b = apply<Obj>(a, sidecar, 'bob', Deployment, opts());
    expect(b.object.spec.template.spec.containers).toEqual([
      { name: 'nginx', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'proxy', image: 'envoy' },
    ]);
    const bob = entry(b.managedFields, 'bob')!.fieldsV1 as Obj;
    expect(bob['f:spec']['f:template']['f:spec']['f:containers']).toEqual({
      'k:{"name":"nginx"}': { '.': {}, 'f:env': { 'k:{"name":"B"}': { '.': {}, 'f:name': {}, 'f:value': {} } }, 'f:name': {} },
      'k:{"name":"proxy"}': { '.': {}, 'f:image': {}, 'f:name': {} },
    });
    // alice drops her env var: only hers goes.
    const c = apply<Obj>(stored(b.object), config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'alice', Deployment, opts());
    expect(c.object.spec.template.spec.containers[0].env).toEqual([{ name: 'B', value: '2' }]);
  });

  it('sets are keyed by value and atomic lists are owned whole', () => {
    const cfg = config(1, [{ name: 'nginx', image: 'nginx:1', args: ['-v', '--x'] }], { metadata: { finalizers: ['example.com/a'] } });
    const { managedFields } = apply<Obj>(null, cfg, 'kubectl', Deployment, opts());
    const f = managedFields[0]!.fieldsV1 as Obj;
    expect(f['f:metadata']['f:finalizers']).toEqual({ 'v:"example.com/a"': {} });
    expect(f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['f:args']).toEqual({});
  });

  it('applying to an object without managedFields first attributes its fields to before-first-apply', () => {
    const live = stored(config(1, [{ name: 'nginx', image: 'nginx:1' }]));
    let err: StatusError | undefined;
    try {
      apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'kubectl', Deployment, opts());
    } catch (e) {
      err = e as StatusError;
    }
    expect(err?.status.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });
});

describe('updateManagedFields (operation Update)', () => {
  it('a create owned by no one else records the same fields as one taking them from another manager', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'ns',
        uid: 'u',
        creationTimestamp: '2026-01-01T00:00:00Z',
        generation: 1,
        labels: { app: 'web', tier: 'a' },
        annotations: {},
        finalizers: ['b.io/x', 'a.io/y'],
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'r1', controller: true }],
      },
      spec: {
        nodeSelector: { disk: 'ssd' },
        securityContext: {},
        affinity: null,
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            args: ['sleep', '1'],
            ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'UDP', name: 'dns' }],
            env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            resources: { requests: { cpu: '10m' }, limits: {} },
          },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
      status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
    };
    const type = schemaLookup.rootType('v1', 'Pod');
    const opts = { now: T0, apiVersion: 'v1' };
    const alone = updateManagedFields<Obj>(null, structuredClone(pod), 'kubectl-create', type, opts);
    // Another manager's entry sent with the object: the field sets are computed path by path.
    const other: ManagedFieldsEntry = { manager: 'other', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:x': {} } } } };
    const withOther = updateManagedFields<Obj>(null, { ...structuredClone(pod), metadata: { ...structuredClone(pod.metadata), managedFields: [other] } }, 'kubectl-create', type, opts);
    expect(alone.managedFields).toHaveLength(1);
    expect(withOther.managedFields.map((e) => e.manager)).toEqual(['other', 'kubectl-create']);
    expect(alone.managedFields[0]).toEqual(withOther.managedFields[1]);
    expect(JSON.stringify(alone.managedFields[0]!.fieldsV1)).toBe(JSON.stringify(withOther.managedFields[1]!.fieldsV1));
    const f = alone.managedFields[0]!.fieldsV1 as Obj;
    expect(Object.keys(f)).toEqual(['f:metadata', 'f:spec', 'f:status']);
    expect(Object.keys(f['f:metadata'])).toEqual(['f:annotations', 'f:finalizers', 'f:labels', 'f:ownerReferences']);
    expect(f['f:spec']['f:securityContext']).toBeUndefined();
    expect(Object.keys(f['f:spec']['f:containers']['k:{"name":"c"}']['f:ports'])).toEqual([
      'k:{"containerPort":80,"protocol":"TCP"}',
      'k:{"containerPort":80,"protocol":"UDP"}',
    ]);
    // The object returned is the one given with managedFields set; what was given is left as it was.
    expect(alone.object).toEqual({ ...pod, metadata: { ...pod.metadata, managedFields: alone.managedFields } });
  });

  it('a create with no fields to own records no entry', () => {
    const { object, managedFields } = updateManagedFields<Obj>(null, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, 'm', undefined, { now: T0, apiVersion: 'v1' });
    expect(managedFields).toEqual([]);
    expect(object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
  });

  it('create records every field, with map nodes as members', () => {
    const { object, managedFields } = updateManagedFields<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl-create', Deployment, { now: T0, apiVersion: 'apps/v1' });
    expect(managedFields).toHaveLength(1);
    expect(managedFields[0]).toMatchObject({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1' });
    const f = managedFields[0]!.fieldsV1 as Obj;
    expect(f['f:metadata']).toEqual({ 'f:labels': { '.': {}, 'f:app': {} } });
    expect(f['f:spec']['f:template']['f:spec']['f:containers']).toEqual({ 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } });
    expect(object.metadata.managedFields).toEqual(managedFields);
  });

  it('an update takes ownership of the fields it changes from other managers, without conflict', () => {
    const created = stored(apply<Obj>(null, config(1, [{ name: 'nginx', image: 'nginx:1' }]), 'kubectl', Deployment, opts()).object);
    const edited = structuredClone(created);
    edited.spec.replicas = 4;
    const { managedFields } = updateManagedFields<Obj>(created, edited, 'kubectl-edit', Deployment, { now: T1, apiVersion: 'apps/v1' });
    expect(entry(managedFields, 'kubectl-edit')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect((entry(managedFields, 'kubectl')!.fieldsV1 as Obj)['f:spec']['f:replicas']).toBeUndefined();
    // Apply entries sort after Update entries.
    expect(managedFields.map((e) => e.operation)).toEqual(['Apply', 'Update']);
  });

  it('an update of an unchanged object keeps managedFields as they were', () => {
    const created = stored(updateManagedFields<Obj>(null, config(1, []), 'm', Deployment, { now: T0, apiVersion: 'apps/v1' }).object);
    const { object } = updateManagedFields<Obj>(created, structuredClone(created), 'other', Deployment, { now: T1, apiVersion: 'apps/v1' });
    expect(object.metadata.managedFields).toEqual(created.metadata.managedFields);
  });

  it('managedFields: [{}] in the request clears them; an existing untracked object stays untracked', () => {
    const created = stored(updateManagedFields<Obj>(null, config(1, []), 'm', Deployment, { now: T0, apiVersion: 'apps/v1' }).object);
    const req = structuredClone(created);
    req.metadata.managedFields = [{}];
    const cleared = updateManagedFields<Obj>(created, req, 'm', Deployment, { now: T1, apiVersion: 'apps/v1' });
    expect(cleared.object.metadata.managedFields).toBeUndefined();
    const next = structuredClone(cleared.object);
    next.spec.replicas = 9;
    expect(updateManagedFields<Obj>(cleared.object, next, 'm', Deployment, { now: T1, apiVersion: 'apps/v1' }).managedFields).toEqual([]);
  });

  it('the same manager with another apiVersion is a separate Update entry; removed fields leave every set', () => {
    const created = stored(updateManagedFields<Obj>(null, config(1, []), 'm', Deployment, { now: T0, apiVersion: 'apps/v1' }).object);
    const next = structuredClone(created);
    next.metadata.labels = { app: 'web', tier: 'fe' };
    const out = updateManagedFields<Obj>(created, next, 'm', Deployment, { now: T1, apiVersion: 'apps/v1beta2' });
    expect(out.managedFields.map((e) => e.apiVersion)).toEqual(['apps/v1', 'apps/v1beta2']);
    const removed = structuredClone(stored(out.object));
    delete removed.spec.replicas;
    const after = updateManagedFields<Obj>(stored(out.object), removed, 'x', Deployment, { now: T1, apiVersion: 'apps/v1' });
    expect(JSON.stringify(after.managedFields)).not.toContain('f:replicas');
  });
});

describe('manager names', () => {
  it('defaults to the user agent up to its first slash', () => {
    expect(prefixFromUserAgent('kubectl/v1.32.0 (linux/amd64) kubernetes/abc')).toBe('kubectl');
    expect(prefixFromUserAgent('x'.repeat(200))).toHaveLength(128);
    expect(managerOrUserAgent('kubectl-client-side-apply', 'kubectl/v1.32.0')).toBe('kubectl-client-side-apply');
    expect(managerOrUserAgent(undefined, 'kube-controller-manager/v1.32.0 (linux/amd64)')).toBe('kube-controller-manager');
  });
});

describe('no-op updates', () => {
  it('keep every managedFields entry, time included', async () => {
    const { updateManagedFields } = await import('./apply.js');
    const { schemaLookup } = await import('../schema/index.js');
    const t = schemaLookup.rootType('apps/v1', 'Deployment');
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 3 } };
    const a = updateManagedFields(null, d, 'kubectl-patch', t, { now: '2026-11-23T10:00:00Z', apiVersion: 'apps/v1' });
    const b = updateManagedFields(a.object, structuredClone(a.object), 'kubectl-patch', t, { now: '2026-11-23T10:00:05Z', apiVersion: 'apps/v1' });
    expect(b.managedFields).toEqual(a.managedFields);
  });
});
