// Kubelab's local dynamic provisioner (in the manner of rancher's local-path-provisioner, which kind and k3s
// ship as their default StorageClass): a claim's volume is a directory on the node the scheduler chose
// for its first pod (volume.kubernetes.io/selected-node), <base>/<pv-name>, offered as a hostPath volume
// (DirectoryOrCreate: the kubelet makes it on first mount) with node affinity to that node. A released
// volume's directory is removed by a short-lived helper pod on that node, as local-path-provisioner does.
import { ANN_SELECTED_NODE, isNotFound, type KubeObject } from '@kubelab/api';
import { delayOn, realClock, type Clock } from '@kubelab/client';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import type { ProvisionerPlugin } from './pv-controller.js';

export const LOCAL_PATH_PROVISIONER = 'kubelab.io/local-path';
/** Where volumes live on a node. */
export const LOCAL_PATH_BASE = '/var/lib/kubelab/local-path';
/** On a provisioned volume: the node its directory is on. */
export const ANN_LOCAL_PATH_NODE = 'kubelab.io/local-path-node';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Namespace and image of the helper pods that remove a deleted volume's directory. */
const HELPER_NAMESPACE = 'kube-system';
const HELPER_IMAGE = 'busybox';
const HELPER_TIMEOUT_MS = 120_000;

export interface LocalPathClient {
  getNode(name: string): Promise<Node | undefined>;
  createPod(namespace: string, pod: Pod): Promise<Pod>;
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
  deletePod(namespace: string, name: string): Promise<void>;
}

export class LocalPathProvisioner implements ProvisionerPlugin {
  readonly name = LOCAL_PATH_PROVISIONER;
  private readonly clock: Clock;

  constructor(
    private readonly client: LocalPathClient,
    private readonly opts: { base?: string; clock?: Clock; helperTimeoutMs?: number; pollMs?: number } = {},
  ) {
    this.clock = opts.clock ?? realClock;
  }

  async provision(claim: PersistentVolumeClaim, cls: StorageClass, volumeName: string): Promise<PersistentVolume> {
    const nodeName = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (!nodeName) throw new Error('configuration error, no node was specified');
    if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') throw new Error('only the Filesystem volume mode is supported');
    const node = await this.client.getNode(nodeName);
    if (!node) throw new Error(`nodes "${nodeName}" not found`);
    const hostname = node.metadata?.labels?.[HOSTNAME_LABEL] ?? nodeName;
    const base = (cls.parameters?.path ?? this.opts.base ?? LOCAL_PATH_BASE).replace(/\/+$/, '');
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: volumeName, annotations: { [ANN_LOCAL_PATH_NODE]: nodeName } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '0' },
        accessModes: claim.spec?.accessModes,
        hostPath: { path: `${base}/${volumeName}`, type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] }] } },
      },
    };
  }

  /** Removes the directory with a helper pod bound to the volume's node; resolves once it succeeded. */
  async delete(pv: PersistentVolume): Promise<void> {
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    const nodeName = pv.metadata?.annotations?.[ANN_LOCAL_PATH_NODE];
    if (!path || !nodeName) throw new Error(`volume "${pv.metadata?.name}" has no local-path directory or node`);
    const slash = path.lastIndexOf('/');
    const parent = path.slice(0, slash) || '/';
    const dir = path.slice(slash + 1);
    if (!dir || dir === '.' || dir === '..') throw new Error(`refusing to delete "${path}"`);
    if (!(await this.client.getNode(nodeName))) return; // the node and its disk are gone
    const name = `helper-pod-delete-${pv.metadata!.name}`.slice(0, 253);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: HELPER_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'persistentvolume-binder-controller' } },
      spec: {
        nodeName,
        restartPolicy: 'Never',
        tolerations: [{ operator: 'Exists' }],
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'helper-pod',
            image: HELPER_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['rm', '-rf', `/volumes/${dir}`],
            volumeMounts: [{ name: 'volumes', mountPath: '/volumes' }],
          },
        ],
        volumes: [{ name: 'volumes', hostPath: { path: parent, type: 'DirectoryOrCreate' } }],
      },
    };
    const existing = await this.client.getPod(HELPER_NAMESPACE, name);
    if (existing?.status?.phase === 'Failed') await this.client.deletePod(HELPER_NAMESPACE, name);
    if (!existing || existing.status?.phase === 'Failed') await this.client.createPod(HELPER_NAMESPACE, pod);
    const delay = delayOn(this.clock);
    const deadline = this.clock.now() + (this.opts.helperTimeoutMs ?? HELPER_TIMEOUT_MS);
    let phase: string | undefined;
    while (this.clock.now() < deadline) {
      phase = (await this.client.getPod(HELPER_NAMESPACE, name))?.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await delay(this.opts.pollMs ?? 1000);
    }
    if (phase !== 'Succeeded') throw new Error(`failed to delete volume ${pv.metadata!.name}: helper pod ${HELPER_NAMESPACE}/${name} ${phase ?? 'did not finish'}`);
    await this.client.deletePod(HELPER_NAMESPACE, name);
  }
}

/** A LocalPathClient over the API. */
export function apiLocalPathClient(api: {
  get(resource: 'nodes' | 'pods', namespace: string, name: string): Promise<KubeObject>;
  create(resource: 'pods', namespace: string, obj: KubeObject): Promise<KubeObject>;
  delete(resource: 'pods', namespace: string, name: string): Promise<unknown>;
}): LocalPathClient {
  const orUndefined = async <T>(p: Promise<KubeObject>): Promise<T | undefined> => {
    try {
      return (await p) as unknown as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    getNode: (name) => orUndefined<Node>(api.get('nodes', '', name)),
    getPod: (ns, name) => orUndefined<Pod>(api.get('pods', ns, name)),
    createPod: async (ns, pod) => (await api.create('pods', ns, pod as KubeObject)) as unknown as Pod,
    deletePod: async (ns, name) => {
      try {
        await api.delete('pods', ns, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}
