import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { applyDefaults, podTemplateDefaults } from './index.js';

// Results are inspected by path, so they are loosely typed.
function defaulted(obj: KubeObject): any {
  const copy = structuredClone(obj);
  applyDefaults(copy);
  return copy;
}

// What upstream's defaulters add to `containers: [{name, image}]` in any pod spec or template.
const DEFAULTED_POD_SPEC = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};
const DEFAULTED_CONTAINER = {
  imagePullPolicy: 'Always',
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};

describe('Pod (kubectl run nginx --image=nginx)', () => {
  // Expected values are `kubectl get pod -o yaml` from a v1.32 apiserver, minus what admission
  // (serviceAccountName, tolerations, priority, kube-api-access volume) and the registry (status)
  // add, and minus `resources: {}` (a Go serialisation artefact, not a default).
  it('matches the apiserver field by field', () => {
    const pod = defaulted({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx', labels: { run: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
    });
    expect(pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx', labels: { run: 'nginx' } },
      spec: {
        containers: [{ name: 'nginx', image: 'nginx', ...DEFAULTED_CONTAINER }],
        enableServiceLinks: true,
        ...DEFAULTED_POD_SPEC,
      },
    });
  });

  it('defaults containers, probes, env, ports, resources and volumes', () => {
    const pod = defaulted({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        hostNetwork: true,
        initContainers: [{ name: 'init', image: 'busybox:1.36', resources: { limits: { cpu: '100m' } } }],
        containers: [
          {
            name: 'web',
            image: 'web:v1',
            ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }],
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
            livenessProbe: { httpGet: { port: 8080 } },
            readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
            startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
            lifecycle: { preStop: { httpGet: { port: 'http', path: '/quit' } } },
          },
        ],
        volumes: [
          { name: 'scratch' },
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
          { name: 'host', hostPath: { path: '/var/log' } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        ],
      },
    });
    const [init] = pod.spec.initContainers;
    expect(init.imagePullPolicy).toBe('IfNotPresent');
    expect(init.resources).toEqual({ limits: { cpu: '100m' }, requests: { cpu: '100m' } });
    const [c] = pod.spec.containers;
    expect(c.ports).toEqual([
      { containerPort: 8080, protocol: 'TCP', hostPort: 8080 },
      { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
    ]);
    expect(c.env[0].valueFrom.fieldRef).toEqual({ apiVersion: 'v1', fieldPath: 'spec.nodeName' });
    expect(c.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } });
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.readinessProbe).toEqual({
      grpc: { port: 9000, service: '' },
      timeoutSeconds: 1,
      periodSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.startupProbe.failureThreshold).toBe(30);
    expect(c.lifecycle.preStop.httpGet).toEqual({ port: 'http', path: '/quit', scheme: 'HTTP' });
    expect(pod.spec.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
      { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      { name: 'host', hostPath: { path: '/var/log', type: '' } },
      {
        name: 'info',
        downwardAPI: { defaultMode: 420, items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] },
      },
      { name: 'token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } },
    ]);
  });

  it('keeps values the user set', () => {
    const pod = defaulted({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        restartPolicy: 'Never',
        dnsPolicy: 'Default',
        terminationGracePeriodSeconds: 0,
        enableServiceLinks: false,
        schedulerName: 'mine',
        containers: [{ name: 'c', image: 'nginx', imagePullPolicy: 'Never', terminationMessagePolicy: 'FallbackToLogsOnError' }],
      },
    });
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      schedulerName: 'mine',
    });
    expect(pod.spec.containers[0]).toMatchObject({ imagePullPolicy: 'Never', terminationMessagePolicy: 'FallbackToLogsOnError' });
  });

  it('mirrors the deprecated serviceAccount field and podIP/podIPs as conversion does', () => {
    const pod = defaulted({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { serviceAccount: 'builder', containers: [{ name: 'c', image: 'x' }] },
      status: { podIP: '10.244.1.5', hostIPs: [{ ip: '192.168.0.2' }] },
    });
    expect(pod.spec.serviceAccountName).toBe('builder');
    expect(pod.spec.serviceAccount).toBe('builder');
    expect(pod.status).toEqual({
      podIP: '10.244.1.5',
      podIPs: [{ ip: '10.244.1.5' }],
      hostIP: '192.168.0.2',
      hostIPs: [{ ip: '192.168.0.2' }],
    });
  });
});

describe('Deployment (kubectl create deployment nginx --image=nginx)', () => {
  it('matches the apiserver field by field', () => {
    const d = defaulted({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx', labels: { app: 'nginx' } },
      spec: {
        selector: { matchLabels: { app: 'nginx' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
        },
      },
    });
    expect(d).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx', labels: { app: 'nginx' } },
      spec: {
        progressDeadlineSeconds: 600,
        replicas: 1,
        revisionHistoryLimit: 10,
        selector: { matchLabels: { app: 'nginx' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          // Pod-only defaults (enableServiceLinks, requests from limits) are not applied to templates.
          spec: { containers: [{ name: 'nginx', image: 'nginx', ...DEFAULTED_CONTAINER }], ...DEFAULTED_POD_SPEC },
        },
      },
    });
  });

  it('adds no rollingUpdate to a Recreate strategy and keeps explicit values', () => {
    const d = defaulted({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { replicas: 0, strategy: { type: 'Recreate' }, selector: {}, template: { spec: { containers: [] } } },
    });
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('fills only the missing half of rollingUpdate', () => {
    const d = defaulted({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, selector: {}, template: {} },
    });
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
  });
});

describe('Service', () => {
  it('matches the apiserver for kubectl create service clusterip my-svc --tcp=80:8080 (registry fields aside)', () => {
    const svc = defaulted({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'my-svc', labels: { app: 'my-svc' } },
      spec: { ports: [{ name: '80-8080', port: 80, targetPort: 8080 }], selector: { app: 'my-svc' }, type: 'ClusterIP' },
    });
    expect(svc).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'my-svc', labels: { app: 'my-svc' } },
      spec: {
        internalTrafficPolicy: 'Cluster',
        ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }],
        selector: { app: 'my-svc' },
        sessionAffinity: 'None',
        type: 'ClusterIP',
      },
    });
  });

  it.each([
    [undefined, 80],
    [0, 80],
    ['', 80],
    [8080, 8080],
    ['http', 'http'],
  ])('targetPort %j becomes %j', (targetPort, expected) => {
    const svc = defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort }] } });
    expect(svc.spec.ports[0].targetPort).toBe(expected);
  });

  it('sets externalTrafficPolicy only for externally reachable services', () => {
    const spec = (s: object) => defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: s }).spec;
    expect(spec({ type: 'NodePort' }).externalTrafficPolicy).toBe('Cluster');
    expect(spec({ type: 'LoadBalancer' })).toMatchObject({
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
    });
    expect(spec({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' }).externalTrafficPolicy).toBe('Local');
    expect(spec({ externalIPs: ['1.2.3.4'] }).externalTrafficPolicy).toBe('Cluster');
    expect(spec({}).externalTrafficPolicy).toBeUndefined();
    const ext = spec({ type: 'ExternalName', externalName: 'example.com' });
    expect(ext.internalTrafficPolicy).toBeUndefined();
    expect(ext.externalTrafficPolicy).toBeUndefined();
  });

  it('defaults ClientIP affinity timeout and drops config under None', () => {
    const spec = (s: object) => defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: s }).spec;
    expect(spec({ sessionAffinity: 'ClientIP' }).sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(spec({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } }).sessionAffinityConfig).toBeUndefined();
  });
});

describe('Job completions and parallelism', () => {
  const job = (spec: object) =>
    defaulted({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: {}, ...spec } }).spec;
  it.each([
    [{}, 1, 1],
    [{ completions: 5 }, 5, 1],
    [{ parallelism: 3 }, undefined, 3],
    [{ completions: 5, parallelism: 2 }, 5, 2],
    [{ parallelism: 0 }, undefined, 0],
  ])('%j -> completions %j, parallelism %j', (input, completions, parallelism) => {
    const spec = job(input);
    expect(spec.completions).toBe(completions);
    expect(spec.parallelism).toBe(parallelism);
  });

  it('sets the remaining Job defaults and copies template labels', () => {
    const j = defaulted({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi' },
      spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } },
    });
    expect(j.metadata.labels).toEqual({ app: 'pi' });
    expect(j.spec).toMatchObject({
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      manualSelector: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    expect(j.spec.template.spec).toMatchObject({ restartPolicy: 'Never', dnsPolicy: 'ClusterFirst' });
    expect(j.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
  });

  it('follows podFailurePolicy and backoffLimitPerIndex', () => {
    const spec = job({
      backoffLimitPerIndex: 1,
      completionMode: 'Indexed',
      completions: 4,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
    });
    expect(spec.backoffLimit).toBe(2147483647);
    expect(spec.podReplacementPolicy).toBe('Failed');
    expect(spec.podFailurePolicy.rules[0].onPodConditions[0]).toEqual({ type: 'DisruptionTarget', status: 'True' });
  });
});

describe('other workloads', () => {
  it('CronJob: own defaults and its pod template, but no Job defaults in jobTemplate.spec', () => {
    const cj = defaulted({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    });
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cj.spec.jobTemplate.spec.backoffLimit).toBeUndefined();
    expect(cj.spec.jobTemplate.spec.template.spec).toEqual({
      restartPolicy: 'OnFailure',
      containers: [{ name: 'c', image: 'busybox', ...DEFAULTED_CONTAINER }],
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
  });

  it('DaemonSet, ReplicaSet, StatefulSet', () => {
    const template = { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };
    const ds = defaulted({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' }, spec: { selector: {}, template } });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
    expect(ds.spec.template.spec.schedulerName).toBe('default-scheduler');

    const rs = defaulted({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector: {}, template } });
    expect(rs.spec.replicas).toBe(1);
    expect(rs.spec.template.spec.enableServiceLinks).toBeUndefined();

    const sts = defaulted({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 's' },
      spec: { selector: {}, serviceName: 's', template, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
    });
    expect(sts.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(sts.spec.volumeClaimTemplates[0]).toEqual({
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    const explicit = defaulted({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 's' },
      spec: { selector: {}, serviceName: 's', template, updateStrategy: { type: 'RollingUpdate' } },
    });
    expect(explicit.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
  });

  it('ReplicationController takes selector and labels from its template', () => {
    const rc = defaulted({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'rc' },
      spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    expect(rc.metadata.labels).toEqual({ app: 'web' });
    expect(rc.spec.selector).toEqual({ app: 'web' });
    expect(rc.spec.replicas).toBe(1);
    expect(rc.spec.template.spec.restartPolicy).toBe('Always');
  });
});

describe('cluster objects', () => {
  it('Namespace: name label and Active phase, no finalizers', () => {
    const ns = defaulted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dev', labels: { [`kubernetes.io/metadata.name`]: 'x' } } });
    expect(ns).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'dev', labels: { 'kubernetes.io/metadata.name': 'dev' } },
      status: { phase: 'Active' },
    });
  });

  it('Node: allocatable from capacity and podCIDRs from podCIDR', () => {
    const node = defaulted({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      spec: { podCIDR: '10.244.1.0/24' },
      status: { capacity: { cpu: '4', pods: '110' } },
    });
    expect(node.status.allocatable).toEqual({ cpu: '4', pods: '110' });
    expect(node.spec).toEqual({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
  });

  it('Secret: type Opaque, stringData merged into data', () => {
    const s = defaulted({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'hé' } });
    expect(s).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: 'eA==', b: 'aMOp' } });
  });

  it('Endpoints and EndpointSlice ports default to TCP', () => {
    const ep = defaulted({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' }, subsets: [{ ports: [{ port: 80 }] }] });
    expect(ep.subsets[0].ports[0]).toEqual({ port: 80, protocol: 'TCP' });
    const es = defaulted({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
    expect(es.ports[0]).toEqual({ port: 80, name: '', protocol: 'TCP' });
  });

  it('LimitRange container items: default from max, defaultRequest from default then min', () => {
    const lr = defaulted({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'l' },
      spec: {
        limits: [
          { type: 'Container', max: { cpu: '2', memory: '1Gi' }, min: { cpu: '100m', 'ephemeral-storage': '1Gi' }, default: { memory: '512Mi' } },
          { type: 'Pod', max: { cpu: '4' } },
        ],
      },
    });
    expect(lr.spec.limits[0].default).toEqual({ memory: '512Mi', cpu: '2' });
    expect(lr.spec.limits[0].defaultRequest).toEqual({ memory: '512Mi', cpu: '2', 'ephemeral-storage': '1Gi' });
    expect(lr.spec.limits[1]).toEqual({ type: 'Pod', max: { cpu: '4' } });
  });

  it('RoleBinding and ClusterRoleBinding subjects and roleRef get their apiGroup', () => {
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      const b = defaulted({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata: { name: 'b' },
        roleRef: { kind: 'ClusterRole', name: 'view' },
        subjects: [
          { kind: 'User', name: 'jane' },
          { kind: 'Group', name: 'devs' },
          { kind: 'ServiceAccount', name: 'default', namespace: 'ns' },
        ],
      });
      expect(b.roleRef.apiGroup).toBe('rbac.authorization.k8s.io');
      expect(b.subjects.map((s: { apiGroup: string }) => s.apiGroup)).toEqual(['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', '']);
    }
  });
});

describe('applyDefaults dispatch', () => {
  it('leaves unknown kinds and versions untouched', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
    expect(defaulted(cm)).toEqual(cm);
    const other = { apiVersion: 'apps/v1beta9', kind: 'Deployment', metadata: { name: 'd' }, spec: {} };
    expect(defaulted(other)).toEqual(other);
  });

  it('defaults the items of a list', () => {
    const list = defaulted({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [{ metadata: { name: 'a' } }] });
    expect(list.items[0].type).toBe('Opaque');
  });

  it('is idempotent', () => {
    const d = defaulted({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { selector: {}, template: { spec: { serviceAccount: 'sa', containers: [{ name: 'c', image: 'c' }] } } },
    });
    expect(defaulted(d)).toEqual(d);
  });

  it('podTemplateDefaults works on a bare PodSpec', () => {
    const spec = { containers: [{ name: 'c', image: 'c:1', ports: [{ containerPort: 80 }] }] };
    podTemplateDefaults(spec);
    expect(spec).toEqual({
      containers: [
        {
          name: 'c',
          image: 'c:1',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          imagePullPolicy: 'IfNotPresent',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      ...DEFAULTED_POD_SPEC,
    });
  });
});
