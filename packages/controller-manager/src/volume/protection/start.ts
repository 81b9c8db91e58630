// Start functions for the persistentvolumeclaim-protection-controller and persistentvolume-protection-controller
// (upstream's startPersistentVolumeClaimProtectionController and startPersistentVolumeProtectionController).
import { findResource, type KubeObject } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import { controllerLogger, type StartFunc } from '../../controller-context.js';
import { PVCProtectionController, PVProtectionController } from './protection-controllers.js';

const PODS = findResource('', 'v1', 'pods')!;

export const startPVCProtectionController: StartFunc = (ctx) => {
  const pvcs = findResource('', 'v1', 'persistentvolumeclaims');
  if (!pvcs) return undefined;
  const controller = new PVCProtectionController({
    claimInformer: ctx.informers.forResource(pvcs),
    podInformer: ctx.informers.forResource(PODS),
    updateClaim: (claim) => ctx.client.resource(pvcs, claim.metadata!.namespace).update(claim as KubeObject),
    listPods: async (ns) => (await ctx.client.resource(PODS, ns).list()).items as unknown as Pod[],
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'persistentvolumeclaim-protection-controller'),
  });
  return { controller, workers: 1 };
};

export const startPVProtectionController: StartFunc = (ctx) => {
  const pvs = findResource('', 'v1', 'persistentvolumes');
  if (!pvs) return undefined;
  const controller = new PVProtectionController({
    volumeInformer: ctx.informers.forResource(pvs),
    updateVolume: (pv) => ctx.client.resource(pvs).update(pv as KubeObject),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'persistentvolume-protection-controller'),
  });
  return { controller, workers: 1 };
};
