// kubelet: flags -> config -> TLS bootstrap (with --bootstrap-kubeconfig) -> createKubelet, run by component-base.
import { runComponent } from '@kubelab/component-base';
import { bootstrapClientCertificate } from './certificate/bootstrap.js';
import { completeConfig, FLAGS } from './config.js';
import { createKubelet } from './kubelet.js';
import { hollowKubeletDeps } from './hollow/node.js';

await runComponent({
  name: 'kubelet',
  short: 'The kubelet is the primary "node agent" that runs on each node: it registers the node and runs the pods bound to it.',
  flags: FLAGS,
  complete: completeConfig,
  create: async (config, { logger }) => {
    if (config.bootstrapKubeconfig) {
      // Upstream's LoadClientCert before any client is made: --kubeconfig then holds the node's own certificate.
      await bootstrapClientCertificate({
        kubeconfigPath: config.kubeconfig,
        bootstrapKubeconfigPath: config.bootstrapKubeconfig,
        certDir: config.certDir,
        nodeName: config.nodeName,
        logger,
      });
    }
    return createKubelet(config, { logger, ...(config.hollow ? hollowKubeletDeps(config) : {}) });
  },
});
