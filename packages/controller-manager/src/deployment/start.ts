// Start function for the deployment-controller (upstream's startDeploymentController).
import { findResource, type KubeObject } from '@kubelab/api';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { recheckOwner } from '../controller-utils.js';
import { DeploymentController } from './deployment-controller.js';

const PODS = findResource('', 'v1', 'pods')!;
const REPLICASETS = findResource('apps', 'v1', 'replicasets')!;
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;

export const startDeploymentController: StartFunc = (ctx) => {
  const rsClient = (ns?: string) => ctx.client.resource<KubeObject>(REPLICASETS, ns);
  const dClient = (ns?: string) => ctx.client.resource<KubeObject>(DEPLOYMENTS, ns);
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'deployment-controller' });
  const controller = new DeploymentController({
    deploymentInformer: ctx.informers.forResource(DEPLOYMENTS),
    rsInformer: ctx.informers.forResource(REPLICASETS),
    podInformer: ctx.informers.forResource(PODS),
    recorder,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'deployment-controller'),
    control: {
      createReplicaSet: async (rs) => (await rsClient(rs.metadata!.namespace).create(rs as KubeObject)) as ReplicaSet,
      updateReplicaSet: async (rs) => (await rsClient(rs.metadata!.namespace).update(rs as KubeObject)) as ReplicaSet,
      patchReplicaSet: async (ns, name, patch) => (await rsClient(ns).patch(name, patch, 'merge')) as ReplicaSet,
      deleteReplicaSet: async (ns, name, uid) => {
        await rsClient(ns).delete(name, { preconditions: { uid } });
      },
      // Upstream updates the Deployment (its role, system:controller:deployment-controller, may update, not patch).
      patchDeployment: async (ns, name, patch) => {
        const current = await dClient(ns).get(name);
        const annotations = (patch as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations;
        current.metadata.annotations = { ...current.metadata.annotations, ...annotations };
        return (await dClient(ns).update(current)) as Deployment;
      },
      updateDeploymentStatus: async (d) => (await dClient(d.metadata!.namespace).updateStatus(d as KubeObject)) as Deployment,
      canAdopt: (d) => recheckOwner(ctx.client, DEPLOYMENTS, d as KubeObject)(),
    },
  });
  return { controller, workers: ctx.config.concurrentDeploymentSyncs };
};
