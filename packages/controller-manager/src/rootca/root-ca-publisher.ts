// The root CA certificate publisher (upstream's pkg/controller/certificates/rootcacertpublisher):
// every active namespace has the ConfigMap kube-root-ca.crt holding the cluster CA bundle.
import { isAlreadyExists, isForbidden, isNotFound, type KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the ' +
  'internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes ' +
  'clusters.';

export interface RootCAPublisherOptions {
  namespaceInformer: Informer<KubeObject>;
  configMapInformer: Informer<KubeObject>;
  rootCA: string;
  createConfigMap(namespace: string, cm: KubeObject): Promise<unknown>;
  updateConfigMap(cm: KubeObject): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

export class RootCAPublisher implements RunnableController {
  readonly name = 'root-ca-certificate-publisher-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: RootCAPublisherOptions;

  constructor(opts: RootCAPublisherOptions) {
    this.opts = opts;
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    opts.namespaceInformer.addEventHandler({ onAdd: (ns) => this.queue.add(ns.metadata.name!), onUpdate: (_o, ns) => this.queue.add(ns.metadata.name!) });
    const cmChanged = (cm: KubeObject) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) this.queue.add(cm.metadata.namespace!);
    };
    opts.configMapInformer.addEventHandler({ onUpdate: (_o, cm) => cmChanged(cm), onDelete: cmChanged });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.opts.namespaceInformer.lister.get('', namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const data = { [ROOT_CA_KEY]: this.opts.rootCA };
    const cm = this.opts.configMapInformer.lister.get(namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await this.opts.createConfigMap(namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
          data,
        });
        return;
      }
      const sameData = JSON.stringify(cm.data ?? {}) === JSON.stringify(data) && !cm.binaryData;
      const sameAnnotation = cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === ROOT_CA_DESCRIPTION;
      if (sameData && sameAnnotation) return;
      const next = structuredClone(cm);
      next.data = data;
      delete next.binaryData;
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION };
      await this.opts.updateConfigMap(next);
    } catch (err) {
      if (isAlreadyExists(err) || isNotFound(err) || isForbidden(err)) return;
      throw err;
    }
  }
}
