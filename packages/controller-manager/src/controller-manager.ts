// createControllerManager(config).start(): clients, shared informers, the enabled controllers, and
// (with --leader-elect) a Lease in kube-system so that only one instance acts at a time.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  EventBroadcaster,
  loadKubeconfig,
  realClock,
  RestClient,
  SharedInformerFactory,
  type Clock,
} from '@kubelab/client';
import {
  createLogger,
  leaderElectionIdentity,
  runLeaderElected,
  serveComponent,
  type ComponentServer,
  type LeaderElected,
  type Logger,
} from '@kubelab/component-base';
import { controllerManagerRegistry } from './metrics.js';
import type { ControllerManagerConfig } from './config.js';
import type { ControllerContext } from './controller-context.js';
import { isControllerEnabled } from './controller-names.js';
import { CONTROLLERS } from './controllers.js';

export interface ControllerManagerOptions {
  /** Defaults to a client built from --kubeconfig (and --master). */
  client?: RestClient;
  logger?: Logger;
  clock?: Clock;
  /** Leader election identity; defaults to hostname_uuid, as upstream. */
  identity?: string;
  /** Called when leadership is lost (upstream exits the process). */
  onLeadershipLost?: () => void;
}

export interface ControllerManager {
  readonly config: Readonly<ControllerManagerConfig>;
  readonly identity: string;
  /** Starts campaigning (or running at once without --leader-elect); resolves when started. */
  start(): Promise<void>;
  /** Stops the controllers and informers (and releases the lease). */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** Names of the controllers running now. */
  running(): string[];
  /** The HTTPS port serving /healthz and /metrics (after start), if --secure-port is not 0. */
  securePort(): number | undefined;
}

export function createControllerManager(config: Readonly<ControllerManagerConfig>, opts: ControllerManagerOptions = {}): ControllerManager {
  const logger = opts.logger ?? createLogger('kube-controller-manager');
  const clock = opts.clock ?? realClock;
  const identity = opts.identity ?? leaderElectionIdentity();
  const client =
    opts.client ??
    (() => {
      const rc = loadKubeconfig(config.kubeconfig);
      return new RestClient({ ...rc, server: config.master ?? rc.server, userAgent: 'kube-controller-manager' });
    })();
  const rootCA = config.rootCAFile ? readFileSync(config.rootCAFile, 'utf8') : undefined;

  let runningNames: string[] = [];
  let election: LeaderElected | undefined;
  let runAbort: AbortController | undefined;
  let runDone: Promise<void> | undefined;
  let secure: ComponentServer | undefined;

  /** /healthz, /livez, /readyz for anyone; /metrics for callers the kube-apiserver authorizes (delegated). */
  const serve = async (): Promise<void> => {
    secure = await serveComponent({ ...config, component: 'kube-controller-manager', client, metrics: controllerManagerRegistry, logger });
  };

  /** Builds informers and controllers, then runs them until `signal` aborts. */
  const runControllers = async (signal: AbortSignal): Promise<void> => {
    // Every informer and controller listens on this one signal (more than Node's default warning threshold of 10).
    setMaxListeners(0, signal);
    // Upstream's ResyncPeriod: a random period in [--min-resync-period, 2 x --min-resync-period).
    const resyncPeriodMs = config.minResyncPeriodMs * (1 + Math.random());
    const informers = new SharedInformerFactory(client, { logger, clock, resyncPeriodMs });
    const eventBroadcaster = new EventBroadcaster({
      client,
      clock,
      onError: (err, event) => logger.debug?.({ err: (err as Error).message, reason: event.reason }, 'Failed to record event'),
    });
    const ctx: ControllerContext = { client, informers, config, clock, logger, rootCA, eventBroadcaster };
    const started: Array<{ name: string; run: () => Promise<void> }> = [];
    for (const [name, start] of Object.entries(CONTROLLERS)) {
      if (!isControllerEnabled(name, config.controllers)) {
        logger.info({ controller: name }, 'Warning: controller is disabled');
        continue;
      }
      const s = start(ctx);
      if (!s) continue;
      started.push({ name, run: () => s.controller.run(s.workers, signal) });
      logger.info({ controller: name }, 'Started controller');
    }
    informers.start();
    const synced = await informers.waitForCacheSync(signal);
    if (synced) {
      runningNames = started.map((s) => s.name);
      await Promise.all(started.map((s) => s.run().catch((err) => logger.error({ err, controller: s.name }, 'Controller failed'))));
      runningNames = [];
    }
    await informers.shutdown();
    // Events already recorded are written; failed writes are not retried any more.
    eventBroadcaster.shutdown();
    await eventBroadcaster.flush();
  };

  const startRunning = (): void => {
    runAbort = new AbortController();
    runDone = runControllers(runAbort.signal);
  };

  const stopRunning = async (): Promise<void> => {
    runAbort?.abort();
    await runDone;
  };

  return {
    config,
    identity,
    isLeader: () => election?.isLeader() ?? false,
    running: () => [...runningNames],
    securePort: () => secure?.port(),
    async start() {
      await serve();
      election = runLeaderElected({
        config,
        client,
        identity,
        clock,
        logger,
        lead: (signal) => {
          startRunning();
          signal.addEventListener('abort', () => void stopRunning(), { once: true });
        },
        lost: () => {
          void stopRunning();
          opts.onLeadershipLost?.();
        },
      });
    },
    async stop() {
      // Controllers stop first, then the Lease is released (upstream's ReleaseOnCancel) while the client is open.
      await stopRunning();
      await election?.stop();
      await secure?.close();
      client.close();
    },
  };
}
