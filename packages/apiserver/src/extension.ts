// What the request pipeline's pluggable parts (authentication, authorization, admission, and
// create-only "virtual" resources such as the review APIs and serviceaccounts/token) receive when
// they are built: the configuration and the running server's registry.
import type { KubeObject } from '@kubelab/api';
import type { Logger } from '@kubelab/component-base';
import type { ApiServerConfig } from './config.js';
import type { Registry } from './registry/index.js';
import type { UserInfo, Authorizer } from './auth/authn.js';

export interface ExtensionDeps {
  config: ApiServerConfig;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  /** A namespace from the watch cache (falling back to etcd), or undefined. */
  getNamespace(name: string): Promise<KubeObject | undefined>;
}

export interface VirtualCreateRequest {
  user: UserInfo;
  /** The request's namespace ('' for cluster-scoped). */
  namespace: string;
  /** The parent object's name for a subresource (serviceaccounts/NAME/token), else ''. */
  name: string;
  dryRun: boolean;
  /** The server's authorizer, for the access reviews. */
  authorizer: Authorizer;
}

/**
 * Answers a create of a resource that is never stored (TokenReview, SubjectAccessReview, ...,
 * serviceaccounts/token): returns the object to send back with 201.
 */
export type VirtualCreate = (obj: KubeObject, req: VirtualCreateRequest) => Promise<KubeObject>;

/** Virtual create handlers keyed `<group>/<version>/<resource>[/<subresource>]`, e.g. `/v1/serviceaccounts/token`. */
export type VirtualCreates = Map<string, VirtualCreate>;
