import { describe, expect, it } from 'vitest';
import { StatusError, conflict, isForbidden, type KubeObject } from '@kubelab/api';
import { ResourceQuotaAdmission } from './resource-quota.js';
import { attrs, pod } from './testing.js';

const quota = (name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'default', resourceVersion: '1' }, spec: { hard, ...extra } }) as KubeObject;

function fixture(quotas: KubeObject[], objects: Record<string, KubeObject[]> = {}) {
  const writes: { name: string; status: unknown }[] = [];
  let conflicts = 0;
  const plugin = new ResourceQuotaAdmission({
    listQuotas: async () => quotas,
    listObjects: async (group, resource) => objects[`${group}/${resource}`] ?? [],
    updateQuotaStatus: async (_ns, name, rv, status) => {
      const q = quotas.find((x) => x.metadata.name === name)!;
      if (conflicts > 0) {
        conflicts--;
        q.metadata.resourceVersion = String(Number(q.metadata.resourceVersion) + 1);
      }
      if (q.metadata.resourceVersion !== rv) throw conflict({ group: '', resource: 'resourcequotas' }, name, 'changed');
      q.metadata.resourceVersion = String(Number(rv) + 1);
      q.status = status as KubeObject['status'];
      writes.push({ name, status });
    },
  });
  return { plugin, writes, conflictNext: (n: number) => (conflicts = n) };
}

const withCpu = (name: string, cpu: string, memory = '64Mi') => pod(name, { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory }, limits: { cpu, memory } } }] });

describe('ResourceQuota admission', () => {
  it('rejects the pod that exceeds a count with upstream message', async () => {
    const { plugin } = fixture([quota('q', { pods: '2' })], { '/pods': [pod('a'), pod('b')] });
    const err = await plugin.validate(attrs('pods', 'CREATE', pod('c'))).catch((e) => e);
    expect(isForbidden(err)).toBe(true);
    expect(err.code).toBe(403);
    expect(err.message).toBe('pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
  });

  it('charges status.used (and copies spec.hard) when the create fits; a dry run does not', async () => {
    const { plugin, writes } = fixture([quota('q', { pods: '5', 'requests.cpu': '1', 'count/configmaps': '3' })], { '/pods': [withCpu('a', '300m')] });
    await plugin.validate(attrs('pods', 'CREATE', withCpu('b', '200m'), { dryRun: true }));
    expect(writes).toEqual([]);
    await plugin.validate(attrs('pods', 'CREATE', withCpu('b', '200m')));
    expect(writes).toEqual([{ name: 'q', status: { hard: { pods: '5', 'requests.cpu': '1', 'count/configmaps': '3' }, used: { 'count/configmaps': '0', pods: '2', 'requests.cpu': '500m' } } }]);
    // The charge for b counts until the cache shows b.
    const err = await plugin.validate(attrs('pods', 'CREATE', withCpu('c', '600m'))).catch((e) => e);
    expect(err.message).toBe('pods "c" is forbidden: exceeded quota: q, requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1');
  });

  it('requires compute resources the quota tracks', async () => {
    const { plugin } = fixture([quota('compute', { 'limits.cpu': '2', 'requests.memory': '1Gi' })]);
    const err = await plugin.validate(attrs('pods', 'CREATE', pod('p'))).catch((e) => e);
    expect(err.message).toBe('pods "p" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.memory for: c');
  });

  it('retries the charge on a conflict, and ignores quotas that track nothing the object uses', async () => {
    const f = fixture([quota('q', { configmaps: '1' }), quota('pods-only', { pods: '1' })]);
    f.conflictNext(1);
    await f.plugin.validate(attrs('configmaps', 'CREATE', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } } as KubeObject));
    expect(f.writes.map((w) => w.name)).toEqual(['q']);
    const again = await f.plugin.validate(attrs('configmaps', 'CREATE', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm2' } } as KubeObject)).catch((e) => e);
    expect(again).toBeInstanceOf(StatusError);
    expect(again.message).toBe('configmaps "cm2" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1');
  });

  it('does not count finished pods, and scoped quotas only select matching pods', async () => {
    const done = pod('done', {}, {});
    (done as { status?: unknown }).status = { phase: 'Succeeded' };
    const { plugin, writes } = fixture([quota('be', { pods: '1' }, { scopes: ['BestEffort'] })], { '/pods': [done, withCpu('burst', '100m')] });
    // Neither the finished pod nor the Burstable one uses the BestEffort quota: a BestEffort pod still fits.
    await plugin.validate(attrs('pods', 'CREATE', pod('p')));
    expect(writes).toEqual([{ name: 'be', status: expect.objectContaining({ used: { pods: '1' } }) }]);
    // A pod outside the scope is not charged to it at all.
    await plugin.validate(attrs('pods', 'CREATE', withCpu('q', '1')));
    expect(writes).toHaveLength(1);
  });
});
