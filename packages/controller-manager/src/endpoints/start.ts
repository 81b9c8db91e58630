// Wiring of the Endpoints controller into the controller-manager (upstream's startEndpointsController).
import { findResource, type KubeObject } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { EndpointsController } from './endpoints-controller.js';

export const startEndpointsController: StartFunc = (ctx) => {
  const services = findResource('', 'v1', 'services')!;
  const pods = findResource('', 'v1', 'pods')!;
  const endpoints = findResource('', 'v1', 'endpoints')!;
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'endpoint-controller' });
  const controller = new EndpointsController({
    serviceInformer: ctx.informers.forResource(services),
    podInformer: ctx.informers.forResource(pods),
    endpointsInformer: ctx.informers.forResource(endpoints),
    recorder,
    client: {
      create: (ns, ep) => ctx.client.resource(endpoints, ns).create(ep as KubeObject),
      update: (ep) => ctx.client.resource(endpoints, ep.metadata!.namespace).update(ep as KubeObject),
      delete: (ns, name) => ctx.client.resource(endpoints, ns).delete(name),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'endpoints-controller'),
  });
  return { controller, workers: ctx.config.concurrentEndpointSyncs };
};
