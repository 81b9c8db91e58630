import { describe, expect, it } from 'vitest';
import { isForbidden, isInvalid, type KubeObject } from '@kubelab/api';
import { PodSecurity, policyOf } from './pod-security.js';
import { evaluatePod, formatResults } from './pod-security-policy.js';
import { attrs, pod } from './testing.js';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }) as KubeObject;

function plugin(namespaces: KubeObject[], pods: KubeObject[] = []) {
  return new PodSecurity({ getNamespace: async (n) => namespaces.find((x) => x.metadata.name === n), listPods: async () => pods });
}

const RESTRICTED_OK = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};

describe('Pod Security Standards', () => {
  it('a default pod violates restricted the way upstream words it', () => {
    const p = pod('p');
    expect(formatResults(evaluatePod('restricted', p.metadata, p.spec))).toBe(
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(evaluatePod('baseline', p.metadata, p.spec)).toEqual([]);
    expect(evaluatePod('restricted', {}, RESTRICTED_OK as never)).toEqual([]);
  });

  it('baseline catches host namespaces, host paths and ports, privileged and added capabilities', () => {
    const spec = {
      hostNetwork: true,
      hostPID: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'CHOWN'] } } }],
    };
    expect(formatResults(evaluatePod('baseline', {}, spec as never))).toBe(
      'host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "h"), hostPort (container "c" uses hostPort 80), ' +
        'privileged (container "c" must not set securityContext.privileged=true), non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    );
  });

  it('reads levels and versions from namespace labels; invalid levels are errors evaluated as restricted', () => {
    expect(policyOf(undefined).policy.enforce).toEqual({ level: 'privileged', version: 'latest' });
    const { policy, errors } = policyOf({ 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.30', 'pod-security.kubernetes.io/warn': 'bogus' });
    expect(policy.enforce).toEqual({ level: 'baseline', version: 'v1.30' });
    expect(policy.warn.level).toBe('restricted');
    expect(errors.map((e) => e.field)).toEqual(['metadata.labels[pod-security.kubernetes.io/warn]']);
  });
});

describe('PodSecurity admission', () => {
  it('enforce rejects a privileged pod in a restricted namespace with 403', async () => {
    const p = plugin([ns('secure', { 'pod-security.kubernetes.io/enforce': 'restricted' })]);
    const priv = pod('x', { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] });
    const err = await p.validate(attrs('pods', 'CREATE', priv, { namespace: 'secure' })).catch((e) => e);
    expect(isForbidden(err)).toBe(true);
    expect(err.code).toBe(403);
    expect(err.message).toMatch(
      /^pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext\.privileged=true\), allowPrivilegeEscalation != false/,
    );
    await p.validate(attrs('pods', 'CREATE', pod('ok', RESTRICTED_OK as never), { namespace: 'secure' }));
  });

  it('warn admits the pod and returns a warning', async () => {
    const p = plugin([ns('w', { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.31' })]);
    const a = attrs('pods', 'CREATE', pod('x', { hostNetwork: true }), { namespace: 'w' });
    await p.validate(a);
    expect(a.warnings).toEqual(['would violate PodSecurity "baseline:v1.31": host namespaces (hostNetwork=true)']);
  });

  it('workloads only warn, and pod updates that do not touch the spec are not evaluated', async () => {
    const p = plugin([ns('secure', { 'pod-security.kubernetes.io/enforce': 'baseline' })]);
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { hostPID: true, containers: [{ name: 'c', image: 'x' }] } } } } as KubeObject;
    const a = attrs('deployments', 'CREATE', deploy, { group: 'apps', namespace: 'secure' });
    await p.validate(a);
    expect(a.warnings).toEqual(['would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)']);
    const bad = pod('x', { hostPID: true });
    const relabelled = { ...bad, metadata: { ...bad.metadata, labels: { a: 'b' } } };
    await p.validate(attrs('pods', 'UPDATE', relabelled, { namespace: 'secure', oldObject: bad }));
  });

  it('rejects invalid namespace labels and warns about existing pods when enforce tightens', async () => {
    const err = await plugin([]).validate(attrs('namespaces', 'CREATE', ns('n', { 'pod-security.kubernetes.io/enforce': 'strict' }))).catch((e) => e);
    expect(isInvalid(err)).toBe(true);
    const existing = [pod('a', { hostNetwork: true }), pod('b', { hostNetwork: true }), pod('c')];
    const a = attrs('namespaces', 'UPDATE', ns('default', { 'pod-security.kubernetes.io/enforce': 'baseline' }), { oldObject: ns('default') });
    await plugin([], existing).validate(a);
    expect(a.warnings).toEqual(['existing pods in namespace "default" violate the new PodSecurity enforce level "baseline:latest"', 'a (and 1 other pod): host namespaces']);
  });
});
