// Start function for the daemonset-controller.
import { findResource, type KubeObject } from '@kubelab/api';
import type { DaemonSet } from 'kubernetes-types/apps/v1';
import { recheckOwner } from '../controller-utils.js';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ApiPodWriter } from '../history/pod-writer.js';
import { apiHistoryClient } from '../history/controller-history.js';
import { DaemonSetController } from './daemonset-controller.js';

const R = {
  controllerrevisions: findResource('apps', 'v1', 'controllerrevisions')!,
  daemonsets: findResource('apps', 'v1', 'daemonsets')!,
  nodes: findResource('', 'v1', 'nodes')!,
  pods: findResource('', 'v1', 'pods')!,
};

/** Upstream's --concurrent-daemonset-syncs default. */
const DAEMONSET_WORKERS = 2;

export const startDaemonSetController: StartFunc = (ctx) => {
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'daemonset-controller' });
  const controller = new DaemonSetController({
    dsInformer: ctx.informers.forResource(R.daemonsets),
    podInformer: ctx.informers.forResource(R.pods),
    nodeInformer: ctx.informers.forResource(R.nodes),
    revisionInformer: ctx.informers.forResource(R.controllerrevisions),
    pods: new ApiPodWriter(ctx.client),
    history: apiHistoryClient(ctx.client),
    updateStatus: async (ds) => (await ctx.client.resource(R.daemonsets, ds.metadata!.namespace).updateStatus(ds as KubeObject)) as DaemonSet,
    canAdopt: (ds) => recheckOwner(ctx.client, R.daemonsets, ds as KubeObject)(),
    recorder,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'daemonset-controller'),
  });
  return { controller, workers: DAEMONSET_WORKERS };
};
