// Start function for the statefulset-controller.
import { findResource, type KubeObject } from '@kubelab/api';
import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { recheckOwner } from '../controller-utils.js';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ApiPodWriter } from '../history/pod-writer.js';
import { apiHistoryClient } from '../history/controller-history.js';
import { StatefulSetController } from './statefulset-controller.js';

const R = {
  controllerrevisions: findResource('apps', 'v1', 'controllerrevisions')!,
  pods: findResource('', 'v1', 'pods')!,
  persistentvolumeclaims: findResource('', 'v1', 'persistentvolumeclaims'),
  statefulsets: findResource('apps', 'v1', 'statefulsets')!,
};

/** Upstream's --concurrent-statefulset-syncs default. */
const STATEFULSET_WORKERS = 5;

export const startStatefulSetController: StartFunc = (ctx) => {
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'statefulset-controller' });
  const controller = new StatefulSetController({
    setInformer: ctx.informers.forResource(R.statefulsets),
    podInformer: ctx.informers.forResource(R.pods),
    revisionInformer: ctx.informers.forResource(R.controllerrevisions),
    pods: new ApiPodWriter(ctx.client),
    history: apiHistoryClient(ctx.client),
    updateStatus: async (set) => (await ctx.client.resource(R.statefulsets, set.metadata!.namespace).updateStatus(set as KubeObject)) as StatefulSet,
    canAdopt: (set) => recheckOwner(ctx.client, R.statefulsets, set as KubeObject)(),
    ...(R.persistentvolumeclaims
      ? {
          claimInformer: ctx.informers.forResource(R.persistentvolumeclaims),
          createClaim: (claim: PersistentVolumeClaim) => ctx.client.resource(R.persistentvolumeclaims!, claim.metadata!.namespace).create(claim as KubeObject),
        }
      : {}),
    recorder,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'statefulset-controller'),
  });
  return { controller, workers: STATEFULSET_WORKERS };
};
