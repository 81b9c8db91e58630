// kube-proxy: flags -> config -> createKubeProxy, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createKubeProxy } from './kube-proxy.js';

await runComponent({
  name: 'kube-proxy',
  short: 'The Kubernetes network proxy: programs iptables so that Service IPs and NodePorts reach their endpoints.',
  flags: FLAGS,
  complete: completeConfig,
  create: (config, { logger }) => createKubeProxy(config, { logger }),
});
