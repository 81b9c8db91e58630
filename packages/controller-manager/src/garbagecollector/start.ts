// Start function for the garbage-collector-controller (upstream's startGarbageCollectorController).
import { RESOURCES } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { apiGarbageCollectorClient, collectableResources, GarbageCollector } from './garbage-collector.js';

export const startGarbageCollectorController: StartFunc = (ctx) => ({
  controller: new GarbageCollector({
    informers: collectableResources(RESOURCES).map((info) => ({ info, informer: ctx.informers.forResource(info) })),
    client: apiGarbageCollectorClient(ctx.client),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'garbage-collector-controller'),
  }),
  workers: ctx.config.concurrentGCSyncs,
});
