// The name -> start function table (upstream's NewControllerDescriptors). Each controller is wired in its
// own `<name>/start.ts`; the names and the --controllers rules are in controller-names.ts.
import type { StartFunc } from './controller-context.js';
import { startBootstrapSignerController, startTokenCleanerController } from './bootstrap/start.js';
import { startCSRApproving, startCSRSigning } from './certificates/start.js';
import { startClusterRoleAggregationController } from './clusterroleaggregation/start.js';
import { startCronJobController } from './cronjob/start.js';
import { startDaemonSetController } from './daemonset/start.js';
import { startDeploymentController } from './deployment/start.js';
import { startDisruptionController } from './disruption/start.js';
import { startHorizontalPodAutoscalerController } from './podautoscaler/start.js';
import { startEndpointsController } from './endpoints/start.js';
import { startEndpointSliceController } from './endpointslice/start.js';
import { startGarbageCollectorController } from './garbagecollector/start.js';
import { startJobController, startTTLAfterFinishedController } from './job/start.js';
import { startNamespaceController } from './namespace/start.js';
import { startNodeIpamController } from './nodeipam/start.js';
import { startNodeLifecycleController, startTaintEvictionController } from './nodelifecycle/start.js';
import { startPodGCController } from './podgc/start.js';
import { startReplicaSetController, startReplicationController } from './replicaset/start.js';
import { startResourceQuotaController } from './resourcequota/start.js';
import { startRootCACertificatePublisher } from './rootca/start.js';
import { startServiceAccountController } from './serviceaccount/start.js';
import { startStatefulSetController } from './statefulset/start.js';
import { startPersistentVolumeBinderController } from './volume/persistentvolume/start.js';
import { startPVCProtectionController, startPVProtectionController } from './volume/protection/start.js';

/** Every controller, by upstream's 1.32 name (the same list as KNOWN_CONTROLLERS). */
export const CONTROLLERS: Readonly<Record<string, StartFunc>> = {
  'replicaset-controller': startReplicaSetController,
  'replicationcontroller-controller': startReplicationController,
  'deployment-controller': startDeploymentController,
  'namespace-controller': startNamespaceController,
  'serviceaccount-controller': startServiceAccountController,
  'root-ca-certificate-publisher-controller': startRootCACertificatePublisher,
  'garbage-collector-controller': startGarbageCollectorController,
  'clusterrole-aggregation-controller': startClusterRoleAggregationController,
  'endpoints-controller': startEndpointsController,
  'endpointslice-controller': startEndpointSliceController,
  'pod-garbage-collector-controller': startPodGCController,
  'node-ipam-controller': startNodeIpamController,
  'node-lifecycle-controller': startNodeLifecycleController,
  'taint-eviction-controller': startTaintEvictionController,
  'certificatesigningrequest-signing-controller': startCSRSigning,
  'certificatesigningrequest-approving-controller': startCSRApproving,
  'token-cleaner-controller': startTokenCleanerController,
  'bootstrap-signer-controller': startBootstrapSignerController,
  'job-controller': startJobController,
  'ttl-after-finished-controller': startTTLAfterFinishedController,
  'cronjob-controller': startCronJobController,
  'statefulset-controller': startStatefulSetController,
  'daemonset-controller': startDaemonSetController,
  'resourcequota-controller': startResourceQuotaController,
  'disruption-controller': startDisruptionController,
  'horizontal-pod-autoscaler-controller': startHorizontalPodAutoscalerController,
  'persistentvolume-binder-controller': startPersistentVolumeBinderController,
  'persistentvolumeclaim-protection-controller': startPVCProtectionController,
  'persistentvolume-protection-controller': startPVProtectionController,
};
