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
import { CONTROLLER_SERVICE_ACCOUNTS, isControllerEnabled } from './controller-names.js';
import { serviceAccountClientBuilder, simpleClientBuilder } from './client-builder.js';
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

const CLIENT_ATTEMPTS = 30;
const CLIENT_RETRY_MS = 1000;

/** A controller's client, retried a bounded number of times (the apiserver may still be starting). */
async function clientWithRetries(get: () => Promise<RestClient>, signal: AbortSignal, logger: Logger, account: string): Promise<RestClient | undefined> {
  for (let attempt = 1; attempt <= CLIENT_ATTEMPTS && !signal.aborted; attempt++) {
    try {
      return await get();
    } catch (err) {
      logger.info({ err: (err as Error).message, serviceAccount: account, attempt }, 'Failed to get a client for the controller service account');
      await new Promise<void>((r) => {
        const t = setTimeout(r, CLIENT_RETRY_MS);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            r();
          },
          { once: true },
        );
      });
    }
  }
  return undefined;
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
    // The shared informers list and watch with the controller-manager's own credentials (upstream's
    // "shared-informers" client); each controller writes with the client of its builder.
    const informers = new SharedInformerFactory(client, { logger, clock, resyncPeriodMs });
    const newBroadcaster = (c: RestClient) =>
      new EventBroadcaster({
        client: c,
        clock,
        onError: (err, event) => logger.debug?.({ err: (err as Error).message, reason: event.reason }, 'Failed to record event'),
      });
    const eventBroadcaster = newBroadcaster(client);
    const broadcasters = [eventBroadcaster];
    const builder = config.useServiceAccountCredentials ? serviceAccountClientBuilder({ root: client, clock, logger }) : simpleClientBuilder(client);
    const ctx: ControllerContext = { client, informers, config, clock, logger, rootCA, eventBroadcaster };
    const enabled = Object.entries(CONTROLLERS).filter(([name]) => {
      if (isControllerEnabled(name, config.controllers)) return true;
      logger.info({ controller: name }, 'Warning: controller is disabled');
      return false;
    });
    // Each account's client (and its events' writer) once, fetched in parallel.
    const accountContexts = new Map<string, Promise<ControllerContext | undefined>>();
    const contextFor = (name: string): Promise<ControllerContext | undefined> => {
      if (!config.useServiceAccountCredentials) return Promise.resolve(ctx);
      const account = CONTROLLER_SERVICE_ACCOUNTS[name] ?? name;
      let p = accountContexts.get(account);
      if (!p) {
        p = clientWithRetries(() => builder.client(account), signal, logger, account).then((c) => {
          if (!c) return undefined;
          const b = newBroadcaster(c);
          broadcasters.push(b);
          return { ...ctx, client: c, eventBroadcaster: b };
        });
        accountContexts.set(account, p);
      }
      return p;
    };
    const contexts = await Promise.all(enabled.map(([name]) => contextFor(name)));
    const started: Array<{ name: string; run: () => Promise<void> }> = [];
    for (const [i, [name, start]] of enabled.entries()) {
      const controllerCtx = contexts[i];
      if (!controllerCtx) {
        if (!signal.aborted) logger.error({ controller: name }, 'Error starting controller: no client for its service account');
        continue;
      }
      const s = start(controllerCtx);
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
    for (const b of broadcasters) b.shutdown();
    await Promise.all(broadcasters.map((b) => b.flush()));
    builder.stop();
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
