// Wiring of the node IPAM controller (upstream's startNodeIpamController): only with --allocate-node-cidrs.
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { NodeIpamController } from './nodeipam-controller.js';

export const startNodeIpamController: StartFunc = (ctx) => {
  if (!ctx.config.allocateNodeCIDRs || !ctx.config.clusterCIDR) {
    ctx.logger.info?.({ controller: 'node-ipam-controller' }, 'Skipping controller: --allocate-node-cidrs is false');
    return undefined;
  }
  const nodes = findResource('', 'v1', 'nodes')!;
  const controller = new NodeIpamController({
    nodeInformer: ctx.informers.forResource(nodes),
    clusterCIDR: ctx.config.clusterCIDR,
    nodeCIDRMaskSize: ctx.config.nodeCIDRMaskSize,
    recorder: ctx.eventBroadcaster.newRecorder({ component: 'cidrAllocator' }),
    client: {
      patchNodePodCIDRs: (name, cidrs) => ctx.client.resource(nodes).patch(name, { spec: { podCIDR: cidrs[0], podCIDRs: cidrs } }, 'merge'),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'node-ipam-controller'),
  });
  return { controller, workers: 1 };
};
