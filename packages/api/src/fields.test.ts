import { describe, expect, it } from 'vitest';
import {
  andFieldSelectors,
  convertFieldSelector,
  escapeValue,
  fieldSelectorFromSet,
  fieldsOf,
  oneTermEqualSelector,
  parseFieldSelector,
  unescapeValue,
  validateFieldSelector,
} from './fields.js';

describe('parseFieldSelector', () => {
  // upstream TestSelectorParse (fields)
  it.each(['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=a||y\\=b', 'x=a\\=\\=b'])('round-trips %j', (s) => {
    expect(parseFieldSelector(s).toString()).toBe(s);
  });

  it('normalises == to = and sorts terms', () => {
    const s = parseFieldSelector('b==2,a!=1');
    expect(s.toString()).toBe('a!=1,b=2');
    expect(s.requirements).toEqual([
      { field: 'a', operator: '!=', value: '1' },
      { field: 'b', operator: '=', value: '2' },
    ]);
  });

  it('skips empty terms', () => {
    expect(parseFieldSelector('a=a,').toString()).toBe('a=a');
    expect(parseFieldSelector(',a=a').toString()).toBe('a=a');
    expect(parseFieldSelector('').empty()).toBe(true);
  });

  it('unescapes values', () => {
    // Raw terms are sorted before unescaping: 'k2=v2' sorts before 'k=\,' ('2' < '=').
    expect(parseFieldSelector('k=\\,,k2=v2').requirements).toEqual([
      { field: 'k2', operator: '=', value: 'v2' },
      { field: 'k', operator: '=', value: ',' },
    ]);
    expect(parseFieldSelector('k=\\\\,k2=v2').requirements[1]!.value).toBe('\\');
    expect(parseFieldSelector('함=수,목=록').requirements.map((r) => r.field)).toEqual(['목', '함']);
  });

  it('rejects bad terms with upstream messages', () => {
    expect(() => parseFieldSelector('a')).toThrow("invalid selector: 'a'; can't understand 'a'");
    expect(() => parseFieldSelector('x=a,b')).toThrow("invalid selector: 'x=a,b'; can't understand 'b'");
    expect(() => parseFieldSelector('k=\\a')).toThrow('invalid field selector: invalid escape sequence: \\a');
    expect(() => parseFieldSelector('k=\\')).toThrow('invalid field selector: invalid escape sequence: \\');
    expect(() => parseFieldSelector('k=a=b')).toThrow('invalid field selector: unescaped character in value: 61');
  });
});

describe('escaping', () => {
  // upstream TestEscapeValue
  it.each([
    ['', ''],
    ['a', 'a'],
    ['=', '\\='],
    [',', '\\,'],
    ['\\', '\\\\'],
    ['\\=\\,\\', '\\\\\\=\\\\\\,\\\\'],
  ])('%j <-> %j', (raw, escaped) => {
    expect(escapeValue(raw)).toBe(escaped);
    expect(unescapeValue(escaped)).toBe(raw);
  });

  it.each(['\\', '\\\\\\', '\\a'])('rejects %j', (s) => {
    expect(() => unescapeValue(s)).toThrow(/invalid escape sequence/);
  });
});

describe('matching', () => {
  it('compares values, a missing field reading as empty', () => {
    const f = { 'spec.nodeName': 'n1', 'status.phase': 'Running' };
    expect(parseFieldSelector('spec.nodeName=n1').matches(f)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=n2').matches(f)).toBe(false);
    expect(parseFieldSelector('spec.nodeName!=n2,status.phase=Running').matches(f)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=n1').matches(f)).toBe(false);
    expect(parseFieldSelector('missing=').matches(f)).toBe(true);
    expect(parseFieldSelector('missing!=x').matches(f)).toBe(true);
    expect(parseFieldSelector('').matches(f)).toBe(true);
  });

  it('reports exact matches', () => {
    const s = parseFieldSelector('metadata.name=a,spec.nodeName!=b');
    expect(s.requiresExactMatch('metadata.name')).toBe('a');
    expect(s.requiresExactMatch('spec.nodeName')).toBeUndefined();
    expect(oneTermEqualSelector('spec.nodeName', 'n1').requiresExactMatch('spec.nodeName')).toBe('n1');
  });

  it('does not read inherited members as fields', () => {
    const f = { 'metadata.name': 'a' };
    expect(parseFieldSelector('constructor=').matches(f)).toBe(true);
    expect(parseFieldSelector('constructor!=').matches(f)).toBe(false);
    expect(parseFieldSelector('toString=x').matches(f)).toBe(false);
    expect(parseFieldSelector('__proto__!=').matches(f)).toBe(false);
  });

  it('builds selectors', () => {
    expect(fieldSelectorFromSet({ b: '2', a: '1' }).toString()).toBe('a=1,b=2');
    expect(andFieldSelectors(oneTermEqualSelector('a', '1'), parseFieldSelector('b!=2')).toString()).toBe('a=1,b!=2');
  });
});

describe('fieldsOf', () => {
  it('gives pods their selectable fields', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', containers: [] },
      status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], nominatedNodeName: '' },
    };
    expect(fieldsOf('pods', '', pod)).toEqual({
      'metadata.name': 'p',
      'metadata.namespace': 'ns',
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.1',
      'status.nominatedNodeName': '',
    });
    expect(fieldsOf('pods', '', { metadata: { name: 'p', namespace: 'ns' }, spec: { hostNetwork: true } })['spec.hostNetwork']).toBe('true');
  });

  it('leaves metadata.namespace out for cluster-scoped resources', () => {
    expect(fieldsOf('nodes', '', { metadata: { name: 'n1' }, spec: { unschedulable: true } })).toEqual({
      'metadata.name': 'n1',
      'spec.unschedulable': 'true',
    });
    expect(fieldsOf('namespaces', '', { metadata: { name: 'ns' }, status: { phase: 'Active' } })).toEqual({
      'metadata.name': 'ns',
      'status.phase': 'Active',
    });
    expect(fieldsOf('clusterroles', 'rbac.authorization.k8s.io', { metadata: { name: 'r' } })).toEqual({ 'metadata.name': 'r' });
  });

  it('covers secrets, services, controllers and jobs', () => {
    expect(fieldsOf('secrets', '', { metadata: { name: 's', namespace: 'ns' }, type: 'Opaque' })).toMatchObject({ type: 'Opaque' });
    expect(fieldsOf('services', '', { metadata: { name: 's', namespace: 'ns' }, spec: { clusterIP: '10.96.0.1', type: 'ClusterIP' } })).toMatchObject({
      'spec.clusterIP': '10.96.0.1',
      'spec.type': 'ClusterIP',
    });
    expect(fieldsOf('replicationcontrollers', '', { metadata: { name: 'r', namespace: 'ns' }, status: { replicas: 3 } })['status.replicas']).toBe('3');
    expect(fieldsOf('replicasets', 'apps', { metadata: { name: 'r', namespace: 'ns' } })['status.replicas']).toBe('0');
    expect(fieldsOf('jobs', 'batch', { metadata: { name: 'j', namespace: 'ns' }, status: { succeeded: 2 } })['status.successful']).toBe('2');
  });

  it('gives events their fields in either group', () => {
    const core = {
      metadata: { name: 'e', namespace: 'ns' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1', apiVersion: 'v1', resourceVersion: '5', fieldPath: 'spec.containers{c}' },
      reason: 'Scheduled',
      source: { component: 'default-scheduler' },
      reportingComponent: 'default-scheduler',
      type: 'Normal',
    };
    expect(fieldsOf('events', '', core)).toEqual({
      'metadata.name': 'e',
      'metadata.namespace': 'ns',
      'involvedObject.kind': 'Pod',
      'involvedObject.namespace': 'ns',
      'involvedObject.name': 'p',
      'involvedObject.uid': 'u1',
      'involvedObject.apiVersion': 'v1',
      'involvedObject.resourceVersion': '5',
      'involvedObject.fieldPath': 'spec.containers{c}',
      reason: 'Scheduled',
      source: 'default-scheduler',
      type: 'Normal',
      reportingComponent: 'default-scheduler',
    });
    const v1 = {
      metadata: { name: 'e', namespace: 'ns' },
      regarding: { kind: 'Node', name: 'n1' },
      reason: 'Ready',
      reportingController: 'kubelet',
      deprecatedSource: { component: 'kubelet' },
      type: 'Normal',
    };
    const f = fieldsOf('events', 'events.k8s.io', v1);
    expect(f).toMatchObject({ 'regarding.kind': 'Node', 'involvedObject.kind': 'Node', reportingController: 'kubelet', reportingComponent: 'kubelet', source: 'kubelet' });
    // A selector in the events.k8s.io vocabulary matches once converted, and also as written.
    const sel = parseFieldSelector('regarding.kind=Node,reportingController=kubelet');
    expect(convertFieldSelector('events', 'events.k8s.io', sel).toString()).toBe('involvedObject.kind=Node,reportingComponent=kubelet');
    expect(convertFieldSelector('events', 'events.k8s.io', sel).matches(f)).toBe(true);
    expect(sel.matches(f)).toBe(true);
  });
});

describe('validateFieldSelector', () => {
  const check = (resource: string, group: string, s: string) => validateFieldSelector(resource, group, parseFieldSelector(s));

  it('refuses prototype member names as fields and as resources', () => {
    expect(check('events', 'events.k8s.io', 'constructor=x')).toBe('field label not supported: constructor');
    expect(check('events', 'events.k8s.io', 'toString=x')).toBe('field label not supported: toString');
    expect(check('configmaps', '', '__proto__=x')).toBe('"__proto__" is not a known field selector: only "metadata.name", "metadata.namespace"');
    expect(check('constructor', '', 'metadata.name=a')).toBeUndefined();
    expect(check('constructor', '', 'constructor=a')).toBe('"constructor" is not a known field selector: only "metadata.name", "metadata.namespace"');
  });

  it('accepts supported fields', () => {
    expect(check('pods', '', 'spec.nodeName=n1,status.phase!=Failed,metadata.namespace=ns')).toBeUndefined();
    expect(check('nodes', '', 'spec.unschedulable=false')).toBeUndefined();
    expect(check('events', '', 'involvedObject.kind=Pod,reason=Failed')).toBeUndefined();
    expect(check('events', 'events.k8s.io', 'regarding.name=p')).toBeUndefined();
    expect(check('secrets', '', 'type=Opaque')).toBeUndefined();
    expect(check('services', '', 'spec.clusterIP=None')).toBeUndefined();
    expect(check('namespaces', '', 'status.phase=Active')).toBeUndefined();
    expect(check('replicationcontrollers', '', 'status.replicas=0')).toBeUndefined();
    expect(check('jobs', 'batch', 'status.successful=1')).toBeUndefined();
    expect(check('configmaps', '', 'metadata.name=a,metadata.namespace=b')).toBeUndefined();
    expect(check('deployments', 'apps', '')).toBeUndefined();
  });

  it('rejects unsupported fields with upstream messages', () => {
    expect(check('pods', '', 'spec.foo=x')).toBe('field label not supported: spec.foo');
    expect(check('nodes', '', 'metadata.namespace=x')).toBe('field label not supported: metadata.namespace');
    expect(check('events', 'events.k8s.io', 'involvedObject.kind=Pod')).toBe('field label not supported: involvedObject.kind');
    expect(check('jobs', 'batch', 'status.succeeded=1')).toBe('field label "status.succeeded" not supported for batchv1.Job');
    expect(check('configmaps', '', 'data.x=y')).toBe('"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
    // apps/v1 registers no conversion, so status.replicas is refused for replicasets even though
    // the registry exposes it (as upstream).
    expect(check('replicasets', 'apps', 'status.replicas=0')).toBe(
      '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });

  it('maps the legacy spec.host to spec.nodeName', () => {
    expect(convertFieldSelector('pods', '', parseFieldSelector('spec.host=n1')).toString()).toBe('spec.nodeName=n1');
  });
});
