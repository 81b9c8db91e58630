// What the request pipeline's pluggable parts (authentication, authorization, admission plugins) are built
// from: the completed configuration and the running server's registry (upstream's CompletedConfig and the
// admission PluginInitializer's inputs).
import type { KubeObject } from '@kubelab/api';
import type { Logger } from '@kubelab/component-base';
import type { ApiServerConfig } from './config.js';
import type { Registry } from './registry/index.js';

export interface ServerDeps {
  config: ApiServerConfig;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  /** A namespace from the watch cache (falling back to etcd), or undefined. */
  getNamespace(name: string): Promise<KubeObject | undefined>;
}
