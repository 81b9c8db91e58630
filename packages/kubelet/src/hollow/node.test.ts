import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../config.js';
import { hollowKubeletDeps, hollowVolumes } from './node.js';

describe('hollow kubelet selection', () => {
  it('--kubelab-hollow selects the hollow runtime; off by default', () => {
    expect(configFromFlags(['--kubeconfig=/k.conf']).hollow).toBe(false);
    expect(configFromFlags(['--kubeconfig=/k.conf', '--kubelab-hollow']).hollow).toBe(true);
  });

  it('replaces everything taken from the host: runtime, machine, stats, volumes, log dirs, the HTTPS API', async () => {
    const deps = hollowKubeletDeps(configFromFlags(['--kubeconfig=/k.conf', '--hostname-override=hollow-7', '--kubelab-hollow']), { fallbackCIDR: '100.96.7.0/24' });
    expect((await deps.runtime.version()).runtimeName).toBe('hollow');
    expect(deps.runtime.podCIDR()).toBe('100.96.7.0/24');
    expect((await deps.images.listImages()).map((i) => i.repoTags[0])).toEqual(['registry.k8s.io/pause:3.10']);
    expect(deps.machineInfo).toMatchObject({ numCores: 4, memoryCapacityBytes: 16 * 1024 ** 3 });
    expect(deps.serveAPI).toBe(false);
    expect(deps.volumes).toBe(hollowVolumes);
    expect(hollowVolumes.paths({ metadata: { uid: 'u1' } }).size).toBe(0);
  });
});
