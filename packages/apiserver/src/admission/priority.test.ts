import { describe, expect, it } from 'vitest';
import { isForbidden, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import { PriorityAdmission } from './priority.js';
import { attrs, pod } from './testing.js';

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra }) as KubeObject;

const plugin = (classes: KubeObject[]) => new PriorityAdmission({ listPriorityClasses: async () => classes });
const specOf = (o: KubeObject | null) => (o as unknown as Pod).spec!;

describe('Priority admission', () => {
  it('resolves a named class to priority and preemptionPolicy', async () => {
    const a = attrs('pods', 'CREATE', pod('p', { priorityClassName: 'high' }));
    await plugin([pc('high', 1000, { preemptionPolicy: 'Never' })]).admit(a);
    expect(specOf(a.object)).toMatchObject({ priority: 1000, preemptionPolicy: 'Never', priorityClassName: 'high' });
  });

  it('knows the built-in system classes', async () => {
    const node = attrs('pods', 'CREATE', pod('p', { priorityClassName: 'system-node-critical' }));
    const cluster = attrs('pods', 'CREATE', pod('q', { priorityClassName: 'system-cluster-critical' }));
    await plugin([]).admit(node);
    await plugin([]).admit(cluster);
    expect(specOf(node.object).priority).toBe(2000001000);
    expect(specOf(cluster.object).priority).toBe(2000000000);
  });

  it('applies the globalDefault class, else priority 0', async () => {
    const a = attrs('pods', 'CREATE', pod('p'));
    await plugin([pc('low', 10), pc('dflt', 500, { globalDefault: true })]).admit(a);
    expect(specOf(a.object)).toMatchObject({ priority: 500, priorityClassName: 'dflt', preemptionPolicy: 'PreemptLowerPriority' });
    const b = attrs('pods', 'CREATE', pod('p'));
    await plugin([pc('low', 10)]).admit(b);
    expect(specOf(b.object).priority).toBe(0);
    expect(specOf(b.object).priorityClassName).toBeUndefined();
  });

  it('rejects an unknown class and a conflicting explicit priority', async () => {
    const err = await plugin([]).admit(attrs('pods', 'CREATE', pod('p', { priorityClassName: 'nope' }))).catch((e) => e);
    expect(isForbidden(err)).toBe(true);
    expect(err.message).toBe('pods "p" is forbidden: no PriorityClass with name nope was found');
    const err2 = await plugin([pc('high', 1000)]).admit(attrs('pods', 'CREATE', pod('p', { priorityClassName: 'high', priority: 5 }))).catch((e) => e);
    expect(err2.message).toBe(
      'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    );
  });

  it('allows only one globalDefault PriorityClass', async () => {
    const p = plugin([pc('dflt', 500, { globalDefault: true })]);
    const a = attrs('priorityclasses', 'CREATE', pc('another', 1, { globalDefault: true }), { group: 'scheduling.k8s.io' });
    const err = await p.validate(a).catch((e) => e);
    expect(err.message).toBe('priorityclasses.scheduling.k8s.io "another" is forbidden: PriorityClass dflt is already marked as default. Only one default can exist');
    await p.validate(attrs('priorityclasses', 'UPDATE', pc('dflt', 600, { globalDefault: true }), { group: 'scheduling.k8s.io' }));
  });
});
