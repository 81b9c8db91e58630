// Start function for the disruption-controller (upstream's startDisruptionController); nothing to run while
// the apiserver's resource table has no policy/v1 PodDisruptionBudgets.
import { findResource, type KubeObject } from '@kubelab/api';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { DisruptionController } from './disruption-controller.js';

export const startDisruptionController: StartFunc = (ctx) => {
  const pdbs = findResource('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbs) return undefined;
  const informer = (group: string, resource: string) => ctx.informers.forResource(findResource(group, 'v1', resource)!);
  const controller = new DisruptionController({
    pdbInformer: ctx.informers.forResource(pdbs),
    podInformer: informer('', 'pods'),
    scale: {
      replicationControllers: informer('', 'replicationcontrollers'),
      replicaSets: informer('apps', 'replicasets'),
      deployments: informer('apps', 'deployments'),
      statefulSets: informer('apps', 'statefulsets'),
    },
    client: { updateStatus: (pdb: PodDisruptionBudget) => ctx.client.resource(pdbs, pdb.metadata!.namespace).updateStatus(pdb as KubeObject) },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'disruption-controller'),
  });
  return { controller, workers: 1 };
};
