import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { invalid } from '../errors.js';
import { fieldErrorString, type FieldError } from '../field-error.js';
import { applyDefaults } from '../defaults/index.js';
import { validateObject, validateObjectUpdate, validateStatusUpdate, POD_UPDATE_FORBIDDEN } from './index.js';

const strs = (errs: FieldError[]) => errs.map(fieldErrorString);
const clone = <T>(o: T): T => structuredClone(o);

function defaulted(obj: KubeObject): KubeObject {
  const o = clone(obj);
  applyDefaults(o);
  return o;
}

const podTemplate = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
});

function deployment(over: Record<string, unknown> = {}): KubeObject {
  return defaulted({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }), ...over },
  });
}

function pod(spec: Record<string, unknown>, name = 'p'): KubeObject {
  return defaulted({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec });
}

function asExisting(o: KubeObject): KubeObject {
  const c = clone(o);
  c.metadata = { ...c.metadata, uid: 'u-1', resourceVersion: '5', creationTimestamp: '2024-01-01T00:00:00Z' };
  return c;
}

describe('validateObject: defaulted minimal objects are valid', () => {
  const objs: KubeObject[] = [
    deployment(),
    pod({ containers: [{ name: 'c', image: 'busybox' }] }),
    defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }),
    defaulted({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate({ a: 'b' }) } }),
    defaulted({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds', namespace: 'default' }, spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate({ a: 'b' }) } }),
    defaulted({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'ss', namespace: 'default' },
      spec: { serviceName: 'ss', selector: { matchLabels: { a: 'b' } }, template: podTemplate({ a: 'b' }) },
    }),
    defaulted({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'cj', namespace: 'default' },
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    }),
    defaulted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }),
    defaulted({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { 'app.properties': 'x=1' } }),
    defaulted({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }),
    defaulted({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }, { kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }],
    }),
  ];
  for (const o of objs) {
    it(`${o.kind} ${o.metadata.name}`, () => expect(strs(validateObject(o))).toEqual([]));
  }
});

describe('common user errors, with upstream messages', () => {
  it('negative replicas on a Deployment', () => {
    const errs = validateObject(deployment({ replicas: -1 }));
    expect(invalid({ group: 'apps', kind: 'Deployment' }, 'web', errs).message).toBe(
      'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
  });

  it('invalid object name', () => {
    const d = deployment();
    d.metadata.name = 'Web_1';
    expect(strs(validateObject(d))).toEqual([
      `metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', ` +
        `and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is ` +
        `'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
  });

  it('service names are DNS-1035 labels', () => {
    const svc = defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: '1svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    expect(strs(validateObject(svc))[0]).toMatch(
      /^metadata\.name: Invalid value: "1svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/,
    );
  });

  it('name or generateName required; namespace required for namespaced kinds', () => {
    const p = pod({ containers: [{ name: 'c', image: 'x' }] });
    p.metadata = {};
    expect(strs(validateObject(p))).toEqual(['metadata.name: Required value: name or generateName is required', 'metadata.namespace: Required value']);
  });

  it('missing containers', () => {
    expect(strs(validateObject(pod({ containers: [] })))).toEqual(['spec.containers: Required value']);
  });

  it('duplicate container names and missing image', () => {
    const errs = strs(validateObject(pod({ containers: [{ name: 'a', image: 'x' }, { name: 'a' }] })));
    expect(errs).toContain('spec.containers[1].name: Duplicate value: "a"');
    expect(errs).toContain('spec.containers[1].image: Required value');
  });

  it('container name must be a DNS-1123 label', () => {
    const errs = strs(validateObject(pod({ containers: [{ name: 'My_App', image: 'x' }] })));
    expect(errs[0]).toMatch(/^spec\.containers\[0\]\.name: Invalid value: "My_App": a lowercase RFC 1123 label must consist of/);
  });

  it('resource request above its limit', () => {
    const errs = strs(validateObject(pod({ containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] })));
    expect(errs).toEqual(['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']);
  });

  it('bad quantity and negative quantity', () => {
    const errs = strs(validateObject(pod({ containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '1Gb', cpu: '-1' } } }] })));
    expect(errs).toContain(
      `spec.containers[0].resources.limits[memory]: Invalid value: "1Gb": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
    expect(errs).toContain('spec.containers[0].resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0');
  });

  it('ports, env names and enums', () => {
    const p = pod({
      containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 70000, name: 'HTTP' }], env: [{ name: 'A=B', value: '1' }] }],
    });
    p.spec.restartPolicy = 'Sometimes';
    const errs = strs(validateObject(p));
    expect(errs).toContain('spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    expect(errs).toContain('spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
    expect(errs).toContain(`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`);
    expect(errs).toContain('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  });

  it('volume mounts must reference a volume', () => {
    const errs = strs(validateObject(pod({ containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] })));
    expect(errs).toEqual(['spec.containers[0].volumeMounts[0].name: Not found: "data"']);
  });

  it('selector does not match template labels', () => {
    const errs = strs(validateObject(deployment({ template: podTemplate({ app: 'other' }) })));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/);
  });

  it('Deployment template must restart Always', () => {
    const d = deployment();
    d.spec.template.spec.restartPolicy = 'Never';
    expect(strs(validateObject(d))).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it('bad cron schedules', () => {
    const cj = (schedule: string) =>
      defaulted({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'cj', namespace: 'default' },
        spec: { schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } } },
      });
    expect(strs(validateObject(cj('* * * *')))).toEqual(['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']);
    expect(strs(validateObject(cj('61 * * * *')))).toEqual(['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']);
    expect(strs(validateObject(cj('@fortnightly')))).toEqual(['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']);
    expect(strs(validateObject(cj('@hourly')))).toEqual([]);
    expect(strs(validateObject(cj('0 9 * jan-mar mon-fri')))).toEqual([]);
  });

  it('Job counts and restart policy', () => {
    const job = defaulted({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'default', uid: 'abc' },
      spec: {
        backoffLimit: -1,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } },
        template: { metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'abc' } }, spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'x' }] } },
      },
    });
    const errs = strs(validateObject(job));
    expect(errs).toContain('spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0');
    expect(errs).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  it('RBAC rules need verbs and resources', () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'default' }, rules: [{ apiGroups: [''] }] };
    expect(strs(validateObject(role))).toEqual([
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]);
  });

  it('ConfigMap keys', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { 'a b': 'x' } };
    expect(strs(validateObject(cm))).toEqual([
      `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' ` +
        `(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
  });

  it('Service ports: names required when several, nodePort forbidden on ClusterIP', () => {
    const svc = defaulted({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: 'default' },
      spec: { ports: [{ port: 80, nodePort: 30080 }, { port: 443, name: 'https' }] },
    });
    const errs = strs(validateObject(svc));
    expect(errs).toContain('spec.ports[0].name: Required value');
    expect(errs).toContain("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
  });

  it('unknown kinds get metadata validation only', () => {
    const o = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', labels: { 'a/b/c': 'x' } }, spec: { anything: -1 } };
    const errs = strs(validateObject(o));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^metadata\.labels: Invalid value: "a\/b\/c": a qualified name must consist of/);
  });

  it('never throws on garbage', () => {
    expect(() => validateObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'd' }, spec: 'nope' } as KubeObject)).not.toThrow();
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'd' }, spec: { containers: [null] } } as KubeObject)).not.toThrow();
  });
});

describe('update rules', () => {
  it('apps/v1 selector is immutable', () => {
    const old = asExisting(deployment());
    const upd = clone(old);
    upd.spec.selector = { matchLabels: { app: 'web', tier: 'fe' } };
    upd.spec.template.metadata.labels = { app: 'web', tier: 'fe' };
    const errs = strs(validateObjectUpdate(upd, old));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec\.selector: Invalid value: .*: field is immutable$/);
  });

  it('scaling a Deployment is fine', () => {
    const old = asExisting(deployment());
    const upd = clone(old);
    upd.spec.replicas = 5;
    expect(validateObjectUpdate(upd, old)).toEqual([]);
  });

  it('metadata name and uid are immutable', () => {
    const old = asExisting(deployment());
    const upd = clone(old);
    upd.metadata.uid = 'other';
    expect(strs(validateObjectUpdate(upd, old))).toEqual(['metadata.uid: Invalid value: "other": field is immutable']);
  });

  it('pod spec is immutable except images and friends', () => {
    const old = asExisting(pod({ containers: [{ name: 'c', image: 'nginx:1' }] }));
    const img = clone(old);
    img.spec.containers[0].image = 'nginx:2';
    img.spec.activeDeadlineSeconds = 30;
    img.spec.tolerations = [...(old.spec.tolerations ?? []), { key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
    expect(strs(validateObjectUpdate(img, old))).toEqual([]);

    const port = clone(old);
    port.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    const errs = validateObjectUpdate(port, old);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.field).toBe('spec');
    expect(errs[0]!.type).toBe('FieldValueForbidden');
    expect(errs[0]!.detail!.startsWith(`${POD_UPDATE_FORBIDDEN}\n`)).toBe(true);
  });

  it('Service clusterIP is immutable', () => {
    const svc = defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    svc.spec.clusterIP = '10.96.0.10';
    svc.spec.clusterIPs = ['10.96.0.10'];
    const old = asExisting(svc);
    const upd = clone(old);
    upd.spec.clusterIP = '10.96.0.11';
    upd.spec.clusterIPs = ['10.96.0.11'];
    expect(strs(validateObjectUpdate(upd, old))).toEqual(['spec.clusterIPs[0]: Invalid value: []{"10.96.0.11"}: may not change once set']);
  });

  it('RoleBinding roleRef cannot change', () => {
    const rb = asExisting({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'a' },
    });
    const upd = clone(rb);
    upd.roleRef.name = 'b';
    expect(strs(validateObjectUpdate(upd, rb))[0]).toMatch(/^roleRef: Invalid value: .*: cannot change roleRef$/);
  });

  it('immutable Secret data cannot change', () => {
    const s = asExisting({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', immutable: true, data: { a: 'YQ==' } });
    const upd = clone(s);
    upd.data = { a: 'Yg==' };
    expect(strs(validateObjectUpdate(upd, s))).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });

  it('Job template is immutable', () => {
    const job = asExisting({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'default' },
      spec: {
        selector: { matchLabels: { x: 'y' } },
        template: {
          metadata: { labels: { x: 'y' } },
          spec: {
            restartPolicy: 'Never',
            dnsPolicy: 'ClusterFirst',
            containers: [{ name: 'c', image: 'a', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }],
          },
        },
      },
    });
    expect(validateObjectUpdate(job, job)).toEqual([]);
    const upd = clone(job);
    upd.spec.template.spec.containers[0].image = 'b';
    expect(strs(validateObjectUpdate(upd, job))[0]).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
  });

  it('status updates check counts, not spec', () => {
    const old = asExisting(deployment());
    const upd = clone(old);
    upd.status = { replicas: -1 };
    expect(strs(validateStatusUpdate(upd, old))[0]).toBe('status.replicas: Invalid value: -1: must be greater than or equal to 0');
    upd.status = { replicas: 2, readyReplicas: 1, availableReplicas: 1 };
    upd.spec.replicas = -5; // the status strategy keeps the old spec; spec is not validated here
    expect(validateStatusUpdate(upd, old)).toEqual([]);
    const rs = asExisting({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: {} });
    const rsUpd = clone(rs);
    rsUpd.status = { replicas: 1, readyReplicas: 2, availableReplicas: 0 };
    expect(strs(validateStatusUpdate(rsUpd, rs))).toEqual(['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']);
  });
});

describe('metadata update details', () => {
  it('a request without uid/creationTimestamp keeps the stored ones; a changed namespace is refused', () => {
    const old = asExisting(deployment());
    const upd = clone(old);
    delete upd.metadata.uid;
    delete upd.metadata.creationTimestamp;
    expect(validateObjectUpdate(upd, old)).toEqual([]);
    upd.metadata.namespace = 'other';
    expect(strs(validateObjectUpdate(upd, old))).toEqual(['metadata.namespace: Invalid value: "other": field is immutable']);
  });

  it('no new finalizers once deletion started', () => {
    const old = asExisting(deployment());
    old.metadata.deletionTimestamp = '2024-01-02T00:00:00Z';
    const upd = clone(old);
    upd.metadata.finalizers = ['example.com/block'];
    expect(strs(validateObjectUpdate(upd, old))).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/block"}',
    ]);
  });

  it('annotations total size limit', () => {
    const d = deployment();
    d.metadata.annotations = { big: 'x'.repeat(256 * 1024) };
    const errs = validateObject(d);
    expect(errs.map((e) => [e.field, e.type])).toEqual([['metadata.annotations', 'FieldValueTooLong']]);
  });
});

describe('CertificateSigningRequest names', () => {
  const csr = (name: string): KubeObject => ({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name } });
  it('accepts any name a path can carry, as upstream (the kubelet names its requests with base64url digests)', () => {
    expect(validateObject(csr('node-csr-Ab_cD-9xYz'))).toEqual([]);
    expect(validateObject(csr('My CSR'))).toEqual([]);
  });
  it('refuses a name that cannot be a path segment', () => {
    expect(validateObject(csr('a/b')).map((e) => e.field)).toEqual(['metadata.name']);
    expect(validateObject(csr('..')).map((e) => e.field)).toEqual(['metadata.name']);
  });
});
