// Start function for the serviceaccount-controller (upstream's startServiceAccountController).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ServiceAccountController } from './serviceaccount-controller.js';

const SERVICEACCOUNTS = findResource('', 'v1', 'serviceaccounts')!;

export const startServiceAccountController: StartFunc = (ctx) => ({
  controller: new ServiceAccountController({
    namespaceInformer: ctx.informers.forResource(findResource('', 'v1', 'namespaces')!),
    serviceAccountInformer: ctx.informers.forResource(SERVICEACCOUNTS),
    createServiceAccount: (ns, sa) => ctx.client.resource(SERVICEACCOUNTS, ns).create(sa),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'serviceaccount-controller'),
  }),
  workers: 1,
});
