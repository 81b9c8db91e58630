// Start function for the persistentvolume-binder-controller (upstream's startPersistentVolueBinderController),
// with Kubelab's local-path provisioner as its in-tree dynamic provisioner.
import { findResource, isNotFound, type KubeObject } from '@kubelab/api';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { controllerLogger, type StartFunc } from '../../controller-context.js';
import { apiLocalPathClient, LocalPathProvisioner } from './local-path.js';
import { PersistentVolumeController } from './pv-controller.js';

const R = {
  persistentvolumes: findResource('', 'v1', 'persistentvolumes'),
  persistentvolumeclaims: findResource('', 'v1', 'persistentvolumeclaims'),
  storageclasses: findResource('storage.k8s.io', 'v1', 'storageclasses'),
  nodes: findResource('', 'v1', 'nodes')!,
  pods: findResource('', 'v1', 'pods')!,
};

/** Upstream's --concurrent-... has no flag for the binder: one worker per queue. */
const WORKERS = 1;

export const startPersistentVolumeBinderController: StartFunc = (ctx) => {
  const { persistentvolumes: pvs, persistentvolumeclaims: pvcs, storageclasses: classes } = R;
  if (!pvs || !pvcs || !classes) return undefined;
  const api = {
    get: (resource: 'nodes' | 'pods', ns: string, name: string) => ctx.client.resource(R[resource], ns || undefined).get(name),
    create: (resource: 'pods', ns: string, obj: KubeObject) => ctx.client.resource(R[resource], ns).create(obj),
    delete: (resource: 'pods', ns: string, name: string) => ctx.client.resource(R[resource], ns).delete(name),
  };
  const controller = new PersistentVolumeController({
    volumeInformer: ctx.informers.forResource(pvs),
    claimInformer: ctx.informers.forResource(pvcs),
    classInformer: ctx.informers.forResource(classes),
    client: {
      createVolume: async (pv) => (await ctx.client.resource(pvs).create(pv as KubeObject)) as unknown as PersistentVolume,
      updateVolume: async (pv) => (await ctx.client.resource(pvs).update(pv as KubeObject)) as unknown as PersistentVolume,
      updateVolumeStatus: async (pv) => (await ctx.client.resource(pvs).updateStatus(pv as KubeObject)) as unknown as PersistentVolume,
      deleteVolume: async (name) => {
        await ctx.client.resource(pvs).delete(name);
      },
      updateClaim: async (pvc) => (await ctx.client.resource(pvcs, pvc.metadata!.namespace).update(pvc as KubeObject)) as unknown as PersistentVolumeClaim,
      updateClaimStatus: async (pvc) => (await ctx.client.resource(pvcs, pvc.metadata!.namespace).updateStatus(pvc as KubeObject)) as unknown as PersistentVolumeClaim,
      getClaim: async (ns, name) => {
        try {
          return (await ctx.client.resource(pvcs, ns).get(name)) as unknown as PersistentVolumeClaim;
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    },
    plugins: [new LocalPathProvisioner(apiLocalPathClient(api), { clock: ctx.clock })],
    recorder: ctx.eventBroadcaster.newRecorder({ component: 'persistentvolume-controller' }),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'persistentvolume-binder-controller'),
  });
  return { controller, workers: WORKERS };
};
