// The storage object in-use protection controllers (upstream's pkg/controller/volume/pvcprotection and
// pvprotection): a claim being deleted keeps its kubernetes.io/pvc-protection finalizer while a scheduled,
// not yet terminated pod uses it; a volume being deleted keeps kubernetes.io/pv-protection while it is Bound.
// Once unused, the finalizer is removed and the deletion completes.
import { isNotFound, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, type KubeObject } from '@kubelab/api';
import { metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { runQueue, type RunnableController } from '../../controller-utils.js';

const terminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** The claim names a pod's volumes use (persistentVolumeClaim sources and generic ephemeral volumes). */
function claimsOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : v.ephemeral ? [`${pod.metadata?.name}-${v.name}`] : []));
}

/** Upstream's podUsesPVC: only scheduled pods count (the kubelet refuses to start a pod whose claim is being deleted). */
export function podUsesClaim(pod: Pod, claim: string): boolean {
  return !!pod.spec?.nodeName && !terminal(pod) && claimsOf(pod).includes(claim);
}

const withoutFinalizer = <T extends { metadata?: { finalizers?: string[] } }>(o: T, f: string): T => ({
  ...o,
  metadata: { ...o.metadata, finalizers: (o.metadata?.finalizers ?? []).filter((x) => x !== f) },
});

export interface PVCProtectionOptions {
  claimInformer: Informer<KubeObject>;
  podInformer: Informer<KubeObject>;
  updateClaim(claim: PersistentVolumeClaim): Promise<unknown>;
  /** The namespace's pods from the API (upstream double-checks with a live list before letting a claim go). */
  listPods(namespace: string): Promise<Pod[]>;
  clock?: Clock;
  logger?: Logger;
}

export class PVCProtectionController implements RunnableController {
  readonly name = 'persistentvolumeclaim-protection-controller';
  readonly queue: WorkQueue<string>;

  constructor(private readonly opts: PVCProtectionOptions) {
    this.queue = new WorkQueue<string>({ name: 'pvcprotection', clock: opts.clock ?? realClock });
    const claim = (o: KubeObject) => {
      if (o.metadata.deletionTimestamp && o.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) this.queue.add(metaNamespaceKey(o));
    };
    opts.claimInformer.addEventHandler({ onAdd: claim, onUpdate: (_o, n) => claim(n) });
    const pod = (o: KubeObject) => {
      const p = o as unknown as Pod;
      // A pod that went away (or finished) may have been the last user of its claims.
      if (o.metadata.deletionTimestamp === undefined && !terminal(p)) return;
      for (const c of claimsOf(p)) this.queue.add(`${o.metadata.namespace}/${c}`);
    };
    opts.podInformer.addEventHandler({
      onUpdate: (_o, n) => pod(n),
      onDelete: (o) => {
        for (const c of claimsOf(o as unknown as Pod)) this.queue.add(`${o.metadata.namespace}/${c}`);
      },
    });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (k) => this.sync(k), signal, this.opts.logger);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const claim = this.opts.claimInformer.lister.get(namespace, name) as unknown as PersistentVolumeClaim | undefined;
    if (!claim?.metadata?.deletionTimestamp || !claim.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
    const cached = this.opts.podInformer.lister.list(namespace) as unknown as Pod[];
    if (cached.some((p) => podUsesClaim(p, name))) return;
    if ((await this.opts.listPods(namespace)).some((p) => podUsesClaim(p, name))) return;
    try {
      await this.opts.updateClaim(withoutFinalizer(claim, PVC_PROTECTION_FINALIZER));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.opts.logger?.info?.({ claim: key }, 'Removed protection finalizer from PVC');
  }
}

export interface PVProtectionOptions {
  volumeInformer: Informer<KubeObject>;
  updateVolume(pv: PersistentVolume): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

export class PVProtectionController implements RunnableController {
  readonly name = 'persistentvolume-protection-controller';
  readonly queue: WorkQueue<string>;

  constructor(private readonly opts: PVProtectionOptions) {
    this.queue = new WorkQueue<string>({ name: 'pvprotection', clock: opts.clock ?? realClock });
    const volume = (o: KubeObject) => {
      if (o.metadata.deletionTimestamp && o.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) this.queue.add(o.metadata.name ?? '');
    };
    opts.volumeInformer.addEventHandler({ onAdd: volume, onUpdate: (_o, n) => volume(n) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (k) => this.sync(k), signal, this.opts.logger);
  }

  async sync(name: string): Promise<void> {
    const pv = this.opts.volumeInformer.lister.get('', name) as unknown as PersistentVolume | undefined;
    if (!pv?.metadata?.deletionTimestamp || !pv.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) return;
    if (pv.status?.phase === 'Bound') return;
    try {
      await this.opts.updateVolume(withoutFinalizer(pv, PV_PROTECTION_FINALIZER));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.opts.logger?.info?.({ volume: name }, 'Removed protection finalizer from PV');
  }
}
