// kube-apiserver: parse flags, build the server, bootstrap, listen. Everything else is in server.ts.
import { createLogger } from '@kubelab/component-base';
import { configFromFlags, readTLS } from './config.js';
import { startApiServer } from './run.js';

const logger = createLogger('kube-apiserver');
try {
  const config = configFromFlags(process.argv.slice(2));
  const running = await startApiServer(config, readTLS(config), logger);
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'Shutting down');
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
} catch (err) {
  logger.fatal({ err }, 'Failed to start kube-apiserver');
  process.exit(1);
}
