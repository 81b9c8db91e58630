// Wiring of the node lifecycle and taint eviction controllers (upstream's startNodeLifecycleController
// and startTaintEvictionController).
import { findResource, type KubeObject } from '@kubelab/api';
import type { Node } from 'kubernetes-types/core/v1';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';
import { TaintEvictionController } from './taint-eviction-controller.js';

const pods = () => findResource('', 'v1', 'pods')!;
const nodes = () => findResource('', 'v1', 'nodes')!;

export const startNodeLifecycleController: StartFunc = (ctx) => {
  const controller = new NodeLifecycleController({
    nodeInformer: ctx.informers.forResource(nodes()),
    leaseInformer: ctx.informers.forResource(findResource('coordination.k8s.io', 'v1', 'leases')!),
    podInformer: ctx.informers.forResource(pods()),
    nodeMonitorGracePeriodMs: ctx.config.nodeMonitorGracePeriodMs,
    nodeMonitorPeriodMs: ctx.config.nodeMonitorPeriodMs,
    recorder: ctx.eventBroadcaster.newRecorder({ component: 'node-controller' }),
    client: {
      updateNodeStatus: async (n) => (await ctx.client.resource(nodes()).updateStatus(n as KubeObject)) as Node,
      updateNode: async (n) => (await ctx.client.resource(nodes()).update(n as KubeObject)) as Node,
      updatePodStatus: (p) => ctx.client.resource(pods(), p.metadata!.namespace).updateStatus(p as KubeObject),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'node-lifecycle-controller'),
  });
  return { controller, workers: 1 };
};

export const startTaintEvictionController: StartFunc = (ctx) => {
  const controller = new TaintEvictionController({
    nodeInformer: ctx.informers.forResource(nodes()),
    podInformer: ctx.informers.forResource(pods()),
    recorder: ctx.eventBroadcaster.newRecorder({ component: 'taint-eviction-controller' }),
    client: {
      patchPodStatus: (ns, name, status) => ctx.client.resource(pods(), ns).patch(name, { status }, 'strategic', { subresource: 'status' }),
      deletePod: (ns, name) => ctx.client.resource(pods(), ns).delete(name),
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'taint-eviction-controller'),
  });
  return { controller, workers: 8 };
};
