// kube-apiserver: flags -> config -> storage, app, bootstrap, listen (run.ts), run by component-base.
import { runComponent } from '@kubelab/component-base';
import { completeConfig, FLAGS, readTLS } from './config.js';
import { startApiServer, type RunningApiServer } from './run.js';

await runComponent({
  name: 'kube-apiserver',
  short: 'The Kubernetes API server validates and configures data for the api objects which include pods, services, replicationcontrollers, and others.',
  flags: FLAGS,
  complete: completeConfig,
  create: (config, { logger }) => {
    let running: RunningApiServer | undefined;
    return {
      start: async () => {
        running = await startApiServer(config, readTLS(config), logger);
      },
      stop: async () => running?.stop(),
    };
  },
  // Shutdown waits --shutdown-delay-duration, then lets requests finish for up to --request-timeout.
  shutdownTimeoutMs: (config) => config.shutdownDelayMs + config.shutdownWatchTerminationGracePeriodMs + config.requestTimeoutMs + 5_000,
});
