// @kubelab/controller-manager: the control loops, startable in-process by tests.
export * from './config.js';
export * from './controller-context.js';
export * from './controller-names.js';
export * from './controllers.js';
export * from './controller-manager.js';
export * from './controller-utils.js';
export { ReplicaSetController, podsToDelete, slowStartBatch, BURST_REPLICAS, type ReplicaSetControllerOptions } from './replicaset/replicaset-controller.js';
export { calculateStatus } from './replicaset/replicaset-status.js';
export { DeploymentController, findActiveOrLatest, type DeploymentControl, type DeploymentControllerOptions } from './deployment/deployment-controller.js';
export * from './deployment/deployment-util.js';
export * from './namespace/namespace-controller.js';
export * from './serviceaccount/serviceaccount-controller.js';
export * from './rootca/root-ca-publisher.js';
export * from './garbagecollector/garbage-collector.js';
export * from './metrics.js';
