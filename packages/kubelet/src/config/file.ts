// Counterpart of pkg/kubelet/config/file.go, file_linux.go and common.go: static pods from a directory of
// Pod manifests (--pod-manifest-path, the KubeletConfiguration's staticPodPath). Every non-hidden regular
// file holds one Pod in YAML or JSON; it is defaulted and validated as the apiserver would, named
// <name>-<nodeName>, bound to the node, and given a UID that hashes its content with the node and file
// (so it is stable across kubelet restarts and changes with the manifest). The directory is re-read on
// change (fs.watch) and every period (20 s, upstream's --file-check-frequency).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { aggregateFieldErrors, applyDefaults, validateObject, type KubeObject } from '@kubelab/api';
import { realClock, type Clock, type TimerHandle } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Pod, Toleration } from 'kubernetes-types/core/v1';
import { parse as parseYAML } from 'yaml';

/** kubetypes.ConfigSourceAnnotationKey: where the kubelet got the pod from (file, http, api). */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
/** kubetypes.ConfigHashAnnotationKey: the static pod's hash (its UID). */
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
/** kubetypes.ConfigFirstSeenAnnotationKey: when the kubelet first saw the pod. */
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
/** kubetypes.ConfigMirrorAnnotationKey: set on a mirror pod to the hash of its static pod. */
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const FILE_SOURCE = 'file';
/** Upstream's --file-check-frequency default. */
export const DEFAULT_FILE_CHECK_FREQUENCY_MS = 20_000;
/** Upstream's maxConfigLength: larger manifests are refused. */
const MAX_CONFIG_LENGTH = 10 * (1 << 20);

/** A pod from a file (or http) source rather than the apiserver (kubetypes.IsStaticPod). */
export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return source !== undefined && source !== 'api';
}

/** A pod in the apiserver that stands for a static pod (kubetypes.IsMirrorPod). */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** Static pods are named after the node so that they are unique in the cluster (upstream generatePodName). */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`;
}

/** Go's time.RFC3339Nano: fractional seconds without trailing zeros (kubetypes.Timestamp.GetString). */
export function rfc3339Nano(t: number): string {
  return new Date(t).toISOString().replace(/\.?0*Z$/, 'Z');
}

/** JSON with object keys sorted: the same pod always hashes the same. */
function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : val,
  );
}

/**
 * Upstream's applyDefaults for a file source: a UID hashing the pod with the node and file (unless the
 * manifest has one), the name <name>-<node>, namespace default, spec.nodeName, the config.hash
 * annotation, a toleration of every NoExecute taint (so node problems do not evict it) and phase Pending.
 */
export function applyStaticPodDefaults(pod: Pod, source: string, nodeName: string): void {
  const meta = (pod.metadata ??= {});
  if (!meta.uid) {
    const h = createHash('md5');
    h.update(canonicalJSON(pod));
    h.update(`host:${nodeName}`);
    h.update(`file:${source}`);
    (meta as { uid?: string }).uid = h.digest('hex');
  }
  meta.name = staticPodName(meta.name ?? '', nodeName);
  if (!meta.namespace) meta.namespace = 'default';
  const spec = (pod.spec ??= { containers: [] });
  spec.nodeName = nodeName;
  meta.annotations = { ...meta.annotations, [CONFIG_HASH_ANNOTATION]: meta.uid ?? '' };
  addOrUpdateToleration(pod, { operator: 'Exists', effect: 'NoExecute' });
  (pod as { status?: Pod['status'] }).status = { phase: 'Pending' };
}

/** helper.AddOrUpdateTolerationInPod: a toleration equal to an existing one (same key, operator, value, effect) replaces it. */
function addOrUpdateToleration(pod: Pod, t: Toleration): void {
  const spec = pod.spec!;
  const same = (o: Toleration) => (o.key ?? '') === (t.key ?? '') && (o.operator ?? 'Equal') === (t.operator ?? 'Equal') && (o.value ?? '') === (t.value ?? '') && (o.effect ?? '') === (t.effect ?? '');
  const rest = (spec.tolerations ?? []).filter((o) => !same(o));
  spec.tolerations = [...rest, t];
}

/**
 * Upstream's tryDecodeSinglePod with the file source's defaults: one Pod (apiVersion v1) in YAML or JSON,
 * with a name, defaulted and valid. Throws with the reason otherwise.
 */
export function decodeStaticPod(data: string, source: string, nodeName: string): Pod {
  if (data.length > MAX_CONFIG_LENGTH) throw new Error(`manifest ${source} is larger than the limit of ${MAX_CONFIG_LENGTH} bytes`);
  let obj: unknown;
  try {
    obj = parseYAML(data);
  } catch (err) {
    throw new Error(`${source}: couldn't parse as pod(${(err as Error).message}), please check manifest file.`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${source}: couldn't parse as pod(Object 'Kind' is missing), please check manifest file.`);
  const o = obj as KubeObject;
  if (o.kind !== 'Pod' || o.apiVersion !== 'v1') {
    throw new Error(`${source}: couldn't parse as pod(invalid pod: kind ${JSON.stringify(o.kind ?? '')} apiVersion ${JSON.stringify(o.apiVersion ?? '')}), please check manifest file.`);
  }
  if (!o.metadata?.name) throw new Error('invalid pod: name is needed for the pod');
  applyDefaults(o);
  const pod = o as unknown as Pod;
  applyStaticPodDefaults(pod, source, nodeName);
  const errs = validateObject(o);
  if (errs.length) throw new Error(`invalid pod: ${aggregateFieldErrors(errs)}`);
  for (const v of pod.spec?.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      if ((s as { clusterTrustBundle?: unknown }).clusterTrustBundle) throw new Error('static pods may not use ClusterTrustBundle projected volume sources');
    }
  }
  return pod;
}

export interface FileSourceOptions {
  /** The manifest directory (or a single manifest file). */
  path: string;
  nodeName: string;
  /** Every set of static pods, whenever it changes (and once after the first read). */
  onPods: (pods: Pod[]) => void;
  periodMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The file source: reads the manifests, keeps each pod's first-seen time and source annotations, and
 * reports the whole set (upstream's SET update) when a pod appeared, disappeared or changed.
 */
export class FileSource {
  private readonly clock: Clock;
  private readonly seen = new Map<string, string>();
  private last: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: TimerHandle | undefined;
  private debounce: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly opts: FileSourceOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** Reads the manifests now; returns the static pods (sorted by file). */
  read(): Pod[] {
    const path = this.opts.path.replace(/\/+$/, '') || '/';
    const log = this.opts.logger;
    let files: string[];
    try {
      const st = statSync(path);
      if (st.isDirectory()) {
        files = readdirSync(path)
          .filter((n) => !n.startsWith('.'))
          .sort()
          .map((n) => join(path, n));
      } else if (st.isFile()) files = [path];
      else {
        log?.warn({ path }, 'Path is not a directory or file');
        files = [];
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn({ err: (err as Error).message, path }, 'Unable to read pod manifest path');
      files = [];
    }
    const pods: Pod[] = [];
    const keys = new Set<string>();
    for (const file of files) {
      try {
        const st = statSync(file);
        if (st.isDirectory()) {
          log?.debug({ path: file }, 'Not recursing into manifest path');
          continue;
        }
        if (!st.isFile()) continue;
        const pod = decodeStaticPod(readFileSync(file, 'utf8'), file, this.opts.nodeName);
        const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
        if (keys.has(key)) {
          log?.warn({ path: file, pod: key }, 'Pod with the same name already seen in another manifest; ignoring');
          continue;
        }
        keys.add(key);
        pods.push(pod);
      } catch (err) {
        log?.warn({ err: (err as Error).message, path: file }, 'Could not process manifest file');
      }
    }
    const uids = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      uids.add(uid);
      if (!this.seen.has(uid)) this.seen.set(uid, rfc3339Nano(this.clock.now()));
      pod.metadata!.annotations = { ...pod.metadata!.annotations, [CONFIG_SEEN_ANNOTATION]: this.seen.get(uid)!, [CONFIG_SOURCE_ANNOTATION]: FILE_SOURCE };
    }
    for (const uid of [...this.seen.keys()]) if (!uids.has(uid)) this.seen.delete(uid);
    return pods;
  }

  /** Reads and reports the set if it changed; returns the pods. */
  sync(): Pod[] {
    const pods = this.read();
    const signature = canonicalJSON(pods);
    if (signature !== this.last) {
      this.last = signature;
      this.opts.onPods(pods);
    }
    return pods;
  }

  /** The first read (synchronous, so that a restarted kubelet knows its static pods before it looks at the runtime), then watch and resync. */
  start(): Pod[] {
    this.stopped = false;
    const pods = this.sync();
    this.watchPath();
    const tick = () => {
      if (this.stopped) return;
      this.safeSync();
      if (!this.watcher) this.watchPath();
      this.timer = this.clock.setTimeout(tick, this.opts.periodMs ?? DEFAULT_FILE_CHECK_FREQUENCY_MS);
    };
    this.timer = this.clock.setTimeout(tick, this.opts.periodMs ?? DEFAULT_FILE_CHECK_FREQUENCY_MS);
    return pods;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const t of [this.timer, this.debounce]) if (t !== undefined) this.clock.clearTimeout(t);
    this.timer = this.debounce = undefined;
  }

  private safeSync(): void {
    try {
      this.sync();
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, path: this.opts.path }, 'Unable to read manifest path');
    }
  }

  /** Watches the directory (inotify through fs.watch); a burst of events becomes one read. The periodic read covers a missing directory. */
  private watchPath(): void {
    try {
      this.watcher = watch(this.opts.path, { persistent: false }, () => {
        if (this.stopped || this.debounce !== undefined) return;
        this.debounce = this.clock.setTimeout(() => {
          this.debounce = undefined;
          if (!this.stopped) this.safeSync();
        }, 100);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }
}
