// Upstream's ScaleREST (pkg/registry/apps/deployment/storage and friends): the autoscaling/v1 Scale view of
// a workload (deployments, replicasets, statefulsets, replicationcontrollers). Reads and writes go to the
// parent object; only spec.replicas can be changed through it.
import { conflict, labelSelectorToString, notFound, OPTIMISTIC_LOCK_MESSAGE, type KubeObject } from '@kubelab/api';
import { restStorage, type Getter, type UpdatedObjectInfo, type Updater, type UpdateOptions } from './rest.js';
import type { Store } from './store.js';

/** The Scale of a workload. */
export function toScale(obj: KubeObject): KubeObject {
  const sel = obj.spec?.selector;
  // ReplicationControllers have a plain map selector; the apps workloads a LabelSelector.
  const selector =
    sel && (sel.matchLabels || sel.matchExpressions)
      ? labelSelectorToString(sel)
      : Object.entries(sel ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, ...(selector && selector !== '<none>' ? { selector } : {}) },
  };
}

export function scaleREST(parent: Store): Getter & Updater {
  return {
    ...restStorage(parent.info, { apiVersion: 'autoscaling/v1', kind: 'Scale' }),
    get: async (namespace: string, name: string) => toScale(await parent.get(namespace, name)),
    async update(namespace: string, name: string, objInfo: UpdatedObjectInfo, opts: UpdateOptions) {
      const { object } = await parent.update(
        namespace,
        name,
        async (current) => {
          if (!current) throw notFound(parent.gr, name);
          const wanted = await objInfo(toScale(current));
          const rv = wanted.metadata?.resourceVersion;
          if (rv && rv !== current.metadata.resourceVersion) throw conflict(parent.gr, name, OPTIMISTIC_LOCK_MESSAGE);
          const next = structuredClone(current);
          next.spec = { ...(next.spec ?? {}), replicas: (wanted.spec?.replicas as number | undefined) ?? 0 };
          return next;
        },
        { dryRun: opts.dryRun },
      );
      return { object: toScale(object), created: false };
    },
  };
}
