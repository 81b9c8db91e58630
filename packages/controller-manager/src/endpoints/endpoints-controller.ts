// The Endpoints controller (upstream's pkg/controller/endpoint): for every Service with a selector,
// an Endpoints object of the same name listing the selected pods' addresses (ready ones in
// `addresses`, the others in `notReadyAddresses`) and each pod's resolved target ports.
import { isAlreadyExists, isForbidden, isNotFound, type KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import { runQueue, type RunnableController } from '../controller-utils.js';
import {
  endpointHostname,
  findPort,
  HEADLESS_LABEL,
  isHeadless,
  isPodReady,
  LAST_CHANGE_TRIGGER_TIME_ANNOTATION,
  podIP,
  selectedPods,
  semanticEqual,
  servicesForPod,
  shouldPodBeInEndpoints,
  TriggerTimeTracker,
} from './endpoints-util.js';

/** Upstream's maxCapacity: an Endpoints object holds at most this many addresses. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

export interface EndpointsClient {
  create(namespace: string, ep: Endpoints): Promise<unknown>;
  update(ep: Endpoints): Promise<unknown>;
  delete(namespace: string, name: string): Promise<unknown>;
}

export interface EndpointsControllerOptions {
  serviceInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  endpointsInformer: Informer<KubeObject>;
  client: EndpointsClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

export class EndpointsController implements RunnableController {
  readonly name = 'endpoints-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: EndpointsControllerOptions;
  private readonly triggerTimes = new TriggerTimeTracker();

  constructor(opts: EndpointsControllerOptions) {
    this.opts = opts;
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    const enqueue = (o: KubeObject) => this.queue.add(metaNamespaceKey(o));
    opts.serviceInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: enqueue });
    opts.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (old, cur) => {
        if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
        this.podChanged(cur, old);
      },
      onDelete: (p) => this.podChanged(p),
    });
    // A deleted (or hand-edited) Endpoints object is put back.
    opts.endpointsInformer.addEventHandler({
      onUpdate: (_o, ep) => enqueue(ep),
      onDelete: (ep) => enqueue(ep),
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  private podChanged(pod: KubeObject, old?: KubeObject): void {
    const services = this.opts.serviceInformer.lister.list(pod.metadata.namespace);
    const keys = new Set(servicesForPod(services, pod.metadata.labels).map(metaNamespaceKey));
    if (old) for (const s of servicesForPod(services, old.metadata.labels)) keys.add(metaNamespaceKey(s));
    for (const k of keys) this.queue.add(k);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.opts.serviceInformer.lister.get(namespace, name) as Service | undefined;
    if (!svc) {
      // The Service is gone: so is its Endpoints object.
      this.triggerTimes.delete(key);
      try {
        await this.opts.client.delete(namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // The apiserver maintains default/kubernetes itself; ExternalName services get no endpoints.
    if (namespace === 'default' && name === 'kubernetes') return;
    if (svc.spec?.type === 'ExternalName') return;
    const pods = selectedPods(svc, this.opts.podInformer.lister.list(namespace) as Pod[]);
    if (!pods) return;

    const { time: triggerTime, commit } = this.triggerTimes.compute(key, svc, pods);
    const { subsets, total } = desiredSubsets(svc, pods);
    const current = this.opts.endpointsInformer.lister.get(namespace, name) as Endpoints | undefined;
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
    const overCapacity = total > MAX_ENDPOINTS_CAPACITY;
    const curAnnotations = current?.metadata?.annotations ?? {};
    if (
      current &&
      semanticEqual(current.subsets ?? [], subsets) &&
      semanticEqual(current.metadata?.labels ?? {}, labels) &&
      (curAnnotations[OVER_CAPACITY_ANNOTATION] === 'truncated') === overCapacity
    ) {
      commit();
      return;
    }

    const annotations: Record<string, string> = { ...curAnnotations };
    delete annotations[OVER_CAPACITY_ANNOTATION];
    if (overCapacity) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] = triggerTime;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION];
    const ep: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? {}), name, namespace, labels, annotations: Object.keys(annotations).length ? annotations : undefined },
      subsets: subsets.length ? subsets : undefined,
    };
    const log = this.opts.logger;
    try {
      if (current) await this.opts.client.update(ep);
      else await this.opts.client.create(namespace, ep);
      commit();
      log?.debug?.({ object: key, addresses: total }, 'Updated endpoints');
    } catch (err) {
      // The namespace is terminating, or a racing create: the next event fixes it.
      if (!current && (isAlreadyExists(err) || isForbidden(err))) return;
      this.opts.recorder.event(
        svc as KubeObject,
        'Warning',
        current ? 'FailedToUpdateEndpoint' : 'FailedToCreateEndpoint',
        `Failed to ${current ? 'update' : 'create'} endpoint ${key}: ${(err as Error).message}`,
      );
      throw err;
    }
  }
}

/**
 * The subsets a service should have (upstream's syncService loop plus RepackSubsets): one entry per
 * distinct port set, addresses sorted by IP. Returns how many addresses there are in total.
 */
export function desiredSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; total: number } {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  let total = 0;
  const add = (pod: Pod, addr: EndpointAddress, ports: EndpointPort[]) => {
    const sorted = [...ports].sort((a, b) => cmp(a.name ?? '', b.name ?? '') || a.port - b.port || cmp(a.protocol ?? '', b.protocol ?? ''));
    const k = JSON.stringify(sorted);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: sorted, ready: [], notReady: [] }));
    if (publishNotReady || isPodReady(pod)) g.ready.push(addr);
    else g.notReady.push(addr);
    total++;
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIP(pod)!;
    const addr: EndpointAddress = { ip };
    const hostname = endpointHostname(pod, svc);
    if (hostname) addr.hostname = hostname;
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    addr.targetRef = { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid };
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0 && isHeadless(svc)) {
      add(pod, addr, []);
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    // A pod exposing none of the service's ports has no endpoint (upstream skips each failed port).
    if (ports.length === 0) continue;
    add(pod, addr, ports);
  }
  const byIP = (a: EndpointAddress, b: EndpointAddress) => cmp(a.ip, b.ip) || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
  let budget = MAX_ENDPOINTS_CAPACITY;
  const subsets: EndpointSubset[] = [];
  for (const k of [...groups.keys()].sort()) {
    const g = groups.get(k)!;
    const ready = g.ready.sort(byIP).slice(0, Math.max(0, budget));
    budget -= ready.length;
    const notReady = g.notReady.sort(byIP).slice(0, Math.max(0, budget));
    budget -= notReady.length;
    if (!ready.length && !notReady.length) continue;
    const s: EndpointSubset = {};
    if (ready.length) s.addresses = ready;
    if (notReady.length) s.notReadyAddresses = notReady;
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return { subsets, total };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
