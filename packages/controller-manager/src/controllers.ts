// The name -> start function table (upstream's NewControllerDescriptors) and the --controllers rules.
import { findResource, RESOURCES, type KubeObject } from '@kubelab/api';
import type { Clock, Logger, RestClient, SharedInformerFactory } from '@kubelab/client';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { ControllerManagerConfig } from './config.js';
import { ApiEventRecorder, RealPodControl, recheckOwner, type RunnableController } from './controller-utils.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { apiGarbageCollectorClient, collectableResources, GarbageCollector } from './garbagecollector/garbage-collector.js';
import { apiNamespaceContentClient, NamespaceController } from './namespace/namespace-controller.js';
import { ReplicaSetController } from './replicaset/replicaset-controller.js';
import { RootCAPublisher } from './rootca/root-ca-publisher.js';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.js';
import { startClusterRoleAggregationController } from './clusterroleaggregation/start.js';
import { startEndpointsController } from './endpoints/start.js';
import { startEndpointSliceController } from './endpointslice/start.js';
import { startPodGCController } from './podgc/start.js';
import { startNodeIpamController } from './nodeipam/start.js';
import { startNodeLifecycleController, startTaintEvictionController } from './nodelifecycle/start.js';
import { startCSRApproving, startCSRSigning } from './certificates/start.js';
import { startJobController, startTTLAfterFinishedController } from './job/start.js';
import { startCronJobController } from './cronjob/start.js';
import { startStatefulSetController } from './statefulset/start.js';
import { startDaemonSetController } from './daemonset/start.js';

/** What a start function gets (upstream's ControllerContext). */
export interface ControllerContext {
  client: RestClient;
  informers: SharedInformerFactory;
  config: Readonly<ControllerManagerConfig>;
  clock: Clock;
  logger: Logger & { child?(b: object): Logger };
  /** The CA bundle read from --root-ca-file, if given. */
  rootCA?: string;
}

/** A started controller and how many workers it runs; undefined when it has nothing to do in this configuration. */
export type StartFunc = (ctx: ControllerContext) => { controller: RunnableController; workers: number } | undefined;

const res = (group: string, resource: string) => findResource(group, 'v1', resource)!;
const R = {
  pods: res('', 'pods'),
  namespaces: res('', 'namespaces'),
  serviceaccounts: res('', 'serviceaccounts'),
  configmaps: res('', 'configmaps'),
  replicationcontrollers: res('', 'replicationcontrollers'),
  replicasets: res('apps', 'replicasets'),
  deployments: res('apps', 'deployments'),
};

const childLogger = (ctx: ControllerContext, controller: string): Logger => ctx.logger.child?.({ controller }) ?? ctx.logger;

function replicatedController(kind: 'ReplicaSet' | 'ReplicationController'): StartFunc {
  return (ctx) => {
    const info = kind === 'ReplicaSet' ? R.replicasets : R.replicationcontrollers;
    const component = kind === 'ReplicaSet' ? 'replicaset-controller' : 'replication-controller';
    const recorder = new ApiEventRecorder({ client: ctx.client, component, clock: ctx.clock, logger: ctx.logger });
    const controller = new ReplicaSetController({
      kind,
      rsInformer: ctx.informers.forResource(info),
      podInformer: ctx.informers.forResource(R.pods),
      podControl: new RealPodControl(ctx.client, recorder),
      updateStatus: (rs) => ctx.client.resource(info, rs.metadata.namespace).updateStatus(rs),
      canAdopt: (rs) => recheckOwner(ctx.client, info, rs)(),
      recorder,
      clock: ctx.clock,
      logger: childLogger(ctx, component),
    });
    return { controller, workers: ctx.config.concurrentReplicasetSyncs };
  };
}

const startDeployment: StartFunc = (ctx) => {
  const rsClient = (ns?: string) => ctx.client.resource<KubeObject>(R.replicasets, ns);
  const dClient = (ns?: string) => ctx.client.resource<KubeObject>(R.deployments, ns);
  const recorder = new ApiEventRecorder({ client: ctx.client, component: 'deployment-controller', clock: ctx.clock, logger: ctx.logger });
  const controller = new DeploymentController({
    deploymentInformer: ctx.informers.forResource(R.deployments),
    rsInformer: ctx.informers.forResource(R.replicasets),
    podInformer: ctx.informers.forResource(R.pods),
    recorder,
    clock: ctx.clock,
    logger: childLogger(ctx, 'deployment-controller'),
    control: {
      createReplicaSet: async (rs) => (await rsClient(rs.metadata!.namespace).create(rs as KubeObject)) as ReplicaSet,
      updateReplicaSet: async (rs) => (await rsClient(rs.metadata!.namespace).update(rs as KubeObject)) as ReplicaSet,
      patchReplicaSet: async (ns, name, patch) => (await rsClient(ns).patch(name, patch, 'merge')) as ReplicaSet,
      deleteReplicaSet: async (ns, name, uid) => {
        await rsClient(ns).delete(name, { preconditions: { uid } });
      },
      patchDeployment: async (ns, name, patch) => (await dClient(ns).patch(name, patch, 'merge')) as Deployment,
      updateDeploymentStatus: async (d) => (await dClient(d.metadata!.namespace).updateStatus(d as KubeObject)) as Deployment,
      canAdopt: (d) => recheckOwner(ctx.client, R.deployments, d as KubeObject)(),
    },
  });
  return { controller, workers: ctx.config.concurrentDeploymentSyncs };
};

const startNamespace: StartFunc = (ctx) => ({
  controller: new NamespaceController({
    namespaceInformer: ctx.informers.forResource(R.namespaces),
    content: apiNamespaceContentClient(ctx.client),
    clock: ctx.clock,
    logger: childLogger(ctx, 'namespace-controller'),
  }),
  workers: ctx.config.concurrentNamespaceSyncs,
});

const startServiceAccount: StartFunc = (ctx) => ({
  controller: new ServiceAccountController({
    namespaceInformer: ctx.informers.forResource(R.namespaces),
    serviceAccountInformer: ctx.informers.forResource(R.serviceaccounts),
    createServiceAccount: (ns, sa) => ctx.client.resource(R.serviceaccounts, ns).create(sa),
    clock: ctx.clock,
    logger: childLogger(ctx, 'serviceaccount-controller'),
  }),
  workers: 1,
});

const startRootCA: StartFunc = (ctx) => {
  if (!ctx.rootCA) {
    ctx.logger.info?.({ controller: 'root-ca-certificate-publisher-controller' }, 'Skipping controller: no --root-ca-file');
    return undefined;
  }
  return {
    controller: new RootCAPublisher({
      namespaceInformer: ctx.informers.forResource(R.namespaces),
      configMapInformer: ctx.informers.forResource(R.configmaps),
      rootCA: ctx.rootCA,
      createConfigMap: (ns, cm) => ctx.client.resource(R.configmaps, ns).create(cm),
      updateConfigMap: (cm) => ctx.client.resource(R.configmaps, cm.metadata.namespace).update(cm),
      clock: ctx.clock,
      logger: childLogger(ctx, 'root-ca-certificate-publisher-controller'),
    }),
    workers: 1,
  };
};

const startGarbageCollector: StartFunc = (ctx) => ({
  controller: new GarbageCollector({
    informers: collectableResources(RESOURCES).map((info) => ({ info, informer: ctx.informers.forResource(info) })),
    client: apiGarbageCollectorClient(ctx.client),
    clock: ctx.clock,
    logger: childLogger(ctx, 'garbage-collector-controller'),
  }),
  workers: ctx.config.concurrentGCSyncs,
});

/** Every controller this controller-manager knows, by upstream's 1.32 name. */
export const CONTROLLERS: Readonly<Record<string, StartFunc>> = {
  'replicaset-controller': replicatedController('ReplicaSet'),
  'replicationcontroller-controller': replicatedController('ReplicationController'),
  'deployment-controller': startDeployment,
  'namespace-controller': startNamespace,
  'serviceaccount-controller': startServiceAccount,
  'root-ca-certificate-publisher-controller': startRootCA,
  'garbage-collector-controller': startGarbageCollector,
  'clusterrole-aggregation-controller': startClusterRoleAggregationController,
  'endpoints-controller': startEndpointsController,
  'endpointslice-controller': startEndpointSliceController,
  'pod-garbage-collector-controller': startPodGCController,
  'node-ipam-controller': startNodeIpamController,
  'node-lifecycle-controller': startNodeLifecycleController,
  'taint-eviction-controller': startTaintEvictionController,
  'certificatesigningrequest-signing-controller': startCSRSigning,
  'certificatesigningrequest-approving-controller': startCSRApproving,
  'job-controller': startJobController,
  'ttl-after-finished-controller': startTTLAfterFinishedController,
  'cronjob-controller': startCronJobController,
  'statefulset-controller': startStatefulSetController,
  'daemonset-controller': startDaemonSetController,
};

export const KNOWN_CONTROLLERS = Object.keys(CONTROLLERS);

/** Controllers `*` does not enable (upstream: bootstrapsigner, tokencleaner, ...; none of ours yet). */
export const DISABLED_BY_DEFAULT = new Set<string>();

/** The short names upstream still accepts for --controllers. */
const ALIASES: Record<string, string> = {
  replicaset: 'replicaset-controller',
  replicationcontroller: 'replicationcontroller-controller',
  deployment: 'deployment-controller',
  namespace: 'namespace-controller',
  serviceaccount: 'serviceaccount-controller',
  'root-ca-cert-publisher': 'root-ca-certificate-publisher-controller',
  garbagecollector: 'garbage-collector-controller',
  endpoint: 'endpoints-controller',
  endpointslice: 'endpointslice-controller',
  podgc: 'pod-garbage-collector-controller',
  nodeipam: 'node-ipam-controller',
  nodelifecycle: 'node-lifecycle-controller',
  csrsigning: 'certificatesigningrequest-signing-controller',
  csrapproving: 'certificatesigningrequest-approving-controller',
  job: 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  cronjob: 'cronjob-controller',
  statefulset: 'statefulset-controller',
  daemonset: 'daemonset-controller',
};

export function resolveControllerName(name: string): string {
  return ALIASES[name] ?? name;
}

/**
 * Upstream's IsControllerEnabled: the first entry naming the controller (`name` or `-name`) wins;
 * otherwise `*` enables every controller not disabled by default.
 */
export function isControllerEnabled(name: string, controllers: readonly string[]): boolean {
  let star = false;
  for (const entry of controllers) {
    if (entry === '*') {
      star = true;
      continue;
    }
    const negated = entry.startsWith('-');
    if (resolveControllerName(negated ? entry.slice(1) : entry) === name) return !negated;
  }
  return star && !DISABLED_BY_DEFAULT.has(name);
}
