// Start function for the cronjob-controller.
import { findResource, type KubeObject } from '@kubelab/api';
import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { CronJobController } from './cronjob-controller.js';

const R = {
  cronjobs: findResource('batch', 'v1', 'cronjobs')!,
  jobs: findResource('batch', 'v1', 'jobs')!,
};

/** Upstream's --concurrent-cron-job-syncs default. */
const CRONJOB_WORKERS = 5;

export const startCronJobController: StartFunc = (ctx) => {
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'cronjob-controller' });
  const controller = new CronJobController({
    cronJobInformer: ctx.informers.forResource(R.cronjobs),
    jobInformer: ctx.informers.forResource(R.jobs),
    jobControl: {
      createJob: async (ns, job) => (await ctx.client.resource(R.jobs, ns).create(job as KubeObject)) as Job,
      deleteJob: async (ns, name) => {
        await ctx.client.resource(R.jobs, ns).delete(name, { propagationPolicy: 'Background' });
      },
    },
    updateStatus: async (cj) => (await ctx.client.resource(R.cronjobs, cj.metadata!.namespace).updateStatus(cj as KubeObject)) as CronJob,
    recorder,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'cronjob-controller'),
  });
  return { controller, workers: CRONJOB_WORKERS };
};
