// kube-controller-manager: parse flags, build, start. Everything else is in controller-manager.ts.
import { createLogger } from '@kubelab/component-base';
import { configFromFlags } from './config.js';
import { createControllerManager } from './controller-manager.js';

const logger = createLogger('kube-controller-manager');
try {
  const config = configFromFlags(process.argv.slice(2));
  const cm = createControllerManager(config, {
    logger,
    onLeadershipLost: () => {
      logger.fatal({}, 'leaderelection lost');
      process.exit(1);
    },
  });
  await cm.start();
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'Shutting down');
    await cm.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
} catch (err) {
  logger.fatal({ err }, 'Failed to start kube-controller-manager');
  process.exit(1);
}
