import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import { podCgroupParent, relistRuntime } from './kubelet.js';

const pod = (resources?: object): Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'nginx', ...(resources ? { resources } : {}) }] },
});

describe('podCgroupParent', () => {
  it('puts pods below <cgroup-root>/kubepods by QoS class, Guaranteed directly', () => {
    expect(podCgroupParent('', pod())).toBe('/kubepods/besteffort/podu1');
    expect(podCgroupParent('/kubelab/n1/', pod({ requests: { cpu: '100m' } }))).toBe('/kubelab/n1/kubepods/burstable/podu1');
    const guaranteed = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
    expect(podCgroupParent('/kubelab/n1', pod(guaranteed))).toBe('/kubelab/n1/kubepods/podu1');
  });
});

describe('relistRuntime (the PLEG relist)', () => {
  it("groups sandboxes and containers by pod uid, with a signature that changes when a container's state does", async () => {
    const rt = new FakeRuntimeService();
    const labels = { 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default' };
    const sandboxConfig = { metadata: { name: 'web', uid: 'u1', namespace: 'default', attempt: 0 }, labels };
    const sb = await rt.runPodSandbox(sandboxConfig);
    const id = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'nginx' }, labels }, sandboxConfig);
    await rt.runPodSandbox({ metadata: { name: 'unlabelled', uid: '', namespace: 'x', attempt: 0 }, labels: {} });

    const first = await relistRuntime(rt);
    expect([...first.keys()]).toEqual(['u1']);
    expect(first.get('u1')).toMatchObject({ name: 'web', namespace: 'default' });
    expect(first.get('u1')!.signature).toContain(`c:${id}:CONTAINER_CREATED`);
    expect((await relistRuntime(rt)).get('u1')!.signature).toBe(first.get('u1')!.signature);

    await rt.startContainer(id);
    const second = await relistRuntime(rt);
    expect(second.get('u1')!.signature).not.toBe(first.get('u1')!.signature);
    expect(second.get('u1')!.signature).toContain(`c:${id}:CONTAINER_RUNNING`);
  });
});
