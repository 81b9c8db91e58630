// Start functions for the replicaset-controller and replicationcontroller-controller (upstream's
// startReplicaSetController and startReplicationController): one controller, two kinds.
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { RealPodControl, recheckOwner } from '../controller-utils.js';
import { ReplicaSetController } from './replicaset-controller.js';

const PODS = findResource('', 'v1', 'pods')!;

function replicatedController(kind: 'ReplicaSet' | 'ReplicationController'): StartFunc {
  const info = kind === 'ReplicaSet' ? findResource('apps', 'v1', 'replicasets')! : findResource('', 'v1', 'replicationcontrollers')!;
  const component = kind === 'ReplicaSet' ? 'replicaset-controller' : 'replication-controller';
  return (ctx) => {
    const recorder = ctx.eventBroadcaster.newRecorder({ component });
    const controller = new ReplicaSetController({
      kind,
      rsInformer: ctx.informers.forResource(info),
      podInformer: ctx.informers.forResource(PODS),
      podControl: new RealPodControl(ctx.client, recorder),
      updateStatus: (rs) => ctx.client.resource(info, rs.metadata.namespace).updateStatus(rs),
      canAdopt: (rs) => recheckOwner(ctx.client, info, rs)(),
      recorder,
      clock: ctx.clock,
      logger: controllerLogger(ctx, component),
    });
    return { controller, workers: ctx.config.concurrentReplicasetSyncs };
  };
}

export const startReplicaSetController = replicatedController('ReplicaSet');
export const startReplicationController = replicatedController('ReplicationController');
