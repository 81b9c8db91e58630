// kubelet: flags -> config -> createKubelet, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createKubelet } from './kubelet.js';

await runComponent({
  name: 'kubelet',
  short: 'The kubelet is the primary "node agent" that runs on each node: it registers the node and runs the pods bound to it.',
  flags: FLAGS,
  complete: completeConfig,
  create: (config, { logger }) => createKubelet(config, { logger }),
});
