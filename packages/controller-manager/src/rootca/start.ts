// Start function for the root-ca-certificate-publisher-controller (upstream's startRootCACertificatePublisher).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { RootCAPublisher } from './root-ca-publisher.js';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

export const startRootCACertificatePublisher: StartFunc = (ctx) => {
  if (!ctx.rootCA) {
    ctx.logger.info?.({ controller: 'root-ca-certificate-publisher-controller' }, 'Skipping controller: no --root-ca-file');
    return undefined;
  }
  return {
    controller: new RootCAPublisher({
      namespaceInformer: ctx.informers.forResource(findResource('', 'v1', 'namespaces')!),
      configMapInformer: ctx.informers.forResource(CONFIGMAPS),
      rootCA: ctx.rootCA,
      createConfigMap: (ns, cm) => ctx.client.resource(CONFIGMAPS, ns).create(cm),
      updateConfigMap: (cm) => ctx.client.resource(CONFIGMAPS, cm.metadata.namespace).update(cm),
      clock: ctx.clock,
      logger: controllerLogger(ctx, 'root-ca-certificate-publisher-controller'),
    }),
    workers: 1,
  };
};
