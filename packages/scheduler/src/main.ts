// kube-scheduler entry point: parse flags, build, start; stop on SIGTERM/SIGINT.
import { createLogger } from '@kubelab/component-base';
import { configFromArgs } from './config.js';
import { createScheduler } from './scheduler.js';

const log = createLogger('kube-scheduler');
const config = configFromArgs(process.argv.slice(2));
const scheduler = createScheduler(config, { logger: log });
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void scheduler.stop().then(() => process.exit(0)));
scheduler.start().catch((err) => {
  log.fatal({ err }, 'kube-scheduler failed to start');
  process.exit(1);
});
