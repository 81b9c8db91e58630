// kube-scheduler: flags -> config -> createScheduler, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createScheduler } from './scheduler.js';

await runComponent({
  name: 'kube-scheduler',
  short: 'The Kubernetes scheduler: watches for newly created pods that have no node assigned and binds each to a node.',
  flags: FLAGS,
  complete: completeConfig,
  // Upstream exits when it loses its lease, so that a new leader never races with a stale one.
  create: (config, { logger, fatal }) => createScheduler(config, { logger, onLeadershipLost: () => fatal('leaderelection lost') }),
});
