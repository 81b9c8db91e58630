import { describe, expect, it } from 'vitest';
import { isForbidden, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import { LimitRanger } from './limit-ranger.js';
import { attrs, pod } from './testing.js';

const lr = (limits: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits } }) as KubeObject;
const plugin = (ranges: KubeObject[]) => new LimitRanger({ listLimitRanges: async () => ranges });

describe('LimitRanger', () => {
  it('sets default requests and limits and records them in the annotation', async () => {
    const ranges = [lr([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }])];
    const p = pod('p', { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', resources: { limits: { cpu: '1' }, requests: { cpu: '1' } } }] });
    const a = attrs('pods', 'CREATE', p);
    await plugin(ranges).admit(a);
    const out = a.object as unknown as Pod;
    expect(out.spec!.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    expect(out.spec!.containers[1].resources).toEqual({ limits: { cpu: '1', memory: '256Mi' }, requests: { cpu: '1', memory: '128Mi' } });
    expect(out.metadata!.annotations!['kubernetes.io/limit-ranger']).toBe(
      'LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; memory request for container b; memory limit for container b',
    );
    await plugin(ranges).validate(a);
  });

  it('rejects requests under min and limits over max with upstream messages', async () => {
    const ranges = [lr([{ type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' } }])];
    const p = pod('p', { containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '50m', memory: '1Gi' }, limits: { cpu: '50m', memory: '2Gi' } } }] });
    const err = await plugin(ranges).validate(attrs('pods', 'CREATE', p)).catch((e) => e);
    expect(isForbidden(err)).toBe(true);
    expect(err.message).toBe('pods "p" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]');
    const one = pod('q', { containers: [{ name: 'a', image: 'x' }] });
    const err2 = await plugin([lr([{ type: 'Container', max: { cpu: '1' } }])]).validate(attrs('pods', 'CREATE', one)).catch((e) => e);
    expect(err2.message).toBe('pods "q" is forbidden: maximum cpu usage per Container is 1.  No limit is specified');
  });

  it('enforces maxLimitRequestRatio and per-Pod totals', async () => {
    const ratio = [lr([{ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }])];
    const p = pod('p', { containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m' }, limits: { cpu: '400m' } } }] });
    const err = await plugin(ratio).validate(attrs('pods', 'CREATE', p)).catch((e) => e);
    expect(err.message).toBe('pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000');
    const podMax = [lr([{ type: 'Pod', max: { cpu: '1' } }])];
    const two = pod('p', {
      containers: [
        { name: 'a', image: 'x', resources: { requests: { cpu: '600m' }, limits: { cpu: '600m' } } },
        { name: 'b', image: 'x', resources: { requests: { cpu: '600m' }, limits: { cpu: '600m' } } },
      ],
    });
    const err2 = await plugin(podMax).validate(attrs('pods', 'CREATE', two)).catch((e) => e);
    expect(err2.message).toBe('pods "p" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m');
  });

  it('checks PersistentVolumeClaim storage', async () => {
    const ranges = [lr([{ type: 'PersistentVolumeClaim', max: { storage: '2Gi' } }])];
    const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { resources: { requests: { storage: '5Gi' } } } } as KubeObject;
    const err = await plugin(ranges).validate(attrs('persistentvolumeclaims', 'CREATE', pvc)).catch((e) => e);
    expect(err.message).toBe('persistentvolumeclaims "c" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi');
  });
});
