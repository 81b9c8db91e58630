// Admission with real kubectl against a real apiserver: service accounts and their token volume,
// LimitRange defaults, quota, Pod Security, and namespace lifecycle, with upstream's messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

/** A namespace with its default service account (what the controller-manager would create). */
async function namespace(name: string, labels: Record<string, string> = {}) {
  expect((await k(['create', 'namespace', name])).code).toBe(0);
  if (Object.keys(labels).length) {
    const r = await k(['label', 'namespace', name, ...Object.entries(labels).map(([a, b]) => `${a}=${b}`)]);
    expect(r.code, r.stderr).toBe(0);
  }
  expect((await k(['create', 'serviceaccount', 'default', '-n', name])).code).toBe(0);
}

const podYaml = (name: string, ns: string, containerExtra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
  - name: app
    image: nginx:1.25
${containerExtra}`;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, serviceAccountAdmission: true });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('ServiceAccount', () => {
  it('gives a pod the default service account and its projected token volume', async () => {
    await namespace('adm-sa');
    expect((await k(['run', 'web', '--image=nginx:1.25', '-n', 'adm-sa'])).stdout.trim()).toBe('pod/web created');
    const pod = JSON.parse((await k(['get', 'pod', 'web', '-n', 'adm-sa', '-o', 'json'])).stdout);
    expect(pod.spec.serviceAccountName).toBe('default');
    expect(pod.spec.volumes).toHaveLength(1);
    const vol = pod.spec.volumes[0];
    expect(vol.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(vol.projected.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    // DefaultTolerationSeconds and Priority ran too.
    expect(pod.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    expect(pod.spec.priority).toBe(0);
  });

  it('rejects a pod whose service account does not exist', async () => {
    const r = await k(['run', 'lost', '--image=nginx:1.25', '-n', 'adm-sa', '--overrides={"spec":{"serviceAccountName":"robot"}}']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods "lost" is forbidden: error looking up service account adm-sa/robot: serviceaccount "robot" not found');
  });
});

describe('LimitRanger', () => {
  it('applies LimitRange defaults and rejects what exceeds max', async () => {
    await namespace('adm-limits');
    const lr = `apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
  namespace: adm-limits
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
    max: {cpu: "1"}
`;
    expect((await k(['create', '-f', '-'], lr)).stdout.trim()).toBe('limitrange/defaults created');
    expect((await k(['run', 'sized', '--image=nginx:1.25', '-n', 'adm-limits'])).code).toBe(0);
    const resources = JSON.parse((await k(['get', 'pod', 'sized', '-n', 'adm-limits', '-o', 'jsonpath={.spec.containers[0].resources}'])).stdout);
    expect(resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    const big = await k(['create', '-f', '-'], podYaml('big', 'adm-limits', '    resources:\n      limits: {cpu: "2"}\n'));
    expect(big.stderr.trim()).toBe('Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });
});

describe('ResourceQuota', () => {
  it('counts pods in status.used and refuses the one over the limit with 403', async () => {
    await namespace('adm-quota');
    expect((await k(['create', 'quota', 'q', '--hard=pods=2,configmaps=5', '-n', 'adm-quota'])).stdout.trim()).toBe('resourcequota/q created');
    expect((await k(['run', 'p1', '--image=nginx:1.25', '-n', 'adm-quota'])).code).toBe(0);
    expect((await k(['run', 'p2', '--image=nginx:1.25', '-n', 'adm-quota'])).code).toBe(0);
    const r = await k(['run', 'p3', '--image=nginx:1.25', '-n', 'adm-quota']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    const status = JSON.parse((await k(['get', 'quota', 'q', '-n', 'adm-quota', '-o', 'jsonpath={.status}'])).stdout);
    expect(status).toEqual({ hard: { pods: '2', configmaps: '5' }, used: { pods: '2', configmaps: '0' } });
    // Deleting a pod frees its share.
    expect((await k(['delete', 'pod', 'p1', '-n', 'adm-quota', '--grace-period=0', '--force'])).code).toBe(0);
    let created = false;
    for (let i = 0; i < 50 && !created; i++) {
      created = (await k(['run', 'p3', '--image=nginx:1.25', '-n', 'adm-quota'])).code === 0;
      if (!created) await new Promise((res) => setTimeout(res, 100));
    }
    expect(created).toBe(true);
  });
});

describe('PodSecurity', () => {
  it('a restricted namespace rejects a privileged pod', async () => {
    await namespace('adm-restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const r = await k(['create', '-f', '-'], podYaml('priv', 'adm-restricted', '    securityContext:\n      privileged: true\n'));
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "restricted:latest": ' +
        'privileged (container "app" must not set securityContext.privileged=true), ' +
        'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const ok = `apiVersion: v1
kind: Pod
metadata:
  name: hardened
  namespace: adm-restricted
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: nginx:1.25
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;
    expect((await k(['create', '-f', '-'], ok)).stdout.trim()).toBe('pod/hardened created');
  });

  it('warn mode admits the pod with a Warning', async () => {
    await namespace('adm-warn', { 'pod-security.kubernetes.io/warn': 'baseline' });
    const r = await k(['run', 'hostnet', '--image=nginx:1.25', '-n', 'adm-warn', '--overrides={"spec":{"hostNetwork":true}}']);
    expect(r.stdout.trim()).toBe('pod/hostnet created');
    expect(r.stderr).toContain('Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)');
  });
});

describe('NamespaceLifecycle', () => {
  it('refuses new content in a terminating namespace', async () => {
    await namespace('adm-gone');
    expect((await k(['run', 'keep', '--image=nginx:1.25', '-n', 'adm-gone'])).code).toBe(0);
    expect((await k(['delete', 'namespace', 'adm-gone', '--wait=false'])).code).toBe(0);
    const r = await k(['create', 'configmap', 'late', '-n', 'adm-gone']);
    expect(r.stderr.trim()).toBe('error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace adm-gone because it is being terminated');
  });
});
