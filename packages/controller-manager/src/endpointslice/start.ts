// Wiring of the EndpointSlice controller into the controller-manager (upstream's startEndpointSliceController).
import { findResource, type KubeObject } from '@kubelab/api';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { EndpointSliceController } from './endpointslice-controller.js';

export const startEndpointSliceController: StartFunc = (ctx) => {
  const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'endpoint-slice-controller' });
  const controller = new EndpointSliceController({
    serviceInformer: ctx.informers.forResource(findResource('', 'v1', 'services')!),
    podInformer: ctx.informers.forResource(findResource('', 'v1', 'pods')!),
    nodeInformer: ctx.informers.forResource(findResource('', 'v1', 'nodes')!),
    endpointSliceInformer: ctx.informers.forResource(slices),
    recorder,
    client: {
      create: async (ns, s) => (await ctx.client.resource(slices, ns).create(s as KubeObject)) as unknown as EndpointSlice,
      update: async (s) => (await ctx.client.resource(slices, s.metadata!.namespace).update(s as KubeObject)) as unknown as EndpointSlice,
      delete: (ns, name) => ctx.client.resource(slices, ns).delete(name),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'endpointslice-controller'),
  });
  return { controller, workers: ctx.config.concurrentServiceEndpointSyncs };
};
