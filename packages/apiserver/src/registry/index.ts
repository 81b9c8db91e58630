// The registry: one Store per resource, built from the resource table and the strategies.
import type { Storage } from '../storage/interface.js';
import { ClusterIPAllocator, NodePortAllocator, parsePortRange } from '../allocator/allocator.js';
import { Store, type Clock } from './store.js';
import { eventsV1Storage } from './events.js';
import { buildDefinitions } from './defaults.js';
import { jobOverride } from './batch.js';
import { csrOverride, csrSubresources } from './certificates.js';
import { rbacOverrides } from './rbac.js';
import { namespaceFinalizeStrategy, namespaceOverride, nodeOverride, podBindingStrategy, podOverride, serviceOverride } from './core.js';

export interface Registry {
  /** Keyed `<group>/<version>/<resource>` (core group is the empty string: `/v1/pods`). */
  stores: Map<string, Store>;
  store(group: string, version: string, resource: string): Store;
  ips: ClusterIPAllocator;
  ports: NodePortAllocator;
}

export function createRegistry(opts: {
  storageFor: (prefix: string) => Storage;
  rawStorage: Storage;
  serviceClusterIPRange: string;
  serviceNodePortRange: string;
  clock?: Clock;
}): Registry {
  const ips = new ClusterIPAllocator(opts.rawStorage, opts.serviceClusterIPRange);
  const range = parsePortRange(opts.serviceNodePortRange);
  const ports = new NodePortAllocator(opts.rawStorage, range.min, range.max);
  const defs = buildDefinitions(
    { pods: podOverride, namespaces: namespaceOverride, nodes: nodeOverride, services: serviceOverride(ips, ports), 'jobs.batch': jobOverride, 'certificatesigningrequests.certificates.k8s.io': csrOverride, ...rbacOverrides(() => stores) },
    { pods: { binding: podBindingStrategy }, namespaces: { finalize: namespaceFinalizeStrategy }, 'certificatesigningrequests.certificates.k8s.io': csrSubresources },
  );
  const stores = new Map<string, Store>();
  for (const [id, def] of defs) {
    const storage = opts.storageFor(`/registry/${def.info.resource}/`);
    // events.k8s.io/v1 Events are core/v1 Events in storage (one object, two API versions).
    stores.set(id, new Store(def, def.info.group === 'events.k8s.io' ? eventsV1Storage(storage) : storage, { clock: opts.clock }));
  }
  return {
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
