// Start function for the namespace-controller (upstream's startNamespaceController).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { apiNamespaceContentClient, NamespaceController } from './namespace-controller.js';

export const startNamespaceController: StartFunc = (ctx) => ({
  controller: new NamespaceController({
    namespaceInformer: ctx.informers.forResource(findResource('', 'v1', 'namespaces')!),
    content: apiNamespaceContentClient(ctx.client),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'namespace-controller'),
  }),
  workers: ctx.config.concurrentNamespaceSyncs,
});
