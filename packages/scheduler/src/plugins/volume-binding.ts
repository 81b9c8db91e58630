// VolumeBinding (upstream's plugins/volumebinding, reduced): a pod's PersistentVolumeClaims must exist;
// claims bound to a volume restrict the pod to the nodes the volume's node affinity allows; unbound claims
// of a WaitForFirstConsumer class are bound on the chosen node: to a matching Available volume there, or
// (for a class with a provisioner) by annotating the claim with volume.kubernetes.io/selected-node so
// that the provisioner makes a volume on that node. Unbound claims of an Immediate class wait for the
// PV controller. PreBind writes the choices before the pod is bound (it does not wait for the claims to
// be bound: the kubelet waits for that before it starts the pod).
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, findMatchingVolume, findResource, isNotFound, persistentVolumeClaimClass, volumeNodeAffinityMatches, type KubeObject } from '@kubelab/api';
import type { RestClient, SharedInformerFactory } from '@kubelab/client';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import type { ClusterEvent, CycleState, EnqueueExtensions, FilterPlugin, PreBindPlugin, PreFilterPlugin } from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';

export const VOLUME_BINDING = 'VolumeBinding';
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ERR_UNBOUND_IMMEDIATE_PVC = 'pod has unbound immediate PersistentVolumeClaims';

/** What the plugin reads (informer caches) and writes (the API). */
export interface VolumeBindingHandle {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  /** Merge-patches the claim's annotations. */
  annotateClaim(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** Sets the volume's claimRef to the claim (the PV controller finishes the binding). */
  preBindVolume(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void>;
}

interface PreFilterState {
  bound: PersistentVolumeClaim[];
  toBind: PersistentVolumeClaim[];
  /** Per node: the volume chosen for each claim to bind (undefined: to be provisioned). */
  decisions: Map<string, Array<{ claim: PersistentVolumeClaim; pv?: PersistentVolume }>>;
}

const STATE_KEY = 'PreFilter' + VOLUME_BINDING;

/** The claim names of a pod's volumes: persistentVolumeClaim sources and generic ephemeral volumes (<pod>-<volume>). */
export function podClaimNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return names;
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, PreBindPlugin, EnqueueExtensions {
  readonly name = VOLUME_BINDING;

  constructor(private readonly handle: () => VolumeBindingHandle | undefined) {}

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'PersistentVolumeClaim', action: '*' },
      { resource: 'PersistentVolume', action: '*' },
      { resource: 'StorageClass', action: '*' },
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ];
  }

  preFilter(state: CycleState, info: PodInfo): { status: Status } {
    const h = this.handle();
    const names = podClaimNames(info.pod);
    if (!h || names.length === 0) return { status: Status.skip() };
    const ns = info.pod.metadata?.namespace ?? '';
    const bound: PersistentVolumeClaim[] = [];
    const toBind: PersistentVolumeClaim[] = [];
    for (const name of names) {
      const claim = h.claim(ns, name);
      if (!claim) return { status: Status.unresolvable(`persistentvolumeclaim "${name}" not found`) };
      if (claim.metadata?.deletionTimestamp) return { status: Status.unresolvable(`persistentvolumeclaim "${name}" is being deleted`) };
      if (claim.spec?.volumeName) {
        bound.push(claim);
        continue;
      }
      const cls = h.storageClass(persistentVolumeClaimClass(claim));
      if (cls?.volumeBindingMode !== 'WaitForFirstConsumer') return { status: Status.unresolvable(ERR_UNBOUND_IMMEDIATE_PVC) };
      toBind.push(claim);
    }
    state.write(STATE_KEY, { bound, toBind, decisions: new Map() } satisfies PreFilterState);
    return { status: Status.success() };
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status {
    const h = this.handle();
    const s = state.read<PreFilterState>(STATE_KEY);
    if (!h || !s) return Status.success();
    const fields = { name: node.name, labels: node.node.metadata?.labels ?? {} };
    const reasons = new Set<string>();
    for (const claim of s.bound) {
      const pv = h.volume(claim.spec!.volumeName!);
      if (!pv) return Status.unresolvable(ERR_REASON_PV_NOT_EXIST);
      if (!volumeNodeAffinityMatches(pv, fields)) reasons.add(ERR_REASON_NODE_CONFLICT);
    }
    const chosen: Array<{ claim: PersistentVolumeClaim; pv?: PersistentVolume }> = [];
    const taken = new Set<string>();
    for (const claim of s.toBind) {
      const pv = findMatchingVolume(claim, h.volumes(), fields, true, taken);
      if (pv) {
        taken.add(pv.metadata!.name!);
        chosen.push({ claim, pv });
        continue;
      }
      const cls = h.storageClass(persistentVolumeClaimClass(claim));
      const allowed = !cls?.allowedTopologies?.length || cls.allowedTopologies.some((t) => (t.matchLabelExpressions ?? []).every((e) => e.values.includes(fields.labels[e.key] ?? '')));
      if (cls?.provisioner && cls.provisioner !== 'kubernetes.io/no-provisioner' && allowed) chosen.push({ claim });
      else reasons.add(ERR_REASON_BIND_CONFLICT);
    }
    if (reasons.size) return Status.unresolvable(...[...reasons].sort());
    s.decisions.set(node.name, chosen);
    return Status.success();
  }

  async preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    const h = this.handle();
    const s = state.read<PreFilterState>(STATE_KEY);
    if (!h || !s) return Status.success();
    try {
      for (const { claim, pv } of s.decisions.get(nodeName) ?? []) {
        if (pv) await h.preBindVolume(pv, claim);
        else if (claim.metadata?.annotations?.[ANN_SELECTED_NODE] !== nodeName) {
          await h.annotateClaim(claim.metadata!.namespace!, claim.metadata!.name!, { [ANN_SELECTED_NODE]: nodeName });
        }
      }
    } catch (err) {
      if (isNotFound(err)) return Status.unresolvable((err as Error).message);
      return Status.error(`binding volumes: ${(err as Error).message} (pod ${pod.metadata?.namespace}/${pod.metadata?.name})`);
    }
    return Status.success();
  }
}

/**
 * The handle over the scheduler's informers: PersistentVolumeClaims, PersistentVolumes and StorageClasses
 * (undefined when the server does not serve them). Their changes are passed to `onEvent` (the queue's
 * move requests), so pods waiting for a claim or volume are retried.
 */
export function volumeBindingInformers(factory: SharedInformerFactory, client: RestClient, onEvent: (ev: ClusterEvent) => void): VolumeBindingHandle | undefined {
  const pvcs = findResource('', 'v1', 'persistentvolumeclaims');
  const pvs = findResource('', 'v1', 'persistentvolumes');
  const classes = findResource('storage.k8s.io', 'v1', 'storageclasses');
  if (!pvcs || !pvs || !classes) return undefined;
  const informers = [
    [factory.forResource(pvcs), 'PersistentVolumeClaim'],
    [factory.forResource(pvs), 'PersistentVolume'],
    [factory.forResource(classes), 'StorageClass'],
  ] as const;
  for (const [inf, resource] of informers) {
    inf.addEventHandler({
      onAdd: () => onEvent({ resource, action: 'Add' }),
      onUpdate: () => onEvent({ resource, action: 'Update' }),
      onDelete: () => onEvent({ resource, action: 'Delete' }),
    });
  }
  const [claims, volumes, scs] = informers.map(([inf]) => inf);
  return {
    claim: (ns, name) => claims!.lister.get(ns, name) as unknown as PersistentVolumeClaim | undefined,
    volume: (name) => volumes!.lister.get('', name) as unknown as PersistentVolume | undefined,
    volumes: () => volumes!.lister.list() as unknown as PersistentVolume[],
    storageClass: (name) => (name ? (scs!.lister.get('', name) as unknown as StorageClass | undefined) : undefined),
    annotateClaim: async (ns, name, annotations) => {
      await client.resource(pvcs, ns).patch(name, { metadata: { annotations } }, 'merge');
    },
    preBindVolume: async (pv, claim) => {
      const ref = { kind: 'PersistentVolumeClaim', namespace: claim.metadata!.namespace, name: claim.metadata!.name, uid: claim.metadata!.uid, apiVersion: 'v1', resourceVersion: claim.metadata!.resourceVersion };
      const annotations = { ...(pv.metadata?.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      await client.resource(pvs).update({ ...pv, metadata: { ...pv.metadata, annotations }, spec: { ...pv.spec, claimRef: ref } } as KubeObject);
    },
  };
}
