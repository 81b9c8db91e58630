// The service account controller (upstream's pkg/controller/serviceaccount): every active namespace
// has the `default` ServiceAccount; it is recreated if deleted.
import { isAlreadyExists, isForbidden, isNotFound, type KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';

export interface ServiceAccountControllerOptions {
  namespaceInformer: Informer<KubeObject>;
  serviceAccountInformer: Informer<KubeObject>;
  createServiceAccount(namespace: string, sa: KubeObject): Promise<unknown>;
  /** Upstream's --service-account names: ["default"]. */
  names?: string[];
  clock?: Clock;
  logger?: Logger;
}

export class ServiceAccountController implements RunnableController {
  readonly name = 'serviceaccount-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: ServiceAccountControllerOptions;
  private readonly names: string[];

  constructor(opts: ServiceAccountControllerOptions) {
    this.opts = opts;
    this.names = opts.names ?? ['default'];
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    opts.namespaceInformer.addEventHandler({ onAdd: (ns) => this.queue.add(ns.metadata.name!), onUpdate: (_o, ns) => this.queue.add(ns.metadata.name!) });
    opts.serviceAccountInformer.addEventHandler({
      onDelete: (sa) => {
        if (this.names.includes(sa.metadata.name!)) this.queue.add(sa.metadata.namespace!);
      },
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.opts.namespaceInformer.lister.get('', namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of this.names) {
      if (this.opts.serviceAccountInformer.lister.get(namespace, name)) continue;
      try {
        await this.opts.createServiceAccount(namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      } catch (err) {
        // Already there (the cache lags), or the namespace is going away.
        if (isAlreadyExists(err) || isNotFound(err) || isForbidden(err)) continue;
        throw err;
      }
    }
  }
}
