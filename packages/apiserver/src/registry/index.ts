// The registry: the one table of every resource's and subresource's storage (upstream's per-group
// RESTStorageProviders feeding the API installer), keyed `<group>/<version>/<resource>[/<subresource>]`.
// Most resources are a generic Store with a resource strategy; the rest are named here.
import type { Storage } from '../storage/interface.js';
import type { EtcdClientTLS } from '../storage/etcd.js';
import { ClusterIPAllocator, NodePortAllocator, parsePortRange } from '../allocator/allocator.js';
import { Store, type Clock } from './store.js';
import { eventsV1Storage } from './events.js';
import { convertingStorage, horizontalPodAutoscalerV1Converter } from './conversion.js';
import { buildDefinitions } from './defaults.js';
import { jobStrategy } from './batch.js';
import { csrStrategy, csrSubresources } from './certificates.js';
import { rbacStrategies } from './rbac.js';
import { persistentVolumeClaimStrategy, persistentVolumeStatusStrategy, persistentVolumeStrategy } from './storage.js';
import {
  bindingREST,
  legacyBindingREST,
  namespaceFinalizeStrategy,
  namespaceStrategy,
  nodeStrategy,
  podBindingStrategy,
  podStrategy,
  serviceStrategy,
} from './core.js';
import { componentStatusREST } from './componentstatus.js';
import { scaleREST } from './scale.js';
import { statusREST } from './status.js';
import type { Creater, ListQuery, NamedCreater, RESTStorage } from './rest.js';
import { KubeletClient, type KubeletClientConfig } from './kubelet-client.js';
import { podLogREST } from './pod-log.js';
import { podAttachREST, podExecREST } from './pod-exec.js';
import { podPortForwardREST } from './pod-portforward.js';
import { evictionStorage } from './eviction.js';
import { kubeletSummary, nodeMetricsREST, podMetricsREST } from './metrics.js';

export interface Registry {
  /** Every storage, keyed `<group>/<version>/<resource>[/<subresource>]` (core group is '': `/v1/pods/status`). */
  storages: Map<string, RESTStorage>;
  /** The generic Stores among them, keyed `<group>/<version>/<resource>`. */
  stores: Map<string, Store>;
  store(group: string, version: string, resource: string): Store;
  ips: ClusterIPAllocator;
  ports: NodePortAllocator;
}

/** The storages built from the authenticator and authorizer, registered once the server has built those. */
export interface AuthStorages {
  tokenReviews: Creater;
  selfSubjectReviews: Creater;
  /** Only with --service-account-signing-key-file. */
  serviceAccountToken?: NamedCreater;
  subjectAccessReviews: Creater;
  localSubjectAccessReviews: Creater;
  selfSubjectAccessReviews: Creater;
  selfSubjectRulesReviews: Creater;
}

const AUTH_STORAGE_KEYS: Record<keyof AuthStorages, string> = {
  tokenReviews: 'authentication.k8s.io/v1/tokenreviews',
  selfSubjectReviews: 'authentication.k8s.io/v1/selfsubjectreviews',
  serviceAccountToken: '/v1/serviceaccounts/token',
  subjectAccessReviews: 'authorization.k8s.io/v1/subjectaccessreviews',
  localSubjectAccessReviews: 'authorization.k8s.io/v1/localsubjectaccessreviews',
  selfSubjectAccessReviews: 'authorization.k8s.io/v1/selfsubjectaccessreviews',
  selfSubjectRulesReviews: 'authorization.k8s.io/v1/selfsubjectrulesreviews',
};

/** Resources that are no Store: answered (reviews), bound (bindings) or probed (componentstatuses), never stored. */
const NOT_STORED = new Set(['/v1/bindings', '/v1/componentstatuses', 'metrics.k8s.io/v1beta1/nodes', 'metrics.k8s.io/v1beta1/pods', ...Object.values(AUTH_STORAGE_KEYS)]);

/**
 * Served versions whose objects are stored in another version (upstream's storage version and codecs):
 * events.k8s.io/v1 Events are core/v1 Events in storage; autoscaling/v1 HorizontalPodAutoscalers are autoscaling/v2 ones.
 */
const VERSION_VIEWS: Record<string, (storage: Storage) => Storage> = {
  'events.k8s.io/v1/events': eventsV1Storage,
  'autoscaling/v1/horizontalpodautoscalers': (storage) => convertingStorage(storage, horizontalPodAutoscalerV1Converter),
};

export function createRegistry(opts: {
  storageFor: (prefix: string) => Storage;
  rawStorage: Storage;
  serviceClusterIPRange: string;
  serviceNodePortRange: string;
  /** etcd client URLs and TLS, probed by componentstatuses. */
  etcdServers?: string[];
  etcdClientTLS?: EtcdClientTLS;
  /** How pods/log, pods/exec and pods/attach reach the kubelets (--kubelet-client-certificate, ...). */
  kubeletClient?: KubeletClientConfig;
  clock?: Clock;
}): Registry {
  const clock = opts.clock ?? (() => new Date());
  const ips = new ClusterIPAllocator(opts.rawStorage, opts.serviceClusterIPRange);
  const range = parsePortRange(opts.serviceNodePortRange);
  const ports = new NodePortAllocator(opts.rawStorage, range.min, range.max);
  const defs = buildDefinitions(
    {
      pods: podStrategy,
      namespaces: namespaceStrategy,
      nodes: nodeStrategy,
      services: serviceStrategy(ips, ports),
      'jobs.batch': jobStrategy,
      'certificatesigningrequests.certificates.k8s.io': csrStrategy,
      persistentvolumes: persistentVolumeStrategy(clock),
      persistentvolumeclaims: persistentVolumeClaimStrategy,
      ...rbacStrategies(() => stores),
    },
    {
      pods: { binding: podBindingStrategy },
      namespaces: { finalize: namespaceFinalizeStrategy },
      'certificatesigningrequests.certificates.k8s.io': csrSubresources,
      persistentvolumes: { status: persistentVolumeStatusStrategy(clock) },
    },
  );
  const storages = new Map<string, RESTStorage>();
  const stores = new Map<string, Store>();
  for (const [id, def] of defs) {
    if (NOT_STORED.has(id)) continue;
    const storage = opts.storageFor(`/registry/${def.info.resource}/`);
    const store = new Store(def, VERSION_VIEWS[id]?.(storage) ?? storage, { clock });
    stores.set(id, store);
    storages.set(id, store);
    for (const sub of def.info.subresources) {
      const key = `${id}/${sub.name}`;
      if (sub.name === 'scale') storages.set(key, scaleREST(store));
      else if (sub.name === 'binding') storages.set(key, bindingREST(store, clock));
      // status, namespaces/finalize, certificatesigningrequests/approval: the Store through the subresource's strategy.
      else if (def.subresources[sub.name]) storages.set(key, statusREST(store, sub.name));
    }
  }
  const pods = stores.get('/v1/pods')!;
  storages.set('/v1/bindings', legacyBindingREST(defs.get('/v1/bindings')!.info, pods, clock));
  // The kubelet-proxying subresources (upstream's pod LogREST, ExecREST, AttachREST).
  const kubelet = { getPod: pods.get.bind(pods), getNode: stores.get('/v1/nodes')!.get.bind(stores.get('/v1/nodes')!), kubelet: new KubeletClient(opts.kubeletClient) };
  storages.set('/v1/pods/log', podLogREST(kubelet));
  storages.set('/v1/pods/exec', podExecREST(kubelet));
  storages.set('/v1/pods/attach', podAttachREST(kubelet));
  // metrics.k8s.io/v1beta1 from the kubelets' Summaries (what metrics-server serves upstream).
  const nodes = stores.get('/v1/nodes')!;
  const metrics = {
    getNode: (name: string) => nodes.get('', name),
    listNodes: (q: ListQuery) => nodes.list('', q),
    getPod: (namespace: string, name: string) => pods.get(namespace, name),
    listPods: (namespace: string, q: ListQuery) => pods.list(namespace, q),
    summary: kubeletSummary(kubelet.kubelet),
  };
  storages.set('metrics.k8s.io/v1beta1/nodes', nodeMetricsREST(metrics));
  storages.set('metrics.k8s.io/v1beta1/pods', podMetricsREST(metrics));
  storages.set('/v1/pods/portforward', podPortForwardREST(kubelet));
  // pods/eviction, once policy/v1 PodDisruptionBudgets are served.
  const eviction = evictionStorage(pods, stores.get('policy/v1/poddisruptionbudgets'), clock);
  if (eviction) storages.set('/v1/pods/eviction', eviction);
  storages.set('/v1/componentstatuses', componentStatusREST(defs.get('/v1/componentstatuses')!.info, opts.etcdServers ?? [], opts.etcdClientTLS));
  return {
    storages,
    stores,
    store(group, version, resource) {
      const s = stores.get(`${group}/${version}/${resource}`);
      if (!s) throw new Error(`no store for ${group}/${version}/${resource}`);
      return s;
    },
    ips,
    ports,
  };
}

/** Registers the review storages and serviceaccounts/token (upstream's authentication and authorization RESTStorageProviders). */
export function registerAuthStorages(registry: Registry, auth: AuthStorages): void {
  for (const [name, key] of Object.entries(AUTH_STORAGE_KEYS) as [keyof AuthStorages, string][]) {
    const storage = auth[name];
    if (storage) registry.storages.set(key, storage);
  }
}
