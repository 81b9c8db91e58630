// The pure iptables ruleset renderer of kube-proxy (upstream's pkg/proxy/iptables rule generation).
export * from './chain-names.js';
export * from './service-ports.js';
export * from './render.js';
export * from './jump-chains.js';
