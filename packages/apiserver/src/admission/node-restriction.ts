// NodeRestriction: a kubelet (user system:node:<name> in group system:nodes) may only change its own
// Node, its own node Lease, mirror pods bound to itself, and the status of pods bound to itself.
import type { KubeObject } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { UserInfo } from '../auth/authn.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { forbiddenFor } from './util.js';

const NODE_USER_PREFIX = 'system:node:';
const NODES_GROUP = 'system:nodes';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Labels only administrators may set: kubelets may not label themselves into isolated workloads. */
const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';

/** The node name of a kubelet's identity, or undefined for any other user. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name || undefined;
}

function restrictedLabels(labels: Record<string, string> | undefined): string[] {
  return Object.keys(labels ?? {})
    .filter((k) => k.startsWith(RESTRICTED_LABEL_PREFIX) || (k.includes('/') && k.slice(0, k.indexOf('/')).endsWith(`.${RESTRICTED_LABEL_PREFIX.slice(0, -1)}`)))
    .sort();
}

export class NodeRestriction implements AdmissionPlugin {
  readonly name = 'NodeRestriction';

  async validate(a: AdmissionAttributes): Promise<void> {
    const nodeName = nodeNameOf(a.user);
    if (nodeName === undefined) return;
    const { group, resource } = a.resource;
    if (group === '' && resource === 'pods') return this.pod(a, nodeName);
    if (group === '' && resource === 'nodes') return this.node(a, nodeName);
    if (group === 'coordination.k8s.io' && resource === 'leases') return this.lease(a, nodeName);
  }

  private pod(a: AdmissionAttributes, nodeName: string): void {
    const pod = (a.object ?? a.oldObject) as unknown as Pod | null;
    switch (a.subresource) {
      case '':
        if (a.operation === 'CREATE') {
          const p = a.object as unknown as Pod;
          if (p.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
            throw forbiddenFor(a, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${nodeName}" can only create mirror pods`);
          }
          if (p.spec?.nodeName !== nodeName) throw forbiddenFor(a, `node "${nodeName}" can only create pods with spec.nodeName set to itself`);
          if (p.spec?.serviceAccountName) throw forbiddenFor(a, `node "${nodeName}" can not create pods that use service accounts`);
          for (const v of p.spec?.volumes ?? []) {
            if (v.secret) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference secrets`);
            if (v.configMap) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference configmaps`);
            if (v.persistentVolumeClaim) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference persistentvolumeclaims`);
          }
          return;
        }
        if (a.operation === 'DELETE') {
          if (pod?.spec?.nodeName !== nodeName) throw forbiddenFor(a, `node "${nodeName}" can only delete pods with spec.nodeName set to itself`);
          return;
        }
        throw forbiddenFor(a, `unexpected operation ${a.operation}, node "${nodeName}" can only create and delete mirror pods`);
      case 'status':
        if (a.operation !== 'UPDATE') throw forbiddenFor(a, `unexpected operation ${a.operation}`);
        // The pod as stored decides whose it is: a kubelet cannot move a pod to itself through status.
        if ((a.oldObject as unknown as Pod | null)?.spec?.nodeName !== nodeName) {
          throw forbiddenFor(a, `node "${nodeName}" can only update pod status for pods with spec.nodeName set to itself`);
        }
        return;
      case 'eviction':
        if (pod && pod.spec?.nodeName !== nodeName) throw forbiddenFor(a, `node "${nodeName}" can only evict pods with spec.nodeName set to itself`);
        return;
      default:
        throw forbiddenFor(a, `unexpected subresource ${a.subresource}`);
    }
  }

  private node(a: AdmissionAttributes, nodeName: string): void {
    const requested = a.name || a.object?.metadata?.name || a.oldObject?.metadata?.name || '';
    if (requested !== nodeName) throw forbiddenFor(a, `node "${nodeName}" is not allowed to modify node "${requested}"`);
    const node = a.object as unknown as Node | null;
    const old = a.oldObject as unknown as Node | null;
    if (a.operation === 'CREATE' && node) {
      const bad = restrictedLabels(node.metadata?.labels);
      if (bad.length) throw forbiddenFor(a, `node "${nodeName}" is not allowed to set the following labels: ${bad.join(', ')}`);
    }
    if (a.operation === 'UPDATE' && node && old) {
      const labels = node.metadata?.labels ?? {};
      const oldLabels = old.metadata?.labels ?? {};
      const keys = new Set([...restrictedLabels(labels), ...restrictedLabels(oldLabels)]);
      const changed = [...keys].filter((k) => labels[k] !== oldLabels[k]).sort();
      if (changed.length) throw forbiddenFor(a, `node "${nodeName}" is not allowed to modify labels: ${changed.join(', ')}`);
      if (a.subresource === '') {
        if (JSON.stringify(node.spec?.taints ?? []) !== JSON.stringify(old.spec?.taints ?? [])) throw forbiddenFor(a, `node "${nodeName}" is not allowed to modify taints`);
        if ((node.spec?.podCIDR ?? '') !== (old.spec?.podCIDR ?? '')) throw forbiddenFor(a, `node "${nodeName}" is not allowed to modify podCIDR`);
      }
    }
  }

  private lease(a: AdmissionAttributes, nodeName: string): void {
    if (a.namespace !== 'kube-node-lease') return;
    const name = a.name || (a.object as KubeObject | null)?.metadata?.name || '';
    if (name !== nodeName) throw forbiddenFor(a, 'can only access node lease with the same name as the requesting node');
  }
}
