// The PersistentVolume controller (upstream's pkg/controller/volume/persistentvolume, the
// persistentvolume-binder-controller): binds claims to volumes both ways (claimRef and volumeName with
// the pv.kubernetes.io/bind-completed and bound-by-controller annotations, then both statuses), provisions
// volumes for claims of a class whose provisioner is an in-tree plugin here (the local-path provisioner),
// releases a volume whose claim is gone and reclaims it (Retain keeps it, Delete deletes it), and marks
// claims whose volume vanished Lost. WaitForFirstConsumer claims wait for the scheduler's
// volume.kubernetes.io/selected-node.
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  findMatchingVolume,
  isAlreadyExists,
  isNotFound,
  persistentVolumeClaimClass,
  type KubeObject,
} from '@kubelab/api';
import { delayOn, metaNamespaceKey, realClock, splitMetaNamespaceKey, WorkQueue, type Clock, type EventRecorder, type Informer, type Logger } from '@kubelab/client';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { runQueue, type RunnableController } from '../../controller-utils.js';

/** Upstream's --pvclaimbinder-sync-period default. */
export const SYNC_PERIOD_MS = 15_000;

/** An in-tree provisioner: creates the volume for a claim and deletes what a released volume holds. */
export interface ProvisionerPlugin {
  /** The StorageClass provisioner name it serves. */
  readonly name: string;
  /** The PersistentVolume for the claim (not yet created), or an Error explaining why not. */
  provision(claim: PersistentVolumeClaim, cls: StorageClass, volumeName: string): Promise<PersistentVolume>;
  /** Removes the volume's data (the API object is deleted by the controller afterwards). */
  delete(pv: PersistentVolume): Promise<void>;
}

export interface VolumeClient {
  createVolume(pv: PersistentVolume): Promise<PersistentVolume>;
  updateVolume(pv: PersistentVolume): Promise<PersistentVolume>;
  updateVolumeStatus(pv: PersistentVolume): Promise<PersistentVolume>;
  deleteVolume(name: string): Promise<void>;
  updateClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  updateClaimStatus(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  /** The claim from the API (fresher than the cache), or undefined when it does not exist. */
  getClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
}

export interface PersistentVolumeControllerOptions {
  volumeInformer: Informer<KubeObject>;
  claimInformer: Informer<KubeObject>;
  classInformer: Informer<KubeObject>;
  client: VolumeClient;
  plugins: ProvisionerPlugin[];
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
  syncPeriodMs?: number;
}

const obj = (o: PersistentVolume | PersistentVolumeClaim) => o as unknown as KubeObject;

export class PersistentVolumeController implements RunnableController {
  readonly name = 'persistentvolume-binder-controller';
  readonly claimQueue: WorkQueue<string>;
  readonly volumeQueue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: PersistentVolumeControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.claimQueue = new WorkQueue<string>({ name: 'claims', clock: this.clock });
    this.volumeQueue = new WorkQueue<string>({ name: 'volumes', clock: this.clock });
    const volume = (o: KubeObject) => this.volumeQueue.add(o.metadata.name ?? '');
    const claim = (o: KubeObject) => this.claimQueue.add(metaNamespaceKey(o));
    opts.volumeInformer.addEventHandler({ onAdd: volume, onUpdate: (_o, n) => volume(n), onDelete: (o) => this.volumeDeleted(o as unknown as PersistentVolume) });
    opts.claimInformer.addEventHandler({ onAdd: claim, onUpdate: (_o, n) => claim(n), onDelete: (o) => this.claimDeleted(o as unknown as PersistentVolumeClaim) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    const resync = this.resyncLoop(signal);
    await Promise.all([
      runQueue(this.claimQueue, workers, (k) => this.syncClaimKey(k), signal, this.opts.logger),
      runQueue(this.volumeQueue, workers, (k) => this.syncVolumeKey(k), signal, this.opts.logger),
    ]);
    await resync;
  }

  /** Every claim and volume again each sync period (upstream's resync). */
  private async resyncLoop(signal: AbortSignal): Promise<void> {
    const delay = delayOn(this.clock);
    while (!signal.aborted) {
      await delay(this.opts.syncPeriodMs ?? SYNC_PERIOD_MS, signal);
      if (signal.aborted) return;
      for (const c of this.opts.claimInformer.lister.list()) this.claimQueue.add(metaNamespaceKey(c));
      for (const v of this.opts.volumeInformer.lister.list()) this.volumeQueue.add(v.metadata.name ?? '');
    }
  }

  private claimDeleted(pvc: PersistentVolumeClaim): void {
    // The volume is released (or its provisioning is moot).
    if (pvc.spec?.volumeName) this.volumeQueue.add(pvc.spec.volumeName);
    for (const v of this.volumes()) if (v.spec?.claimRef?.uid && v.spec.claimRef.uid === pvc.metadata?.uid) this.volumeQueue.add(v.metadata!.name!);
  }

  private volumeDeleted(pv: PersistentVolume): void {
    const ref = pv.spec?.claimRef;
    if (ref?.name) this.claimQueue.add(`${ref.namespace ?? ''}/${ref.name}`);
  }

  private volumes(): PersistentVolume[] {
    return this.opts.volumeInformer.lister.list() as unknown as PersistentVolume[];
  }

  private volume(name: string): PersistentVolume | undefined {
    return this.opts.volumeInformer.lister.get('', name) as unknown as PersistentVolume | undefined;
  }

  private storageClass(name: string): StorageClass | undefined {
    return name ? (this.opts.classInformer.lister.get('', name) as unknown as StorageClass | undefined) : undefined;
  }

  private event(o: PersistentVolume | PersistentVolumeClaim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.recorder.event(obj(o), type, reason, message);
  }

  // ---------------------------------------------------------------------------------------------
  // Claims

  async syncClaimKey(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const claim = this.opts.claimInformer.lister.get(namespace, name) as unknown as PersistentVolumeClaim | undefined;
    if (!claim || claim.metadata?.deletionTimestamp) return;
    await this.syncClaim(structuredClone(claim));
  }

  async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private isDelayBinding(claim: PersistentVolumeClaim): boolean {
    return this.storageClass(persistentVolumeClaimClass(claim))?.volumeBindingMode === 'WaitForFirstConsumer';
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      const delay = this.isDelayBinding(claim);
      const pv = findMatchingVolume(claim, this.volumes(), undefined, delay);
      if (pv) {
        await this.bind(structuredClone(pv), claim);
        return;
      }
      const clsName = persistentVolumeClaimClass(claim);
      const cls = this.storageClass(clsName);
      if (delay && !claim.metadata?.annotations?.[ANN_SELECTED_NODE]) {
        this.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        await this.setClaimPhase(claim, 'Pending');
        return;
      }
      if (cls?.provisioner) {
        await this.provisionClaim(claim, cls);
        await this.setClaimPhase(claim, 'Pending');
        return;
      }
      if (!clsName) this.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      else if (!cls) this.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${clsName}" not found`);
      await this.setClaimPhase(claim, 'Pending');
      return;
    }
    // The user (or an earlier pass) chose the volume.
    const pv = this.volume(volumeName);
    if (!pv) {
      await this.setClaimPhase(claim, 'Pending');
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref || (ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace && (!ref.uid || ref.uid === claim.metadata?.uid))) {
      await this.bind(structuredClone(pv), claim);
      return;
    }
    this.event(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
    await this.setClaimPhase(claim, 'Pending');
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      await this.claimLost(claim, 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const pv = this.volume(volumeName);
    if (!pv) {
      await this.claimLost(claim, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid === claim.metadata?.uid) {
      // Not bound yet on the volume's side, or bound: finish or confirm the binding.
      await this.bind(structuredClone(pv), claim);
      return;
    }
    await this.claimLost(claim, 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private async claimLost(claim: PersistentVolumeClaim, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    this.event(claim, 'Warning', 'ClaimLost', message);
    await this.setClaimPhase(claim, 'Lost');
  }

  private async setClaimPhase(claim: PersistentVolumeClaim, phase: string): Promise<PersistentVolumeClaim> {
    if (claim.status?.phase === phase) return claim;
    const next = { ...claim, status: { ...(claim.status ?? {}), phase } } as PersistentVolumeClaim;
    if (phase !== 'Bound') {
      // Upstream clears what the volume provided when a claim is not (or no longer) bound.
      const st = next.status as Record<string, unknown>;
      if (phase === 'Pending') {
        delete st.capacity;
        delete st.accessModes;
      }
    }
    return this.opts.client.updateClaimStatus(next);
  }

  /** Both sides of a binding, then both statuses (upstream's bind). Each step is skipped when done. */
  private async bind(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const pvName = pv.metadata!.name!;
    // Volume -> claim.
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid !== claim.metadata?.uid || ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) {
      const annotations = { ...(pv.metadata?.annotations ?? {}) };
      if (!ref) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      pv = await this.opts.client.updateVolume({
        ...pv,
        metadata: { ...pv.metadata, annotations },
        spec: {
          ...pv.spec,
          claimRef: {
            kind: 'PersistentVolumeClaim',
            namespace: claim.metadata!.namespace,
            name: claim.metadata!.name,
            uid: claim.metadata!.uid,
            apiVersion: 'v1',
            resourceVersion: claim.metadata!.resourceVersion,
          },
        },
      });
    }
    if (pv.status?.phase !== 'Bound') {
      pv = await this.opts.client.updateVolumeStatus({ ...pv, status: { ...(pv.status ?? {}), phase: 'Bound', message: undefined, reason: undefined } });
    }
    // Claim -> volume.
    const ann = claim.metadata?.annotations ?? {};
    if (claim.spec?.volumeName !== pvName || ann[ANN_BIND_COMPLETED] === undefined) {
      const annotations: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' };
      if (claim.spec?.volumeName !== pvName) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      claim = await this.opts.client.updateClaim({ ...claim, metadata: { ...claim.metadata, annotations }, spec: { ...claim.spec, volumeName: pvName } });
    }
    const st = claim.status ?? {};
    const capacity = pv.spec?.capacity;
    if (st.phase !== 'Bound' || JSON.stringify(st.accessModes) !== JSON.stringify(pv.spec?.accessModes) || JSON.stringify(st.capacity) !== JSON.stringify(capacity)) {
      await this.opts.client.updateClaimStatus({ ...claim, status: { ...st, phase: 'Bound', accessModes: pv.spec?.accessModes, capacity } });
      this.opts.logger?.info?.({ claim: metaNamespaceKey(obj(claim)), volume: pvName }, 'Claim bound to volume');
    }
  }

  /** Dynamic provisioning through an in-tree plugin; other provisioners are waited for. */
  private async provisionClaim(claim: PersistentVolumeClaim, cls: StorageClass): Promise<void> {
    const provisioner = cls.provisioner;
    const plugin = this.opts.plugins.find((p) => p.name === provisioner);
    if (!plugin && provisioner.startsWith('kubernetes.io/')) {
      // An in-tree name no plugin here serves (kubernetes.io/no-provisioner): nothing will provision it.
      this.event(claim, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${provisioner}`);
      return;
    }
    const ann = claim.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner) {
      claim = await this.opts.client.updateClaim({
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } },
      });
    }
    if (!plugin) {
      this.event(
        claim,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return;
    }
    const volumeName = `pvc-${claim.metadata!.uid}`;
    if (this.volume(volumeName)) return;
    let pv: PersistentVolume;
    try {
      pv = await plugin.provision(claim, cls, volumeName);
    } catch (err) {
      this.event(claim, 'Warning', 'ProvisioningFailed', `Failed to provision volume with StorageClass "${cls.metadata?.name}": ${(err as Error).message}`);
      return;
    }
    pv.metadata = { ...pv.metadata, name: volumeName, annotations: { ...(pv.metadata?.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes', [ANN_DYNAMICALLY_PROVISIONED]: provisioner } };
    pv.spec = {
      ...pv.spec,
      claimRef: { kind: 'PersistentVolumeClaim', namespace: claim.metadata!.namespace, name: claim.metadata!.name, uid: claim.metadata!.uid, apiVersion: 'v1', resourceVersion: claim.metadata!.resourceVersion },
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata?.name,
      mountOptions: cls.mountOptions,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
    };
    if (!pv.spec.mountOptions) delete pv.spec.mountOptions;
    try {
      await this.opts.client.createVolume(pv);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.event(claim, 'Warning', 'ProvisioningFailed', `Failed to create volume "${volumeName}": ${(err as Error).message}`);
        throw err;
      }
      return;
    }
    this.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volumeName} using ${provisioner}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Volumes

  async syncVolumeKey(name: string): Promise<void> {
    // A volume being deleted is still synced: it is released when its claim goes (pv-protection waits for that).
    const pv = this.volume(name);
    if (!pv) return;
    await this.syncVolume(structuredClone(pv));
  }

  async syncVolume(pv: PersistentVolume): Promise<void> {
    const ref = pv.spec?.claimRef;
    if (!ref) {
      await this.setVolumePhase(pv, 'Available');
      return;
    }
    if (!ref.uid) {
      // Pre-bound by a user: waits for its claim (the claim's sync binds it).
      await this.setVolumePhase(pv, 'Available');
      this.claimQueue.add(`${ref.namespace ?? ''}/${ref.name}`);
      return;
    }
    let claim = this.opts.claimInformer.lister.get(ref.namespace ?? '', ref.name ?? '') as unknown as PersistentVolumeClaim | undefined;
    if (!claim || claim.metadata?.uid !== ref.uid) {
      // Not in the cache: ask the API before releasing anything.
      claim = await this.opts.client.getClaim(ref.namespace ?? '', ref.name ?? '');
    }
    if (!claim || claim.metadata?.uid !== ref.uid) {
      await this.releaseAndReclaim(pv);
      return;
    }
    if (!claim.spec?.volumeName) {
      // The claim's side is not done yet.
      this.claimQueue.add(`${ref.namespace}/${ref.name}`);
      return;
    }
    if (claim.spec.volumeName === pv.metadata!.name) {
      await this.setVolumePhase(pv, 'Bound');
      return;
    }
    // The claim is bound to another volume.
    if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      await this.releaseAndReclaim(pv);
    } else if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
      await this.unbindVolume(pv);
    } else {
      await this.setVolumePhase(pv, 'Available');
    }
  }

  private async setVolumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<PersistentVolume> {
    if (pv.status?.phase === phase && (message === undefined || pv.status?.message === message)) return pv;
    const status = { ...(pv.status ?? {}), phase } as Record<string, unknown>;
    if (message) status.message = message;
    else delete status.message;
    return this.opts.client.updateVolumeStatus({ ...pv, status });
  }

  private async unbindVolume(pv: PersistentVolume): Promise<void> {
    const annotations = { ...(pv.metadata?.annotations ?? {}) };
    delete annotations[ANN_BOUND_BY_CONTROLLER];
    const spec = { ...pv.spec };
    delete spec.claimRef;
    const next = await this.opts.client.updateVolume({ ...pv, metadata: { ...pv.metadata, annotations }, spec });
    await this.setVolumePhase(next, 'Available');
  }

  /** The claim is gone: Released, then the reclaim policy (upstream's reclaimVolume). */
  private async releaseAndReclaim(pv: PersistentVolume): Promise<void> {
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') pv = await this.setVolumePhase(pv, 'Released');
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      if (pv.status?.phase !== 'Failed') {
        this.event(pv, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        await this.setVolumePhase(pv, 'Failed', 'No recycler plugin found for the volume!');
      }
      return;
    }
    // Delete.
    const provisioner = pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED];
    const plugin = this.opts.plugins.find((p) => p.name === provisioner);
    if (!plugin) {
      if (provisioner) return; // an external provisioner deletes its volumes
      if (pv.status?.phase !== 'Failed') {
        const msg = `error getting deleter volume plugin for volume "${pv.metadata!.name}": no deletable volume plugin matched`;
        this.event(pv, 'Warning', 'VolumeFailedDelete', msg);
        await this.setVolumePhase(pv, 'Failed', msg);
      }
      return;
    }
    try {
      await plugin.delete(pv);
    } catch (err) {
      this.event(pv, 'Warning', 'VolumeFailedDelete', (err as Error).message);
      throw err;
    }
    try {
      await this.opts.client.deleteVolume(pv.metadata!.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.opts.logger?.info?.({ volume: pv.metadata!.name }, 'Deleted volume');
  }
}
