// @kubelab/dns: the cluster DNS (CoreDNS with the kubernetes, forward, cache, health, ready and prometheus plugins).
export * from './resolver.js';
export * from './config.js';
export * from './server.js';
