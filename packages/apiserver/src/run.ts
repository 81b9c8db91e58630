// Starts an apiserver from a config: storage (etcd + watch cache), the fastify app, bootstrap,
// compaction, listen. Returns a handle to stop it.
import type { Logger } from '@kubelab/component-base';
import { etcdStorageOptions, type ApiServerConfig } from './config.js';
import { createApiServer, type ApiServerRuntime } from './server.js';
import { bootstrap, defaultAdvertiseAddress } from './bootstrap.js';
import { reconcileBootstrapPolicy } from './bootstrap-policy.js';
import { createStorage } from './storage/index.js';

export interface RunningApiServer {
  runtime: ApiServerRuntime;
  stop(): Promise<void>;
}

export async function startApiServer(config: ApiServerConfig, tls: { cert: Buffer; key: Buffer; ca?: Buffer }, logger: Logger): Promise<RunningApiServer> {
  const storage = createStorage({
    endpoints: config.etcdServers,
    cacheResources: config.watchCache,
    etcd: etcdStorageOptions(config),
    logger: logger.child({ subsystem: 'storage' }),
    cacher: { bookmarkIntervalMs: config.bookmarkIntervalMs },
    compactionIntervalMs: config.etcdCompactionIntervalMs,
  });
  const runtime = createApiServer({ config, tls, storageFor: (prefix) => storage(prefix), rawStorage: storage.etcd, logger });
  const advertiseAddress = config.advertiseAddress || (config.bindAddress !== '0.0.0.0' && !config.bindAddress.startsWith('127.') ? config.bindAddress : defaultAdvertiseAddress());
  // etcd may still be starting (the lab starts everything at once): retry the bootstrap.
  for (let attempt = 1; ; attempt++) {
    try {
      await bootstrap(runtime.registry, { advertiseAddress, securePort: config.securePort });
      // Upstream's default ClusterRoles and bindings, created or completed at every start.
      await reconcileBootstrapPolicy(runtime.registry);
      break;
    } catch (err) {
      if (attempt >= 60) throw err;
      logger.warn({ err: (err as Error).message, attempt }, 'Bootstrap failed, retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await runtime.app.listen({ host: config.bindAddress, port: config.securePort });
  logger.info({ address: `https://${config.bindAddress}:${config.securePort}`, advertiseAddress }, 'Serving securely');
  return {
    runtime,
    // Graceful: /readyz fails for --shutdown-delay-duration, the listener closes, watches end, requests in
    // flight finish; then the watch caches and the etcd client close.
    async stop() {
      await runtime.lifecycle.shutdown(runtime.app);
      await storage.close();
      logger.info('Shutdown complete');
    },
  };
}
