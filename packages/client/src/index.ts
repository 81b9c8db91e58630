// @kubelab/client: the API client every component uses (client-go's role).
export * from './clock.js';
export * from './logger.js';
export * from './kubeconfig.js';
export * from './rate-limiter.js';
export * from './rest.js';
export * from './watch.js';
export * from './store.js';
export * from './lister.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './leader-election.js';
export * from './events.js';
export * from './events-v1.js';
