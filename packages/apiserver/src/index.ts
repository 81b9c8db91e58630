// @kubelab/apiserver: what other code may use of the kube-apiserver, to run it in-process (tests, tools).
export { completeConfig, configFromFlags, defaults, validate, FLAGS, type ApiServerConfig } from './config.js';
export { createApiServer, type ApiServerDeps, type ApiServerRuntime } from './server.js';
export { startApiServer, type RunningApiServer } from './run.js';
export { MemoryStorage } from './storage/memory.js';
export type { Storage } from './storage/interface.js';
