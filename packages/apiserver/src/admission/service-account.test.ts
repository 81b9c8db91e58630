import { describe, expect, it } from 'vitest';
import { isForbidden, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import { DEFAULT_API_TOKEN_MOUNT_PATH, ServiceAccountAdmission } from './service-account.js';
import { attrs, pod } from './testing.js';

const sa = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'default' }, ...extra }) as KubeObject;

function plugin(accounts: KubeObject[]) {
  return new ServiceAccountAdmission(async (ns, name) => accounts.find((a) => a.metadata.name === name && a.metadata.namespace === ns));
}

describe('ServiceAccount admission', () => {
  it('defaults serviceAccountName and mounts the projected token volume in every container', async () => {
    const p = pod('p', { initContainers: [{ name: 'init', image: 'busybox' }] });
    const a = attrs('pods', 'CREATE', p);
    await plugin([sa('default')]).admit(a);
    const spec = (a.object as unknown as Pod).spec!;
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.volumes).toHaveLength(1);
    const vol = spec.volumes![0];
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    for (const c of [...spec.initContainers!, ...spec.containers]) {
      expect(c.volumeMounts).toEqual([{ name: vol.name, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }]);
    }
  });

  it('rejects a pod whose service account does not exist, with upstream message', async () => {
    const a = attrs('pods', 'CREATE', pod('p', { serviceAccountName: 'robot' }));
    const err = await plugin([sa('default')]).admit(a).catch((e) => e);
    expect(isForbidden(err)).toBe(true);
    expect(err.message).toBe('pods "p" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found');
  });

  it('does not mount when the pod or the service account opts out', async () => {
    const a1 = attrs('pods', 'CREATE', pod('p', { automountServiceAccountToken: false }));
    await plugin([sa('default')]).admit(a1);
    expect((a1.object as unknown as Pod).spec!.volumes).toBeUndefined();
    const a2 = attrs('pods', 'CREATE', pod('p'));
    await plugin([sa('default', { automountServiceAccountToken: false })]).admit(a2);
    expect((a2.object as unknown as Pod).spec!.volumes).toBeUndefined();
    // The pod's own setting wins over the service account's.
    const a3 = attrs('pods', 'CREATE', pod('p', { automountServiceAccountToken: true }));
    await plugin([sa('default', { automountServiceAccountToken: false })]).admit(a3);
    expect((a3.object as unknown as Pod).spec!.volumes).toHaveLength(1);
  });

  it('keeps a container mount of its own at the token path, and copies imagePullSecrets', async () => {
    const p = pod('p', {
      containers: [
        { name: 'own', image: 'x', volumeMounts: [{ name: 'mine', mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }] },
        { name: 'other', image: 'x' },
      ],
      volumes: [{ name: 'mine', emptyDir: {} }],
    });
    const a = attrs('pods', 'CREATE', p);
    await plugin([sa('default', { imagePullSecrets: [{ name: 'regcred' }] })]).admit(a);
    const spec = (a.object as unknown as Pod).spec!;
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'mine', mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }]);
    expect(spec.containers[1].volumeMounts![0].name).toMatch(/^kube-api-access-/);
    expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
  });

  it('leaves other resources, updates and mirror pods alone', async () => {
    const p = plugin([]);
    await p.admit(attrs('configmaps', 'CREATE', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } as KubeObject));
    await p.admit(attrs('pods', 'UPDATE', pod('p'), { oldObject: pod('p') }));
    const mirror = attrs('pods', 'CREATE', pod('m', {}, { annotations: { 'kubernetes.io/config.mirror': 'abc' } }));
    await p.admit(mirror);
    expect((mirror.object as unknown as Pod).spec!.serviceAccountName).toBeUndefined();
  });
});
