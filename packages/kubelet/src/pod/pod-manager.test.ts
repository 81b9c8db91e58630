import { describe, expect, it } from 'vitest';
import { alreadyExists, isNotFound } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { Pod } from 'kubernetes-types/core/v1';
import { decodeStaticPod } from '../config/file.js';
import type { PodStatusClient } from '../status/status-manager.js';
import { isMirrorPodOf, MirrorClient, mirrorPodFor } from './mirror-client.js';
import { PodManager } from './pod-manager.js';

const NODE = 'n1';
const staticPod = (image = 'nginx'): Pod => {
  const p = decodeStaticPod(`apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: ${image}}]}\n`, '/m/web.yaml', NODE);
  p.metadata!.annotations = { ...p.metadata!.annotations, 'kubernetes.io/config.source': 'file' };
  return p;
};

/** An apiserver of pods in memory behind the two RestClient calls the mirror client makes. */
function fakeAPI() {
  const pods = new Map<string, Pod>();
  const calls: string[] = [];
  let n = 0;
  const client = {
    resource: (_info: unknown, ns: string) => ({
      async create(obj: Pod) {
        const key = `${ns}/${obj.metadata?.name}`;
        calls.push(`create ${key}`);
        if (pods.has(key)) throw alreadyExists({ group: '', resource: 'pods' }, obj.metadata?.name ?? '');
        const created = { ...obj, metadata: { ...obj.metadata, uid: `api-uid-${++n}` }, status: { phase: 'Pending' } } as Pod;
        pods.set(key, created);
        return created;
      },
      async get(name: string) {
        return pods.get(`${ns}/${name}`);
      },
      async delete(name: string, opts: { preconditions?: { uid?: string } }) {
        calls.push(`delete ${ns}/${name} ${opts.preconditions?.uid ?? ''}`);
        pods.delete(`${ns}/${name}`);
        return {};
      },
    }),
  } as unknown as RestClient;
  return { pods, calls, client };
}

function setup(nodeUID: () => string | undefined = () => 'node-uid') {
  const api = fakeAPI();
  const created: Array<[Pod, Pod]> = [];
  const manager = new PodManager({
    apiPods: () => [...api.pods.values()],
    apiPod: (ns, name) => api.pods.get(`${ns}/${name}`),
    mirrorClient: new MirrorClient({ client: api.client, nodeName: NODE, nodeUID }),
    onMirrorPodCreated: async (pod, mirror) => void created.push([pod, mirror]),
  });
  return { api, manager, created };
}

describe('mirror pods', () => {
  it('are the static pod with the mirror annotation and a controller reference to the Node, without the static uid', () => {
    const pod = staticPod();
    const mirror = mirrorPodFor(pod, { name: NODE, uid: 'node-uid' });
    expect(mirror.metadata).toMatchObject({
      name: 'web-n1',
      namespace: 'default',
      annotations: { 'kubernetes.io/config.mirror': pod.metadata!.uid, 'kubernetes.io/config.hash': pod.metadata!.uid, 'kubernetes.io/config.source': 'file' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: 'node-uid', controller: true }],
    });
    expect(mirror.metadata!.uid).toBeUndefined();
    expect(mirror.spec).toEqual(pod.spec);
    expect(isMirrorPodOf({ ...mirror, metadata: { ...mirror.metadata, uid: 'x' } }, pod)).toBe(true);
    expect(isMirrorPodOf(mirror, staticPod('busybox'))).toBe(false);
  });

  it('a missing mirror is created, an outdated one replaced (uid precondition), one being deleted recreated', async () => {
    const { api, manager, created } = setup();
    const pod = staticPod();
    manager.setStaticPods([pod]);
    await manager.syncMirrorPod(pod);
    expect(api.calls).toEqual(['create default/web-n1']);
    expect(created.map(([p, m]) => [p.metadata!.uid, m.metadata!.uid])).toEqual([[pod.metadata!.uid, 'api-uid-1']]);
    await manager.syncMirrorPod(pod);
    expect(api.calls).toHaveLength(1);

    const edited = staticPod('busybox');
    manager.setStaticPods([edited]);
    await manager.syncMirrorPod(edited);
    expect(api.calls.slice(1)).toEqual(['delete default/web-n1 api-uid-1', 'create default/web-n1']);

    const current = api.pods.get('default/web-n1')!;
    api.pods.set('default/web-n1', { ...current, metadata: { ...current.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    await manager.syncMirrorPod(edited);
    expect(api.calls.slice(3)).toEqual(['delete default/web-n1 api-uid-2', 'create default/web-n1']);
    expect(api.pods.get('default/web-n1')!.metadata!.uid).toBe('api-uid-3');
  });

  it('cannot be made before the Node exists', async () => {
    const { api, manager } = setup(() => undefined);
    const pod = staticPod();
    manager.setStaticPods([pod]);
    await expect(manager.syncMirrorPod(pod)).rejects.toThrow('failed to get node UID: node "n1" not found');
    expect(api.pods.size).toBe(0);
    expect(manager.staticPodsWithoutMirror()).toEqual([pod]);
  });

  it('the kubelet sees static pods, not mirrors; a mirror without its static pod is orphaned', async () => {
    const { api, manager } = setup();
    const pod = staticPod();
    manager.setStaticPods([pod]);
    await manager.syncMirrorPod(pod);
    api.pods.set('default/api-pod', { metadata: { name: 'api-pod', namespace: 'default', uid: 'a1' }, spec: { containers: [] } });
    expect(manager.getPods().map((p) => p.metadata!.uid)).toEqual(['a1', pod.metadata!.uid]);
    expect(manager.getPodByUID('api-uid-1')).toBeUndefined();
    expect(manager.getPodByMirrorPod(api.pods.get('default/web-n1')!)).toBe(pod);
    expect(manager.orphanedMirrorPods()).toEqual([]);
    expect(manager.setStaticPods([])).toEqual({ added: [], removed: [pod] });
    expect(manager.orphanedMirrorPods().map((p) => p.metadata!.name)).toEqual(['web-n1']);
  });

  it("writes a static pod's status to its mirror pod with the mirror's uid, and nowhere without one", async () => {
    const { manager } = setup();
    const patches: Array<[string, Record<string, unknown>]> = [];
    const inner: PodStatusClient = {
      patchStatus: async (_ns, name, patch) => {
        patches.push([name, patch]);
        return {} as Pod;
      },
      deletePod: async () => {},
    };
    const client = manager.statusClient(inner);
    const pod = staticPod();
    manager.setStaticPods([pod]);
    const err = await client.patchStatus('default', 'web-n1', { metadata: { uid: pod.metadata!.uid }, status: { phase: 'Running' } }).catch((e) => e);
    expect(isNotFound(err)).toBe(true);
    await manager.syncMirrorPod(pod);
    await client.patchStatus('default', 'web-n1', { metadata: { uid: pod.metadata!.uid }, status: { phase: 'Running' } });
    // An API pod's status goes through unchanged.
    await client.patchStatus('default', 'api-pod', { metadata: { uid: 'a1' }, status: { phase: 'Running' } });
    expect(patches).toEqual([
      ['web-n1', { metadata: { uid: 'api-uid-1' }, status: { phase: 'Running' } }],
      ['api-pod', { metadata: { uid: 'a1' }, status: { phase: 'Running' } }],
    ]);
    // Removed from the file but still stopping: its last statuses still reach the mirror.
    manager.setStaticPods([]);
    await client.patchStatus('default', 'web-n1', { metadata: { uid: pod.metadata!.uid }, status: { phase: 'Succeeded' } });
    expect(patches.at(-1)).toEqual(['web-n1', { metadata: { uid: 'api-uid-1' }, status: { phase: 'Succeeded' } }]);
  });
});
