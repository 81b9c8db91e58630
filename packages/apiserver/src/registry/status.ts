// Upstream's StatusREST (and FinalizeREST, ApprovalREST): the generic Store seen through a subresource
// strategy. Reads return the whole object; an update changes only what the subresource strategy lets through.
import type { KubeObject } from '@kubelab/api';
import { restStorage, type Getter, type UpdatedObjectInfo, type Updater, type UpdateOptions } from './rest.js';
import type { Store } from './store.js';

export function statusREST(store: Store, subresource: string): Getter & Updater {
  return {
    ...restStorage(store.info, store.kind, { admitsWrites: true }),
    get: (namespace: string, name: string): Promise<KubeObject> => store.get(namespace, name),
    update: (namespace: string, name: string, objInfo: UpdatedObjectInfo, opts: UpdateOptions) =>
      // A subresource never creates its parent.
      store.update(namespace, name, objInfo, { dryRun: opts.dryRun, validate: opts.validate, subresource }),
  };
}
