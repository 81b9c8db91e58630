// @kubelab/scheduler: kube-scheduler as a library (createScheduler) plus its framework and plugins.
export * from './config.js';
export * from './scheduler.js';
export * from './scheduling-queue.js';
export * from './cache.js';
export * from './metrics.js';
export * from './framework/status.js';
export * from './framework/interface.js';
export * from './framework/node-info.js';
export * from './framework/fit-error.js';
export * from './framework/runtime.js';
export * from './plugins/registry.js';
