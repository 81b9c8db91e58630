// Counterpart of pkg/kubelet/volumemanager (reduced to what a sync needs) and the volume plugins emptyDir,
// hostPath, configMap, secret, downwardAPI, projected (serviceAccountToken through TokenRequest) and
// persistentVolumeClaim (a bound hostPath or local PersistentVolume: its directory on the node): each other
// volume of a pod becomes a directory under <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>,
// written (again) before every sync so that changed ConfigMaps and Secrets show up.
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findResource, isNotFound } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from 'kubernetes-types/core/v1';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const PVCS = findResource('', 'v1', 'persistentvolumeclaims')!;
const PVS = findResource('', 'v1', 'persistentvolumes')!;
const DEFAULT_MODE = 0o644;
/** A token is requested again once 80% of its lifetime passed (upstream's token manager). */
const TOKEN_REFRESH_FRACTION = 0.8;

export interface VolumeManagerOptions {
  client: RestClient;
  /** --root-dir. */
  rootDir: string;
  logger?: Logger;
  now?: () => number;
}

/** A volume the kubelet cannot set up yet (the container waits; the sync is retried). */
export class MountError extends Error {}

type Files = Map<string, { data: Buffer; mode: number }>;

/** The value of a downward API fieldRef (the fields a volume may project). */
export function downwardFieldValue(pod: Pod, fieldPath: string): string {
  const m = pod.metadata ?? {};
  const mapText = (o: Record<string, string> | undefined) =>
    Object.keys(o ?? {}).sort().map((k) => `${k}=${JSON.stringify(o![k])}`).join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return mapText(m.labels);
    case 'metadata.annotations':
      return mapText(m.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return m.labels?.[label[1]!] ?? '';
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (annotation) return m.annotations?.[annotation[1]!] ?? '';
  throw new MountError(`unsupported fieldPath: ${fieldPath}`);
}

export class VolumeManager {
  private readonly mounted = new Map<string, Map<string, string>>();
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  podDir(uid: string): string {
    return join(this.opts.rootDir, 'pods', uid);
  }

  /** Volume name -> host path of the pod's volumes set up so far. */
  paths(pod: Pod): ReadonlyMap<string, string> {
    return this.mounted.get(pod.metadata?.uid ?? '') ?? new Map();
  }

  /** Sets up (or refreshes) every volume of the pod. Throws MountError when one cannot be. */
  async mountPod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const paths = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.hostPath) {
        if (v.hostPath.type === 'DirectoryOrCreate') await mkdir(v.hostPath.path, { recursive: true, mode: 0o755 });
        paths.set(v.name, v.hostPath.path);
        continue;
      }
      if (v.persistentVolumeClaim) {
        paths.set(v.name, await this.claimPath(pod, v.name, v.persistentVolumeClaim.claimName));
        continue;
      }
      const plugin =
        v.emptyDir ? 'empty-dir' : v.configMap ? 'configmap' : v.secret ? 'secret' : v.downwardAPI ? 'downward-api' : v.projected ? 'projected' : '';
      if (!plugin) {
        const where = { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volume: v.name };
        this.opts.logger?.warn(where, 'Volume type not supported by this kubelet; mounting an empty directory');
      }
      const dir = join(this.podDir(uid), 'volumes', `kubernetes.io~${plugin || 'empty-dir'}`, v.name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      try {
        const files = await this.contents(pod, v);
        if (files) await writeAtomically(dir, files);
      } catch (err) {
        // Upstream's FailedMount message.
        throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : ${(err as Error).message}`);
      }
      paths.set(v.name, dir);
    }
    this.mounted.set(uid, paths);
  }

  /**
   * The host directory of a claim's volume (upstream's persistentVolumeClaim source resolved to its bound
   * PersistentVolume): the claim must be Bound; hostPath and local volumes are directories on this node,
   * created when missing. Their data outlives the pod (nothing under the pod's directory).
   */
  private async claimPath(pod: Pod, volume: string, claimName: string): Promise<string> {
    const ns = pod.metadata?.namespace ?? '';
    const fail = (msg: string) => new MountError(`MountVolume.SetUp failed for volume "${volume}" : ${msg}`);
    let claim: PersistentVolumeClaim;
    try {
      claim = (await this.opts.client.resource(PVCS, ns).get(claimName)) as PersistentVolumeClaim;
    } catch (err) {
      throw fail(isNotFound(err) ? `persistentvolumeclaim "${claimName}" not found` : (err as Error).message);
    }
    // A pod already running keeps its volume (its paths stay); a new one does not start on a claim being deleted.
    if (claim.metadata?.deletionTimestamp && !this.mounted.get(pod.metadata?.uid ?? '')?.has(volume)) {
      throw new MountError(`error processing PVC ${ns}/${claimName}: can't start pod because PVC ${ns}/${claimName} is being deleted`);
    }
    const pvName = claim.spec?.volumeName;
    if (claim.status?.phase !== 'Bound' || !pvName) throw new MountError(`error processing PVC ${ns}/${claimName}: PVC is not bound`);
    let pv: PersistentVolume;
    try {
      pv = (await this.opts.client.resource(PVS).get(pvName)) as PersistentVolume;
    } catch (err) {
      throw fail(isNotFound(err) ? `persistentvolumes "${pvName}" not found` : (err as Error).message);
    }
    const ref = pv.spec?.claimRef;
    if (ref?.uid && ref.uid !== claim.metadata?.uid) throw fail(`persistentvolume "${pvName}" is bound to another claim`);
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (!path) throw fail(`persistentvolume "${pvName}": only hostPath and local volumes can be mounted by this kubelet`);
    try {
      await mkdir(path, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fail((err as Error).message);
    }
    return path;
  }

  /** Removes the pod's volume directories (a removed pod). */
  async unmountPod(uid: string): Promise<void> {
    this.mounted.delete(uid);
    for (const k of [...this.tokens.keys()]) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
    await rm(this.podDir(uid), { recursive: true, force: true });
  }

  /**
   * GETs of an object in flight, by resource/namespace/name: pods set up at the same time share one (a burst
   * of pods in a namespace asks for its kube-root-ca.crt once, not once per pod).
   */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private fetchShared(info: typeof CONFIGMAPS, ns: string, name: string): Promise<unknown> {
    const key = `${info.resource}/${ns}/${name}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.opts.client.resource(info, ns).get(name);
      this.inFlight.set(key, p);
      const done = () => this.inFlight.delete(key);
      p.then(done, done);
    }
    return p;
  }

  private async get<T>(info: typeof CONFIGMAPS, ns: string, name: string, optional: boolean): Promise<T | undefined> {
    try {
      return (await this.fetchShared(info, ns, name)) as T;
    } catch (err) {
      if (!isNotFound(err)) throw new MountError((err as Error).message);
      if (optional) return undefined;
      throw new MountError(`${info.resource === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
    }
  }

  private async token(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${audience ?? ''}/${expirationSeconds}`;
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.refreshAt) return cached.token;
    const ns = pod.metadata?.namespace ?? '';
    const sa = pod.spec?.serviceAccountName || 'default';
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: audience ? [audience] : [], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid } },
    };
    let res: { status?: { token?: string } };
    try {
      res = await this.opts.client.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, body });
    } catch (err) {
      throw new MountError(`failed to fetch token: ${(err as Error).message}`);
    }
    const token = res.status?.token ?? '';
    this.tokens.set(key, { token, refreshAt: this.now() + expirationSeconds * 1000 * TOKEN_REFRESH_FRACTION });
    return token;
  }

  /** The files of a volume (undefined for a volume that starts empty). */
  private async contents(pod: Pod, v: Volume): Promise<Files | undefined> {
    const ns = pod.metadata?.namespace ?? '';
    const files: Files = new Map();
    const fromData = (data: Record<string, Buffer>, items: KeyToPath[] | undefined, mode: number) => {
      if (items?.length) {
        for (const it of items) if (data[it.key]) files.set(it.path, { data: data[it.key]!, mode: it.mode ?? mode });
      } else {
        for (const [k, d] of Object.entries(data)) files.set(k, { data: d, mode });
      }
    };
    const configMapData = (cm: ConfigMap) => ({
      ...Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, s]) => [k, Buffer.from(s)])),
      ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, s]) => [k, Buffer.from(s, 'base64')])),
    });
    const secretData = (s: Secret) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, d]) => [k, Buffer.from(d, 'base64')]));
    const downward = (items: DownwardAPIVolumeFile[] | undefined, mode: number) => {
      for (const it of items ?? []) {
        if (it.fieldRef) files.set(it.path, { data: Buffer.from(downwardFieldValue(pod, it.fieldRef.fieldPath)), mode: it.mode ?? mode });
      }
    };
    if (v.emptyDir) return undefined;
    if (v.configMap) {
      const cm = await this.get<ConfigMap>(CONFIGMAPS, ns, v.configMap.name ?? '', v.configMap.optional ?? false);
      if (cm) fromData(configMapData(cm), v.configMap.items, v.configMap.defaultMode ?? DEFAULT_MODE);
      return files;
    }
    if (v.secret) {
      const s = await this.get<Secret>(SECRETS, ns, v.secret.secretName ?? '', v.secret.optional ?? false);
      if (s) fromData(secretData(s), v.secret.items, v.secret.defaultMode ?? DEFAULT_MODE);
      return files;
    }
    if (v.downwardAPI) {
      downward(v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE);
      return files;
    }
    if (v.projected) {
      const mode = v.projected.defaultMode ?? DEFAULT_MODE;
      const sources = v.projected.sources ?? [];
      // The sources' objects and tokens are fetched at once (a service account token volume is a TokenRequest
      // and a kube-root-ca.crt GET: one round trip instead of two); their files are added in order.
      const fetched = await Promise.all(
        sources.map((src) => {
          if (src.configMap) return this.get<ConfigMap>(CONFIGMAPS, ns, src.configMap.name ?? '', src.configMap.optional ?? false);
          if (src.secret) return this.get<Secret>(SECRETS, ns, src.secret.name ?? '', src.secret.optional ?? false);
          if (src.serviceAccountToken) return this.token(pod, src.serviceAccountToken.audience, src.serviceAccountToken.expirationSeconds ?? 3600);
          return undefined;
        }),
      );
      for (const [i, src] of sources.entries()) {
        const got = fetched[i];
        if (src.configMap) {
          if (got) fromData(configMapData(got as ConfigMap), src.configMap.items, mode);
        } else if (src.secret) {
          if (got) fromData(secretData(got as Secret), src.secret.items, mode);
        } else if (src.downwardAPI) {
          downward(src.downwardAPI.items, mode);
        } else if (src.serviceAccountToken) {
          files.set(src.serviceAccountToken.path, { data: Buffer.from(got as string), mode });
        }
      }
      return files;
    }
    return undefined;
  }
}

/** Writes the files into a fresh data directory, then swaps it in (as upstream's atomic writer, without the symlinks). */
async function writeAtomically(dir: string, files: Files): Promise<void> {
  for (const [path, f] of files) {
    if (path.split('/').some((p) => p === '..' || p === '')) throw new MountError(`invalid path ${JSON.stringify(path)} in volume`);
    const target = join(dir, path);
    await mkdir(join(target, '..'), { recursive: true, mode: 0o755 });
    const tmp = `${target}.kubelab-tmp`;
    await writeFile(tmp, f.data);
    await chmod(tmp, f.mode);
    await rename(tmp, target);
  }
}
