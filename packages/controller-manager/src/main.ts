// kube-controller-manager: flags -> config -> createControllerManager, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createControllerManager } from './controller-manager.js';

await runComponent({
  name: 'kube-controller-manager',
  short: 'The Kubernetes controller manager: the core control loops that drive the cluster towards its desired state.',
  flags: FLAGS,
  complete: completeConfig,
  // Upstream exits when it loses its lease, so that a new leader never races with a stale one.
  create: (config, { logger, fatal }) => createControllerManager(config, { logger, onLeadershipLost: () => fatal('leaderelection lost') }),
});
