// @kubelab/kubelet: the node agent (upstream pkg/kubelet): its CRI client, configuration and createKubelet.
export * from './cri/runtime-service.js';
export * from './cri/remote.js';
export { completeConfig, configFromFlags, FLAGS, parseLabels, parseTaint, type KubeletConfig } from './config.js';
export * from './kubelet.js';
export { createBootstrapToken } from './certificate/bootstrap-token.js';
export { POD_STARTUP_STEPS, type PodStartupStep } from './pod-startup-tracker.js';
