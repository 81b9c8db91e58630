// Wiring of the ClusterRole aggregation controller into the controller-manager.
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation-controller.js';

export const startClusterRoleAggregationController: StartFunc = (ctx) => {
  const clusterRoles = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
  const controller = new ClusterRoleAggregationController({
    clusterRoleInformer: ctx.informers.forResource(clusterRoles),
    updateClusterRole: (role) => ctx.client.resource(clusterRoles).update(role),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'clusterrole-aggregation-controller'),
  });
  return { controller, workers: 5 };
};
