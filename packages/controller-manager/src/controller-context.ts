// What every controller's start function gets and returns (upstream's cmd/kube-controller-manager
// ControllerContext and InitFunc). Each controller's `<name>/start.ts` exports its StartFunc;
// controllers.ts only maps names to them.
import type { Clock, EventBroadcaster, Logger, RestClient, SharedInformerFactory } from '@kubelab/client';
import type { ControllerManagerConfig } from './config.js';
import type { RunnableController } from './controller-utils.js';

export interface ControllerContext {
  client: RestClient;
  informers: SharedInformerFactory;
  config: Readonly<ControllerManagerConfig>;
  clock: Clock;
  logger: Logger & { child?(b: object): Logger };
  /** Writes the core/v1 Events of every controller; each takes a recorder named after itself (newRecorder). */
  eventBroadcaster: EventBroadcaster;
  /** The CA bundle read from --root-ca-file, if given. */
  rootCA?: string;
}

/** A started controller and how many workers it runs; undefined when it has nothing to do in this configuration. */
export type StartFunc = (ctx: ControllerContext) => { controller: RunnableController; workers: number } | undefined;

/** The context's logger, tagged with the controller's name. */
export function controllerLogger(ctx: ControllerContext, controller: string): Logger {
  return ctx.logger.child?.({ controller }) ?? ctx.logger;
}
