// Wiring of the pod garbage collector into the controller-manager (upstream's startPodGCController).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { PodGCController } from './podgc-controller.js';

export const startPodGCController: StartFunc = (ctx) => {
  const pods = findResource('', 'v1', 'pods')!;
  const nodes = findResource('', 'v1', 'nodes')!;
  const controller = new PodGCController({
    podInformer: ctx.informers.forResource(pods),
    nodeInformer: ctx.informers.forResource(nodes),
    terminatedPodThreshold: ctx.config.terminatedPodGCThreshold,
    client: {
      getNode: (name) => ctx.client.resource(nodes).get(name),
      patchPodStatus: (ns, name, status) => ctx.client.resource(pods, ns).patch(name, { status }, 'strategic', { subresource: 'status' }),
      forceDeletePod: (ns, name) => ctx.client.resource(pods, ns).delete(name, { gracePeriodSeconds: 0 }),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'pod-garbage-collector-controller'),
  });
  return { controller, workers: 1 };
};
