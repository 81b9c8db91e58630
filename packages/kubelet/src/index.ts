// @kubelab/kubelet: the node agent (upstream pkg/kubelet). For now its CRI client.
export * from './cri/runtime-service.js';
export * from './cri/remote.js';
