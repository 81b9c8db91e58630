export * from './logger.js';
export * from './flags.js';
export * from './pki/pki.js';
export * from './pki/kubeconfig.js';
export * from './pki/init.js';
export * from './serving/index.js';
export * from './component.js';
export * from './leader-election.js';
