// Start functions for the job-controller and ttl-after-finished-controller.
import { findResource, type KubeObject } from '@kubelab/api';
import type { Job } from 'kubernetes-types/batch/v1';
import { recheckOwner } from '../controller-utils.js';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { ApiPodWriter } from '../history/pod-writer.js';
import { JobController } from './job-controller.js';
import { TTLAfterFinishedController } from './ttl-after-finished-controller.js';

const R = {
  jobs: findResource('batch', 'v1', 'jobs')!,
  pods: findResource('', 'v1', 'pods')!,
};

/** Upstream's --concurrent-job-syncs and --concurrent-ttl-after-finished-syncs defaults. */
const JOB_WORKERS = 5;
const TTL_WORKERS = 5;

export const startJobController: StartFunc = (ctx) => {
  const recorder = ctx.eventBroadcaster.newRecorder({ component: 'job-controller' });
  const controller = new JobController({
    jobInformer: ctx.informers.forResource(R.jobs),
    podInformer: ctx.informers.forResource(R.pods),
    pods: new ApiPodWriter(ctx.client),
    updateStatus: async (job) => (await ctx.client.resource(R.jobs, job.metadata!.namespace).updateStatus(job as KubeObject)) as Job,
    canAdopt: (job) => recheckOwner(ctx.client, R.jobs, job as KubeObject)(),
    recorder,
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'job-controller'),
  });
  return { controller, workers: JOB_WORKERS };
};

export const startTTLAfterFinishedController: StartFunc = (ctx) => ({
  controller: new TTLAfterFinishedController({
    jobInformer: ctx.informers.forResource(R.jobs),
    getJob: async (ns, name) => (await ctx.client.resource(R.jobs, ns).get(name)) as Job,
    deleteJob: async (job) => {
      await ctx.client.resource(R.jobs, job.metadata!.namespace).delete(job.metadata!.name!, {
        propagationPolicy: 'Foreground',
        preconditions: { uid: job.metadata!.uid, resourceVersion: job.metadata!.resourceVersion },
      });
    },
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'ttl-after-finished-controller'),
  }),
  workers: TTL_WORKERS,
});
