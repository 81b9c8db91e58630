// The Node authorizer (upstream's plugin/pkg/auth/authorizer/node): a kubelet, user
// `system:node:<name>` in group `system:nodes`, may read the secrets, configmaps, persistent volume
// claims (and their volumes) and service accounts of the pods bound to its node, and write its own
// Node, Lease and those pods' status. Other requests of a kubelet are checked against the system:node
// rules; requests of anyone else get no opinion here (RBAC decides).
import type { KubeObject } from '@kubelab/api';
import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import type { AuthorizationAttributes, Authorizer, Decision, UserInfo } from '../authn.js';
import { rulesAllow } from '../rbac/rules.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node a kubelet identity speaks for, or '' when the user is not a node. */
export function nodeNameOf(user: UserInfo): string {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return '';
  return user.name.slice(NODE_USER_PREFIX.length);
}

/** What the authorizer reads: pods bound to a node (watch cache), and claims. */
export interface NodeGraphSource {
  /** Pods whose spec.nodeName is `node` (in one namespace, or all when namespace is ''). */
  podsOnNode(node: string, namespace: string): Promise<readonly KubeObject[]>;
  /** A PersistentVolumeClaim, or undefined. */
  getClaim(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** A pod, or undefined. */
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
}

/** Names a pod refers to, by kind. */
export interface PodReferences {
  secrets: Set<string>;
  configmaps: Set<string>;
  persistentvolumeclaims: Set<string>;
  serviceaccounts: Set<string>;
}

export function podReferences(pod: Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), serviceaccounts: new Set() };
  const spec = pod.spec;
  if (!spec) return refs;
  refs.serviceaccounts.add(spec.serviceAccountName || 'default');
  for (const s of spec.imagePullSecrets ?? []) if (s.name) refs.secrets.add(s.name);
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as typeof spec.containers)];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) refs.secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) refs.configmaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef?.name) refs.secrets.add(e.secretRef.name);
      if (e.configMapRef?.name) refs.configmaps.add(e.configMapRef.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) refs.secrets.add(v.secret.secretName);
    if (v.configMap?.name) refs.configmaps.add(v.configMap.name);
    if (v.persistentVolumeClaim?.claimName) refs.persistentvolumeclaims.add(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) refs.persistentvolumeclaims.add(`${pod.metadata?.name}-${v.name}`);
    for (const p of v.projected?.sources ?? []) {
      if (p.secret?.name) refs.secrets.add(p.secret.name);
      if (p.configMap?.name) refs.configmaps.add(p.configMap.name);
    }
    for (const ref of [v.csi?.nodePublishSecretRef, v.cephfs?.secretRef, v.rbd?.secretRef, v.iscsi?.secretRef, v.flexVolume?.secretRef, v.scaleIO?.secretRef, v.storageos?.secretRef]) {
      if (ref?.name) refs.secrets.add(ref.name);
    }
    if (v.azureFile?.secretName) refs.secrets.add(v.azureFile.secretName);
  }
  return refs;
}

const GETTABLE = new Set(['secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes']);

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly source: NodeGraphSource,
    private readonly nodeRules: readonly PolicyRule[],
  ) {}

  async authorize(attrs: AuthorizationAttributes): Promise<Decision> {
    const node = nodeNameOf(attrs.user);
    if (!node) return noOpinion('');
    if (!attrs.isResourceRequest) return this.byRules(attrs);
    const group = attrs.apiGroup;
    const resource = attrs.resource;
    const sub = attrs.subresource;
    if (group === '' && GETTABLE.has(resource) && !sub) return this.authorizeGet(node, attrs);
    if (group === '' && resource === 'persistentvolumeclaims' && sub === 'status') return this.authorizeClaimStatus(node, attrs);
    if (group === '' && resource === 'serviceaccounts') return this.authorizeServiceAccount(node, attrs);
    if (group === '' && resource === 'nodes') return this.authorizeNode(node, attrs);
    if (group === '' && resource === 'pods') return this.authorizePod(node, attrs);
    if (group === 'coordination.k8s.io' && resource === 'leases') return this.authorizeLease(node, attrs);
    return this.byRules(attrs);
  }

  private byRules(attrs: AuthorizationAttributes): Decision {
    return rulesAllow(attrs, this.nodeRules) ? { allowed: true } : noOpinion('');
  }

  /** secrets, configmaps, claims and volumes: only `get` of one an own pod refers to. */
  private async authorizeGet(node: string, attrs: AuthorizationAttributes): Promise<Decision> {
    if (attrs.verb !== 'get' || !attrs.name) return noOpinion(`can only get individual resources of this type`);
    if (attrs.resource === 'persistentvolumes') {
      // A volume is reachable through a claim an own pod uses.
      for (const pod of await this.source.podsOnNode(node, '')) {
        for (const claim of podReferences(pod as Pod).persistentvolumeclaims) {
          const pvc = await this.source.getClaim(pod.metadata.namespace ?? '', claim);
          if (pvc?.spec?.volumeName === attrs.name) return { allowed: true };
        }
      }
      return noRelationship(node);
    }
    const kind = attrs.resource as 'secrets' | 'configmaps' | 'persistentvolumeclaims';
    for (const pod of await this.source.podsOnNode(node, attrs.namespace)) {
      if (podReferences(pod as Pod)[kind].has(attrs.name)) return { allowed: true };
    }
    return noRelationship(node);
  }

  private async authorizeClaimStatus(node: string, attrs: AuthorizationAttributes): Promise<Decision> {
    if (!['get', 'update', 'patch'].includes(attrs.verb)) return noOpinion('can only get, update or patch persistentvolumeclaim status');
    for (const pod of await this.source.podsOnNode(node, attrs.namespace)) {
      if (podReferences(pod as Pod).persistentvolumeclaims.has(attrs.name)) return { allowed: true };
    }
    return noRelationship(node);
  }

  /** Service accounts of own pods: get, and create a token. */
  private async authorizeServiceAccount(node: string, attrs: AuthorizationAttributes): Promise<Decision> {
    const ok = (attrs.subresource === 'token' && attrs.verb === 'create') || (!attrs.subresource && attrs.verb === 'get');
    if (!ok || !attrs.name) return noOpinion(attrs.subresource === 'token' ? 'can only create tokens for individual service accounts' : 'can only get individual service accounts');
    for (const pod of await this.source.podsOnNode(node, attrs.namespace)) {
      if (podReferences(pod as Pod).serviceaccounts.has(attrs.name)) return { allowed: true };
    }
    return noRelationship(node);
  }

  /** Its own Node: registering, reading and writing it and its status; other nodes only read. */
  private authorizeNode(node: string, attrs: AuthorizationAttributes): Decision {
    const read = ['get', 'list', 'watch'].includes(attrs.verb);
    if (read && !attrs.subresource) return { allowed: true };
    if (attrs.verb === 'create' && !attrs.subresource) return { allowed: true };
    if (attrs.name && attrs.name !== node) return noOpinion(`node '${node}' cannot modify node '${attrs.name}'`);
    if (['get', 'update', 'patch'].includes(attrs.verb) && (attrs.subresource === '' || attrs.subresource === 'status')) return { allowed: true };
    return noOpinion('');
  }

  /** Pods: read (the kubelet watches its own with a field selector), mirror pods, and status of its own. */
  private async authorizePod(node: string, attrs: AuthorizationAttributes): Promise<Decision> {
    const sub = attrs.subresource;
    if (!sub && ['list', 'watch'].includes(attrs.verb)) return { allowed: true };
    if (!sub && attrs.verb === 'create') return { allowed: true };
    if ((!sub && ['get', 'delete'].includes(attrs.verb)) || (sub === 'status' && ['get', 'update', 'patch'].includes(attrs.verb)) || (sub === 'eviction' && attrs.verb === 'create')) {
      const pod = await this.source.getPod(attrs.namespace, attrs.name);
      if (pod && pod.spec?.nodeName === node) return { allowed: true };
      return noRelationship(node);
    }
    return noOpinion('');
  }

  /** Its own Lease in kube-node-lease. */
  private authorizeLease(node: string, attrs: AuthorizationAttributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) return noOpinion(`can only get, create, update, patch, or delete a node lease`);
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the ${NODE_LEASE_NAMESPACE} system namespace`);
    if (attrs.verb !== 'create' && attrs.name !== node) return noOpinion(`can only access node lease with the same name as the requesting node`);
    return { allowed: true };
  }
}

const noOpinion = (reason: string): Decision => ({ allowed: false, reason });
const noRelationship = (node: string): Decision => noOpinion(`no relationship found between node '${node}' and this object`);
