// What the Node authorizer reads, from the registry: pods bound to a node from the watch cache (as
// upstream's graph is fed by informers), and single pods and claims.
import { StatusError, type KubeObject } from '@kubelab/api';
import type { Registry } from '../../registry/index.js';
import type { NodeGraphSource } from './node-authorizer.js';

export function nodeGraphFromRegistry(registry: Registry): NodeGraphSource {
  const pods = () => registry.store('', 'v1', 'pods');
  const getOrUndefined = async (get: () => Promise<KubeObject>): Promise<KubeObject | undefined> => {
    try {
      return await get();
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  };
  return {
    async podsOnNode(node, namespace) {
      const list = await pods().list(namespace, { fieldSelector: `spec.nodeName=${node}`, resourceVersion: '0' });
      return list.items;
    },
    async getPod(namespace, name) {
      // The watch cache first (cheap); a pod bound a moment ago may only be in etcd yet.
      const cached = await pods().list(namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion: '0' });
      if (cached.items.length) return cached.items[0];
      return getOrUndefined(() => pods().get(namespace, name));
    },
    getClaim: (namespace, name) => getOrUndefined(() => registry.store('', 'v1', 'persistentvolumeclaims').get(namespace, name)),
  };
}
