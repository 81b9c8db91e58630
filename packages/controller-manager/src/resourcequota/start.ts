// Start function for the resourcequota-controller (upstream's startResourceQuotaController).
import { findResource, RESOURCES, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ResourceQuotaController } from './resource-quota-controller.js';

export const startResourceQuotaController: StartFunc = (ctx) => {
  const quotas = findResource('', 'v1', 'resourcequotas')!;
  // Upstream's QuotaMonitor watches every namespaced resource it can list and watch (count/<resource>.<group>).
  // One version per group/resource.
  const tracked = new Map<string, ResourceInfo>();
  for (const r of RESOURCES) {
    if (!r.namespaced || r.resource === 'events' || !['list', 'watch'].every((v) => r.verbs.includes(v))) continue;
    if (!tracked.has(`${r.group}/${r.resource}`)) tracked.set(`${r.group}/${r.resource}`, r);
  }
  const controller = new ResourceQuotaController({
    quotaInformer: ctx.informers.forResource(quotas),
    informers: [...tracked.values()].map((info) => ({ group: info.group, resource: info.resource, informer: ctx.informers.forResource(info) })),
    client: { updateStatus: (quota) => ctx.client.resource(quotas, quota.metadata!.namespace).updateStatus(quota as KubeObject) },
    resyncPeriodMs: ctx.config.resourceQuotaSyncPeriodMs,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'resourcequota-controller'),
  });
  return { controller, workers: ctx.config.concurrentResourceQuotaSyncs };
};
