// How every Kubelab process runs (upstream: cobra command + component-base/cli.Run, k3s's executors):
// flags -> validated config -> logger -> start; SIGTERM/SIGINT stop it gracefully; fatal errors exit 1.
import type { Logger } from 'pino';
import { FlagError, flagUsages, parseFlagSet, type FlagDefs, type ParsedFlags } from './flags.js';
import { createLogger } from './logger.js';

/** A started process part: the apiserver, a scheduler, a kubelet. `stop` is idempotent. */
export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a component may ask of the process it runs in. */
export interface ComponentDeps {
  logger: Logger;
  /** Ends the process with exit code 1 after logging `reason` (e.g. "leaderelection lost"), as klog.Fatal. */
  fatal(reason: string, err?: unknown): never;
}

export interface ComponentCommand<D extends FlagDefs, C> {
  /** The upstream binary name: 'kube-scheduler'. */
  name: string;
  /** One line for --help. */
  short?: string;
  flags: D;
  /** Parsed flags -> validated, frozen config. Throws (any Error) with a message naming the flag. */
  complete(flags: ParsedFlags<D>, env: NodeJS.ProcessEnv): C;
  create(config: C, deps: ComponentDeps): Component | Promise<Component>;
  /** How long a graceful stop may take before the process exits anyway (default 30 s). */
  shutdownTimeoutMs?: number | ((config: C) => number);
}

/** What the process provides; replaced in tests. */
export interface ProcessHooks {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  exit: (code: number) => never;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
  logger?: Logger;
}

function realProcess(): ProcessHooks {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    exit: (code) => process.exit(code),
    onSignal: (signal, handler) => void process.on(signal, handler),
  };
}

/**
 * Runs a component as its `main`: a bad flag or config is one `Error: ...` line and exit code 1 (as
 * cobra); `--help` prints the flags and exits 0; a start failure is logged and exits 1; the first
 * SIGTERM or SIGINT stops it and exits 0 (1 if stopping failed or took longer than the timeout), a
 * second one exits 1 at once.
 */
export async function runComponent<D extends FlagDefs, C>(cmd: ComponentCommand<D, C>, hooks: ProcessHooks = realProcess()): Promise<Component | undefined> {
  let config: C;
  try {
    const { flags, help } = parseFlagSet(hooks.argv, cmd.flags);
    if (help) {
      hooks.stdout(`${cmd.short ? `${cmd.short}\n\n` : ''}Usage:\n  ${cmd.name} [flags]\n\nFlags:\n${flagUsages(cmd.flags)}\n`);
      return hooks.exit(0);
    }
    config = cmd.complete(flags, hooks.env);
  } catch (err) {
    hooks.stderr(`Error: ${(err as Error).message}\n`);
    if (err instanceof FlagError) hooks.stderr(`Run '${cmd.name} --help' for usage.\n`);
    return hooks.exit(1);
  }
  const logger = hooks.logger ?? createLogger(cmd.name);
  const fatal = (reason: string, err?: unknown): never => {
    logger.fatal({ err }, reason);
    return hooks.exit(1);
  };
  let component: Component;
  try {
    component = await cmd.create(config, { logger, fatal });
    await component.start();
  } catch (err) {
    return fatal(`Failed to start ${cmd.name}`, err);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'Second signal: exiting at once');
      hooks.exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    const timeoutMs = typeof cmd.shutdownTimeoutMs === 'function' ? cmd.shutdownTimeoutMs(config) : (cmd.shutdownTimeoutMs ?? 30_000);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref?.();
    });
    Promise.race([component.stop().then(() => 'stopped' as const), timedOut]).then(
      (how) => {
        clearTimeout(timer);
        if (how === 'timeout') logger.error({ timeoutMs }, 'Graceful shutdown timed out');
        else logger.info({}, 'Stopped');
        hooks.exit(how === 'stopped' ? 0 : 1);
      },
      (err) => {
        clearTimeout(timer);
        logger.error({ err }, 'Shutdown failed');
        hooks.exit(1);
      },
    );
  };
  hooks.onSignal('SIGTERM', () => shutdown('SIGTERM'));
  hooks.onSignal('SIGINT', () => shutdown('SIGINT'));
  return component;
}
