// @kubelab/ingress-controller: Kubelab's built-in ingress controller (IngressClass "kubelab", controller kubelab.io/ingress-controller).
export * from './classes.js';
export * from './config.js';
export * from './controller.js';
export * from './endpoints.js';
export * from './routing.js';
export * from './status.js';
