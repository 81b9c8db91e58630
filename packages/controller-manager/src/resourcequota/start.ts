// Start function for the resourcequota-controller (upstream's startResourceQuotaController).
import { findResource, preferredResources, type KubeObject } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ResourceQuotaController } from './resource-quota-controller.js';

export const startResourceQuotaController: StartFunc = (ctx) => {
  const quotas = findResource('', 'v1', 'resourcequotas')!;
  // Upstream's QuotaMonitor watches every namespaced resource it can list and watch (count/<resource>.<group>), in
  // its preferred version.
  const tracked = preferredResources().filter((r) => r.namespaced && r.resource !== 'events' && ['list', 'watch'].every((v) => r.verbs.includes(v)));
  const controller = new ResourceQuotaController({
    quotaInformer: ctx.informers.forResource(quotas),
    informers: tracked.map((info) => ({ group: info.group, resource: info.resource, informer: ctx.informers.forResource(info) })),
    client: { updateStatus: (quota) => ctx.client.resource(quotas, quota.metadata!.namespace).updateStatus(quota as KubeObject) },
    resyncPeriodMs: ctx.config.resourceQuotaSyncPeriodMs,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'resourcequota-controller'),
  });
  return { controller, workers: ctx.config.concurrentResourceQuotaSyncs };
};
