// The Kubelab ingress controller (ingress-nginx's role): flags -> config -> createIngressController, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createIngressController } from './controller.js';

await runComponent({
  name: 'ingress-controller',
  short: 'Kubelab ingress controller: routes HTTP and HTTPS by Ingress host and path rules to Service endpoints.',
  flags: FLAGS,
  complete: completeConfig,
  create: (config, { logger }) => createIngressController(config, { logger, processMetrics: true }),
});
