// @kubelab/kube-proxy: the iptables proxier and its pieces, for the lab and for tests.
export * from './rules/index.js';
export * from './iptables/index.js';
export * from './config.js';
export * from './conntrack.js';
export * from './healthcheck.js';
export * from './metrics.js';
export * from './proxier.js';
export * from './runner.js';
export * from './kube-proxy.js';
