// Wiring shared by the Job, CronJob, StatefulSet and DaemonSet start functions.
import { findResource, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { Logger, RestClient } from '@kubelab/client';
import type { ControllerRevision } from 'kubernetes-types/apps/v1';
import type { ControllerContext } from '../controllers.js';
import type { HistoryClient } from './controller-history.js';

const res = (group: string, resource: string): ResourceInfo => findResource(group, 'v1', resource)!;

export const WORKLOAD_RESOURCES = {
  pods: res('', 'pods'),
  nodes: res('', 'nodes'),
  jobs: res('batch', 'jobs'),
  cronjobs: res('batch', 'cronjobs'),
  statefulsets: res('apps', 'statefulsets'),
  daemonsets: res('apps', 'daemonsets'),
  controllerrevisions: res('apps', 'controllerrevisions'),
};

export function controllerLogger(ctx: ControllerContext, controller: string): Logger {
  return ctx.logger.child?.({ controller }) ?? ctx.logger;
}

export function apiHistoryClient(client: RestClient): HistoryClient {
  const crs = (ns?: string) => client.resource<KubeObject>(WORKLOAD_RESOURCES.controllerrevisions, ns);
  return {
    create: async (rev) => (await crs(rev.metadata!.namespace).create(rev as KubeObject)) as ControllerRevision,
    get: async (ns, name) => (await crs(ns).get(name)) as ControllerRevision,
    patch: async (ns, name, patch) => (await crs(ns).patch(name, patch, 'merge')) as ControllerRevision,
    delete: async (ns, name) => {
      await crs(ns).delete(name);
    },
  };
}
