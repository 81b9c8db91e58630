// The EndpointSlice controller (upstream's pkg/controller/endpointslice): for every Service with a
// selector, discovery.k8s.io/v1 EndpointSlices (IPv4, at most 100 endpoints each, one set per
// distinct port mapping) listing the selected pods with their ready/serving/terminating conditions.
import type { KubeObject } from '@kubelab/api';
import { type Clock, type EventRecorder, type Informer, type Logger, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue } from '@kubelab/client';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { isNotFound } from '@kubelab/api';
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
} from '../endpoints/endpoints-util.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Upstream's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface EndpointSliceClient {
  create(namespace: string, slice: EndpointSlice): Promise<EndpointSlice>;
  update(slice: EndpointSlice): Promise<EndpointSlice>;
  delete(namespace: string, name: string): Promise<unknown>;
}

export interface EndpointSliceControllerOptions {
  serviceInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  nodeInformer: Informer<KubeObject>;
  endpointSliceInformer: Informer<KubeObject>;
  client: EndpointSliceClient;
  recorder: EventRecorder;
  maxEndpointsPerSlice?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Thrown when the slice cache has not caught up with this controller's own writes yet (upstream's StaleInformerCache). */
export class StaleInformerCacheError extends Error {}

interface Group {
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

export class EndpointSliceController implements RunnableController {
  readonly name = 'endpointslice-controller';
  readonly queue: WorkQueue<string>;
  private readonly opts: EndpointSliceControllerOptions;
  private readonly max: number;
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Per service: slices created but not seen in the cache yet, generations written, uids deleted. */
  private readonly tracker = new Map<string, { created: Set<string>; generations: Map<string, number>; deleted: Set<string> }>();

  constructor(opts: EndpointSliceControllerOptions) {
    this.opts = opts;
    this.max = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.queue = new WorkQueue<string>({ name: this.name, clock: opts.clock ?? realClock });
    const enqueue = (o: KubeObject) => this.queue.add(metaNamespaceKey(o));
    opts.serviceInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: enqueue });
    opts.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (old, cur) => {
        if (old.metadata.resourceVersion !== cur.metadata.resourceVersion) this.podChanged(cur, old);
      },
      onDelete: (p) => this.podChanged(p),
    });
    const sliceChanged = (s: KubeObject) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc && s.metadata.labels?.[MANAGED_BY_LABEL] === ENDPOINTSLICE_CONTROLLER_NAME) this.queue.add(`${s.metadata.namespace}/${svc}`);
    };
    opts.endpointSliceInformer.addEventHandler({ onAdd: sliceChanged, onUpdate: (_o, s) => sliceChanged(s), onDelete: sliceChanged });
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

  /** The controller's slices of a service, as the cache holds them. */
  private slicesOf(namespace: string, name: string): EndpointSlice[] {
    return (this.opts.endpointSliceInformer.lister.list(namespace) as unknown as EndpointSlice[]).filter(
      (s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name && s.metadata?.labels?.[MANAGED_BY_LABEL] === ENDPOINTSLICE_CONTROLLER_NAME,
    );
  }

  private checkStale(key: string, slices: EndpointSlice[]): void {
    const t = this.tracker.get(key);
    if (!t) return;
    const names = new Set(slices.map((s) => s.metadata!.name!));
    for (const n of t.created) if (names.has(n)) t.created.delete(n);
    for (const s of slices) {
      const uid = s.metadata!.uid!;
      const want = t.generations.get(uid);
      if (want !== undefined && (s.metadata!.generation ?? 0) >= want) t.generations.delete(uid);
    }
    for (const uid of t.deleted) if (!slices.some((s) => s.metadata!.uid === uid)) t.deleted.delete(uid);
    if (t.created.size || t.generations.size || t.deleted.size) {
      throw new StaleInformerCacheError(`EndpointSlice informer cache is out of date for service ${key}`);
    }
  }

  private track(key: string) {
    let t = this.tracker.get(key);
    if (!t) this.tracker.set(key, (t = { created: new Set(), generations: new Map(), deleted: new Set() }));
    return t;
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.opts.serviceInformer.lister.get(namespace, name) as Service | undefined;
    if (!svc) {
      // Its slices are owned by it: the garbage collector removes them.
      this.triggerTimes.delete(key);
      this.tracker.delete(key);
      return;
    }
    if (svc.spec?.type === 'ExternalName') return;
    const allPods = selectedPods(svc, this.opts.podInformer.lister.list(namespace) as Pod[]);
    if (!allPods) return;
    const existing = this.slicesOf(namespace, name);
    this.checkStale(key, existing);

    const pods = allPods.filter((p) => shouldPodBeInEndpoints(p, true));
    const { time: triggerTime, commit } = this.triggerTimes.compute(key, svc, allPods);
    let skipped = 0;
    const groups = new Map<string, Group>();
    for (const pod of pods) {
      let node: Node | undefined;
      if (pod.spec?.nodeName) {
        node = this.opts.nodeInformer.lister.get('', pod.spec.nodeName) as Node | undefined;
        if (!node) {
          // Retried later, once the node shows up; the slice is written without this pod meanwhile.
          skipped++;
          continue;
        }
      }
      const ports = endpointPorts(svc, pod);
      const pk = portsKey(ports);
      let g = groups.get(pk);
      if (!g) groups.set(pk, (g = { ports, endpoints: new Map() }));
      const ep = podToEndpoint(pod, svc, node);
      g.endpoints.set(endpointKey(ep), ep);
    }

    const labels = sliceLabels(svc);
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    const toDelete: EndpointSlice[] = [];
    const kept: EndpointSlice[] = [];
    const uid = svc.metadata!.uid;
    const bySlicePorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const owned = s.metadata?.ownerReferences?.some((r) => r.uid === uid && r.kind === 'Service');
      if (!owned || s.addressType !== 'IPv4') {
        toDelete.push(s);
        continue;
      }
      const pk = portsKey(s.ports ?? []);
      bySlicePorts.set(pk, [...(bySlicePorts.get(pk) ?? []), s]);
    }
    for (const [pk, slices] of bySlicePorts) {
      if (!groups.has(pk)) toDelete.push(...slices);
    }
    for (const [pk, g] of groups) {
      const unchanged: EndpointSlice[] = [];
      const updating: EndpointSlice[] = [];
      for (const s of bySlicePorts.get(pk) ?? []) {
        let changed = false;
        const next: Endpoint[] = [];
        for (const ep of s.endpoints ?? []) {
          const k = endpointKey(ep);
          const want = g.endpoints.get(k);
          if (!want) {
            changed = true;
            continue;
          }
          if (!semanticEqual(ep, want)) changed = true;
          next.push(want);
          g.endpoints.delete(k);
        }
        if (!changed) unchanged.push(s);
        else if (next.length === 0) toDelete.push(s);
        else updating.push({ ...s, endpoints: next });
      }
      const remaining = [...g.endpoints.values()].sort((a, b) => cmp(endpointKey(a), endpointKey(b)));
      for (const s of updating) while (remaining.length && s.endpoints.length < this.max) s.endpoints.push(remaining.shift()!);
      while (remaining.length >= this.max) toCreate.push(this.newSlice(svc, labels, g.ports, remaining.splice(0, this.max)));
      if (remaining.length) {
        const roomy = unchanged.filter((s) => this.max - (s.endpoints?.length ?? 0) >= remaining.length).sort((a, b) => (a.endpoints?.length ?? 0) - (b.endpoints?.length ?? 0))[0];
        if (roomy) {
          unchanged.splice(unchanged.indexOf(roomy), 1);
          updating.push({ ...roomy, endpoints: [...(roomy.endpoints ?? []), ...remaining] });
        } else {
          toCreate.push(this.newSlice(svc, labels, g.ports, remaining));
        }
      }
      toUpdate.push(...updating);
      kept.push(...unchanged);
    }
    // Slices left alone still need the service's current labels.
    for (const s of kept) if (!semanticEqual(s.metadata?.labels ?? {}, labels)) toUpdate.push({ ...s });

    // A service with no endpoints at all keeps one empty placeholder slice.
    if (toCreate.length === 0 && toUpdate.length === 0 && kept.length === 0) {
      const i = toDelete.findIndex((s) => s.metadata?.ownerReferences?.some((r) => r.uid === uid) && !(s.endpoints ?? []).length && !(s.ports ?? []).length);
      if (i >= 0) {
        const [placeholder] = toDelete.splice(i, 1);
        if (!semanticEqual(placeholder!.metadata?.labels ?? {}, labels)) toUpdate.push({ ...placeholder! });
      } else {
        toCreate.push(this.newSlice(svc, labels, [], []));
      }
    }

    const t = this.track(key);
    for (const s of toCreate) {
      setTriggerTime(s, triggerTime);
      const created = await this.opts.client.create(namespace, s);
      t.created.add(created.metadata!.name!);
    }
    for (const s of toUpdate) {
      s.metadata = { ...s.metadata, labels };
      setTriggerTime(s, triggerTime);
      const updated = await this.opts.client.update(s);
      t.generations.set(updated.metadata!.uid!, updated.metadata!.generation ?? 0);
    }
    for (const s of toDelete) {
      try {
        await this.opts.client.delete(namespace, s.metadata!.name!);
        t.deleted.add(s.metadata!.uid!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    commit();
    if (toCreate.length || toUpdate.length || toDelete.length) {
      this.opts.logger?.debug?.({ object: key, created: toCreate.length, updated: toUpdate.length, deleted: toDelete.length }, 'Reconciled EndpointSlices');
    }
    if (skipped) throw new Error(`skipped ${skipped} pods of service ${key}: their nodes are not in the cache yet`);
  }

  private newSlice(svc: Service, labels: Record<string, string>, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: `${svc.metadata!.name}-`,
        namespace: svc.metadata!.namespace,
        labels,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name!, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
  }
}

function setTriggerTime(s: EndpointSlice, t: string | undefined): void {
  const annotations = { ...(s.metadata?.annotations ?? {}) };
  if (t) annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] = t;
  else delete annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION];
  s.metadata = { ...s.metadata, annotations: Object.keys(annotations).length ? annotations : undefined };
}

/** The service's labels plus the ones that tie a slice to it (upstream's setEndpointSliceLabels). */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k === SERVICE_NAME_LABEL || k === MANAGED_BY_LABEL || k === HEADLESS_LABEL) continue;
    labels[k] = v;
  }
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata!.name!;
  labels[MANAGED_BY_LABEL] = ENDPOINTSLICE_CONTROLLER_NAME;
  return labels;
}

/** The ports a pod serves for a service (ports its containers cannot resolve are left out). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** Upstream's podToEndpoint: conditions from readiness and deletion, topology from the node. */
export function podToEndpoint(pod: Pod, svc: Service, node: Node | undefined): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [podIP(pod)!],
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
  };
  const hostname = endpointHostname(pod, svc);
  if (hostname) ep.hostname = hostname;
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  return ep;
}

function endpointKey(ep: Endpoint): string {
  return `${ep.addresses[0]}|${ep.targetRef?.uid ?? ''}`;
}

function portsKey(ports: EndpointPort[]): string {
  const norm = ports.map((p) => `${p.name ?? ''}/${p.port ?? ''}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`).sort();
  return norm.join(',');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
