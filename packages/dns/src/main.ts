// The cluster DNS (CoreDNS's coredns binary with kubeadm's Corefile): flags -> config -> createDNSServer, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS } from './config.js';
import { createDNSServer } from './server.js';

await runComponent({
  name: 'coredns',
  short: 'Cluster DNS: answers the Kubernetes DNS-Based Service Discovery records from the API and forwards other names.',
  flags: FLAGS,
  complete: completeConfig,
  create: (config, { logger }) => createDNSServer(config, { logger }),
});
