import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { notFound } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { MountError, VolumeManager } from './volume-manager.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A client with one ConfigMap and a TokenRequest endpoint that records its requests. */
function fakeClient(requests: { path: string; body: unknown }[]): RestClient {
  return {
    resource: (info: { resource: string }, ns: string) => ({
      get: async (name: string) => {
        if (info.resource === 'configmaps' && ns === 'shop' && name === 'kube-root-ca.crt') return { data: { 'ca.crt': 'CA PEM' } };
        throw notFound({ group: '', resource: info.resource }, name);
      },
    }),
    request: async (opts: { path: string; body: unknown }) => {
      requests.push(opts);
      return { status: { token: `token-${requests.length}` } };
    },
  } as unknown as RestClient;
}

function pod(volumes: NonNullable<Pod['spec']>['volumes']): Pod {
  return { metadata: { name: 'web', namespace: 'shop', uid: 'u1', labels: { app: 'web' } }, spec: { serviceAccountName: 'builder', containers: [], volumes } };
}

describe('VolumeManager', () => {
  it("writes the service account volume (token, CA, namespace), emptyDir and downward API, and removes them with the pod", async () => {
    const root = mkdtempSync(join(tmpdir(), 'kubelet-vol-'));
    dirs.push(root);
    const requests: { path: string; body: unknown }[] = [];
    const vm = new VolumeManager({ client: fakeClient(requests), rootDir: root });
    const p = pod([
      {
        name: 'kube-api-access-x',
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
      { name: 'scratch', emptyDir: {} },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
    ]);
    await vm.mountPod(p);
    const paths = vm.paths(p);
    const sa = paths.get('kube-api-access-x')!;
    expect(sa).toBe(join(root, 'pods/u1/volumes/kubernetes.io~projected/kube-api-access-x'));
    expect(readFileSync(join(sa, 'token'), 'utf8')).toBe('token-1');
    expect(readFileSync(join(sa, 'ca.crt'), 'utf8')).toBe('CA PEM');
    expect(readFileSync(join(sa, 'namespace'), 'utf8')).toBe('shop');
    expect(statSync(join(sa, 'token')).mode & 0o777).toBe(0o644);
    expect(requests[0]).toMatchObject({
      path: '/api/v1/namespaces/shop/serviceaccounts/builder/token',
      body: { kind: 'TokenRequest', spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'web', uid: 'u1' } } },
    });
    expect(existsSync(paths.get('scratch')!)).toBe(true);
    expect(readFileSync(join(paths.get('info')!, 'labels'), 'utf8')).toBe('app="web"');

    // A second sync reuses the token until 80% of its lifetime passed.
    await vm.mountPod(p);
    expect(requests).toHaveLength(1);

    await vm.unmountPod('u1');
    expect(existsSync(join(root, 'pods/u1'))).toBe(false);
    expect(vm.paths(p).size).toBe(0);
  });

  it("requests a projected volume's token and objects at once, and pods set up together share one GET of an object", async () => {
    const root = mkdtempSync(join(tmpdir(), 'kubelet-vol-'));
    dirs.push(root);
    const pending: { what: string; answer: () => void }[] = [];
    const client = {
      resource: (info: { resource: string }, ns: string) => ({
        get: (name: string) => new Promise((resolve) => pending.push({ what: `GET ${info.resource}/${ns}/${name}`, answer: () => resolve({ data: { 'ca.crt': 'CA PEM' } }) })),
      }),
      request: (opts: { path: string; body: { spec: { boundObjectRef: { name: string } } } }) =>
        new Promise((resolve) => pending.push({ what: `POST token for ${opts.body.spec.boundObjectRef.name}`, answer: () => resolve({ status: { token: 't' } }) })),
    } as unknown as RestClient;
    const vm = new VolumeManager({ client, rootDir: root });
    const access = (name: string, uid: string): Pod => ({
      ...pod([
        {
          name: 'kube-api-access-x',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] },
        },
      ]),
      metadata: { name, namespace: 'shop', uid },
    });
    const a = vm.mountPod(access('a', 'ua'));
    const b = vm.mountPod(access('b', 'ub'));
    for (let i = 0; i < 400 && pending.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(pending.map((p) => p.what).sort()).toEqual(['GET configmaps/shop/kube-root-ca.crt', 'POST token for a', 'POST token for b']);
    for (const p of pending.splice(0)) p.answer();
    await Promise.all([a, b]);
    expect(readFileSync(join(vm.paths(access('b', 'ub')).get('kube-api-access-x')!, 'ca.crt'), 'utf8')).toBe('CA PEM');
    // Done: the next setup asks again (the object may have changed).
    const c = vm.mountPod(access('c', 'uc'));
    for (let i = 0; i < 400 && pending.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(pending.map((p) => p.what).sort()).toEqual(['GET configmaps/shop/kube-root-ca.crt', 'POST token for c']);
    for (const p of pending.splice(0)) p.answer();
    await c;
  });

  it('fails the mount when a ConfigMap the pod needs does not exist, unless it is optional', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kubelet-vol-'));
    dirs.push(root);
    const vm = new VolumeManager({ client: fakeClient([]), rootDir: root });
    const missing = pod([{ name: 'cfg', configMap: { name: 'missing' } }]);
    await expect(vm.mountPod(missing)).rejects.toThrow(new MountError('MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found'));
    await vm.mountPod(pod([{ name: 'cfg', configMap: { name: 'missing', optional: true } }]));
  });

  it('mounts a bound claim\'s hostPath volume (created when missing), waits for an unbound one, and keeps the data after the pod', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kubelet-vol-'));
    dirs.push(root);
    const dir = join(root, 'local-path', 'pvc-1');
    const objects: Record<string, object> = {
      'persistentvolumeclaims/data': { metadata: { name: 'data', uid: 'c1' }, spec: { volumeName: 'pvc-1' }, status: { phase: 'Bound' } },
      'persistentvolumeclaims/pending': { metadata: { name: 'pending', uid: 'c2' }, spec: {}, status: { phase: 'Pending' } },
      'persistentvolumes/pvc-1': { metadata: { name: 'pvc-1' }, spec: { claimRef: { uid: 'c1' }, hostPath: { path: dir, type: 'DirectoryOrCreate' } } },
    };
    const client = {
      resource: (info: { resource: string }) => ({
        get: async (name: string) => {
          const o = objects[`${info.resource}/${name}`];
          if (!o) throw notFound({ group: '', resource: info.resource }, name);
          return o;
        },
      }),
    } as unknown as RestClient;
    const vm = new VolumeManager({ client, rootDir: root });
    const p = pod([{ name: 'www', persistentVolumeClaim: { claimName: 'data' } }]);
    await vm.mountPod(p);
    expect(vm.paths(p).get('www')).toBe(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    writeFileSync(join(dir, 'index.html'), 'kept');
    await vm.unmountPod('u1');
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('kept');

    await expect(vm.mountPod(pod([{ name: 'www', persistentVolumeClaim: { claimName: 'pending' } }]))).rejects.toThrow(new MountError('error processing PVC shop/pending: PVC is not bound'));
    await expect(vm.mountPod(pod([{ name: 'www', persistentVolumeClaim: { claimName: 'nope' } }]))).rejects.toThrow(
      new MountError('MountVolume.SetUp failed for volume "www" : persistentvolumeclaim "nope" not found'),
    );
  });
});
