// NodeRestriction: a kubelet (user system:node:<name> in group system:nodes) may only change its own
// Node, its own node Lease, mirror pods bound to itself, and the status of pods bound to itself.
import { notFound, type KubeObject } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { UserInfo } from '../auth/authn.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { podReferences } from '../auth/node/node-authorizer.js';
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

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => Object.hasOwn(b ?? {}, k) && b![k] === a![k]);
}

function restrictedLabels(labels: Record<string, string> | undefined): string[] {
  return Object.keys(labels ?? {})
    .filter((k) => k.startsWith(RESTRICTED_LABEL_PREFIX) || (k.includes('/') && k.slice(0, k.indexOf('/')).endsWith(`.${RESTRICTED_LABEL_PREFIX.slice(0, -1)}`)))
    .sort();
}

export class NodeRestriction implements AdmissionPlugin {
  readonly name = 'NodeRestriction';

  /** getNode reads a Node (undefined when absent) to check a mirror pod's owner uid; without it that check is skipped. */
  constructor(private readonly getNode?: (name: string) => Promise<KubeObject | undefined>) {}

  async validate(a: AdmissionAttributes): Promise<void> {
    const nodeName = nodeNameOf(a.user);
    if (nodeName === undefined) return;
    const { group, resource } = a.resource;
    if (group === '' && resource === 'pods') return await this.pod(a, nodeName);
    if (group === '' && resource === 'nodes') return this.node(a, nodeName);
    if (group === 'coordination.k8s.io' && resource === 'leases') return this.lease(a, nodeName);
  }

  private async pod(a: AdmissionAttributes, nodeName: string): Promise<void> {
    const pod = (a.object ?? a.oldObject) as unknown as Pod | null;
    switch (a.subresource) {
      case '':
        if (a.operation === 'CREATE') {
          const p = a.object as unknown as Pod;
          if (p.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
            throw forbiddenFor(a, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${nodeName}" can only create mirror pods`);
          }
          if (p.spec?.nodeName !== nodeName) throw forbiddenFor(a, `node "${nodeName}" can only create pods with spec.nodeName set to itself`);
          await this.mirrorPodOwner(a, p, nodeName);
          // A mirror pod references no other API object (its node could then read it).
          if (p.spec?.serviceAccountName) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference a service account`);
          const refs = podReferences(p);
          if (refs.secrets.size) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference secrets`);
          if (refs.configmaps.size) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference configmaps`);
          if ((p.spec?.volumes ?? []).some((v) => v.projected?.sources?.some((s) => (s as { clusterTrustBundle?: unknown }).clusterTrustBundle))) {
            throw forbiddenFor(a, `node "${nodeName}" can not create pods that use clustertrustbundles`);
          }
          if ((p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim)) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference persistentvolumeclaims`);
          if ((p.spec as { resourceClaims?: unknown[] } | undefined)?.resourceClaims?.length) throw forbiddenFor(a, `node "${nodeName}" can not create pods that reference resourceclaims`);
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
        if (!sameLabels((a.oldObject as unknown as Pod).metadata?.labels, (a.object as unknown as Pod | null)?.metadata?.labels)) {
          throw forbiddenFor(a, `node "${nodeName}" cannot update labels through pod status`);
        }
        return;
      case 'eviction':
        if (pod && pod.spec?.nodeName !== nodeName) throw forbiddenFor(a, `node "${nodeName}" can only evict pods with spec.nodeName set to itself`);
        return;
      default:
        throw forbiddenFor(a, `unexpected subresource ${a.subresource}`);
    }
  }

  /** A mirror pod has exactly one owner: its Node, as controller, without blockOwnerDeletion (upstream since 1.24). */
  private async mirrorPodOwner(a: AdmissionAttributes, p: Pod, nodeName: string): Promise<void> {
    const owners = p.metadata?.ownerReferences ?? [];
    if (owners.length > 1) throw forbiddenFor(a, `node "${nodeName}" can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (owner?.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== nodeName) {
      throw forbiddenFor(a, `node "${nodeName}" can only create pods with an owner reference set to itself`);
    }
    if (owner.controller !== true) throw forbiddenFor(a, `node "${nodeName}" can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion === true) throw forbiddenFor(a, `node "${nodeName}" must not set blockOwnerDeletion on an owner reference`);
    if (!this.getNode) return;
    let node: KubeObject | undefined;
    try {
      node = await this.getNode(nodeName);
    } catch (err) {
      throw forbiddenFor(a, `error looking up node ${nodeName} to verify uid: ${(err as Error).message}`);
    }
    if (!node) throw notFound({ group: '', resource: 'nodes' }, nodeName);
    // Upstream's message names the owner's uid as expected and the Node's as got.
    if (owner.uid !== node.metadata?.uid) throw forbiddenFor(a, `node ${nodeName} UID mismatch: expected ${owner.uid} got ${node.metadata?.uid ?? ''}`);
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
