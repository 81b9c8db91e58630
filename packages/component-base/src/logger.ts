// One pino root logger per process, tagged with its component; children per controller, request, key.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(component: string, level: LevelWithSilent = (process.env.KUBELAB_LOG_LEVEL as LevelWithSilent) || 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing (tests, in-process components). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
