// The apiserver's storage layer: etcd-backed storage, the watch cache, and a factory giving each
// resource its Storage.
import type { KubeObject } from '@kubelab/api';
import { Cacher, type CacherOptions } from './cacher.js';
import { EtcdStorage, type EtcdStorageOptions } from './etcd.js';
import type { Storage } from './interface.js';
import type { StorageLogger } from './util.js';

export * from './interface.js';
export { EtcdStorage, toWatchEvent } from './etcd.js';
export type { EtcdStorageOptions, EtcdStorageStats, RawWatch, RawWatchEvent, RawWatchHandlers } from './etcd.js';
export { Cacher } from './cacher.js';
export type { CacherOptions } from './cacher.js';
export { WatchQueue } from './watch-queue.js';
export { INITIAL_EVENTS_END_ANNOTATION, type StorageLogger } from './util.js';

export interface CreateStorageOptions {
  endpoints: string[];
  /** Put a watch cache (Cacher) in front of every resource prefix. */
  cacheResources: boolean;
  /** Key prefix inside etcd (default ''). */
  prefix?: string;
  logger?: StorageLogger;
  etcd?: Omit<EtcdStorageOptions, 'endpoints' | 'prefix' | 'logger'>;
  /** Cacher options shared by every resource (newBookmarkObject is usually given per resource). */
  cacher?: Omit<CacherOptions, 'storage' | 'resourcePrefix' | 'logger' | 'newBookmarkObject'>;
  /** Compact etcd every compactionIntervalMs (upstream: 5 minutes); 0 or undefined disables. */
  compactionIntervalMs?: number;
}

export interface StorageFactory {
  /** The Storage for one resource prefix (ending with '/'), e.g. '/registry/pods/'. */
  (resourcePrefix: string, opts?: { newBookmarkObject?: () => KubeObject }): Storage;
  /** The shared etcd storage (one client for every resource). */
  readonly etcd: EtcdStorage;
  /** Stops caches and the compactor, and closes the etcd client. */
  close(): Promise<void>;
}

/** Storage for one resource that shares the etcd client: its close() leaves the shared client open. */
function sharedView(etcd: EtcdStorage): Storage {
  return {
    create: (key, obj) => etcd.create(key, obj),
    get: (key, opts) => etcd.get(key, opts),
    list: (prefix, opts) => etcd.list(prefix, opts),
    guaranteedUpdate: (key, tryUpdate, opts) => etcd.guaranteedUpdate(key, tryUpdate, opts),
    delete: (key, opts) => etcd.delete(key, opts),
    watch: (key, opts) => etcd.watch(key, opts),
    currentRevision: () => etcd.currentRevision(),
    count: (prefix) => etcd.count(prefix),
    close: async () => {},
  };
}

export function createStorage(opts: CreateStorageOptions): StorageFactory {
  const etcd = new EtcdStorage({ ...opts.etcd, endpoints: opts.endpoints, prefix: opts.prefix, logger: opts.logger });
  const caches = new Map<string, Cacher>();
  const compactor = opts.compactionIntervalMs ? etcd.startCompactor(opts.compactionIntervalMs) : undefined;
  const factory = ((resourcePrefix: string, resourceOpts: { newBookmarkObject?: () => KubeObject } = {}): Storage => {
    if (!opts.cacheResources) return sharedView(etcd);
    let cacher = caches.get(resourcePrefix);
    if (!cacher) {
      cacher = new Cacher({
        ...opts.cacher,
        storage: etcd,
        resourcePrefix,
        logger: opts.logger,
        newBookmarkObject: resourceOpts.newBookmarkObject,
      });
      caches.set(resourcePrefix, cacher);
      void cacher.start();
    }
    return cacher;
  }) as StorageFactory;
  Object.defineProperty(factory, 'etcd', { value: etcd });
  Object.defineProperty(factory, 'close', {
    value: async () => {
      compactor?.stop();
      await Promise.all([...caches.values()].map((c) => c.close()));
      caches.clear();
      await etcd.close();
    },
  });
  return factory;
}
