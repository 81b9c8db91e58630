// The hollow node's container runtime (upstream kubemark: cmd/kubemark with --morph=kubelet runs the real kubelet
// over cri-api's fake_runtime_service.go and fake_image_service.go): sandboxes and containers that pretend to run.
// Built for scale (a thousand of them in one process), unlike cri/fake-runtime.ts: no call log, no error injection,
// and only what the kubelet reads back is kept of each config (metadata, labels, annotations, image, cgroup
// parent), not its env, mounts or command. Pod IPs come from the node's pod CIDR (UpdateRuntimeConfig) as a CNI
// host-local IPAM would hand them out, or from a fallback range until the CIDR is known. Nothing touches the host.
import { realClock, type Clock } from '@kubelab/client';
import type {
  AttachRequest, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter, ContainerStatusResponse,
  ExecRequest, ExecSyncResponse, Image, ImageFsInfoResponse, ImageService, ImageSpec, ImageStatusResponse, Labels, LinuxContainerResources,
  PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStats, PodSandboxStatsFilter, PodSandboxStatusResponse, RuntimeService,
  StatusResponse, VersionResponse,
} from '../cri/runtime-service.js';
import { POD_UID_LABEL } from '../kuberuntime/sandbox-config.js';

export const HOLLOW_RUNTIME_NAME = 'hollow';
export const HOLLOW_RUNTIME_VERSION = '0.1.0';

/** Nanoseconds, as the CRI reports times. */
const nanos = (ms: number) => ms * 1e6;

export interface HollowSandbox {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: number;
  ip: string;
  hostNetwork: boolean;
  cgroupParent: string;
  labels: Labels;
  annotations: Labels;
  runtimeHandler: string;
}

export interface HollowContainer {
  id: string;
  podSandboxId: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  logPath: string;
  labels: Labels;
  annotations: Labels;
  resources: LinuxContainerResources | null;
}

function labelsMatch(selector: Labels | undefined, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return true;
}

/** An IPv4 dotted quad as a number, and back. */
const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * A range's usable host addresses, handed out lowest first and reused once released (host-local IPAM skips the
 * network address and the gateway, .1). Only IPv4.
 */
export class IPPool {
  private readonly first: number;
  private readonly size: number;
  private next = 0;
  private readonly free: number[] = [];
  private readonly used = new Set<number>();

  constructor(readonly cidr: string) {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
    if (!m || Number(m[2]) > 30) throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)}: an IPv4 range of at least 4 addresses is needed`);
    const bits = 32 - Number(m[2]);
    const base = ipToInt(m[1]!) - (ipToInt(m[1]!) % 2 ** bits);
    this.first = base + 2;
    this.size = 2 ** bits - 3; // the network, the gateway and the broadcast address are not handed out
  }

  allocate(): string {
    const n = this.free.length ? this.free.pop()! : this.next < this.size ? this.next++ : undefined;
    if (n === undefined) throw new Error(`failed to allocate an address: no IP addresses available in range set ${this.cidr}`);
    this.used.add(n);
    return intToIp(this.first + n);
  }

  release(ip: string): void {
    const n = ipToInt(ip) - this.first;
    if (this.used.delete(n)) this.free.push(n);
  }

  contains(ip: string): boolean {
    return this.used.has(ipToInt(ip) - this.first);
  }
}

export interface HollowRuntimeOptions {
  clock?: Clock;
  /** Where pod IPs come from until the node's pod CIDR is known (default 10.255.0.0/16). */
  fallbackCIDR?: string;
}

export class HollowRuntimeService implements RuntimeService {
  readonly sandboxes = new Map<string, HollowSandbox>();
  readonly containers = new Map<string, HollowContainer>();
  /** Sandbox and container ids by pod uid: the kubelet lists a pod's by its uid label, once per pod sync. */
  private readonly byPod = new Map<string, { sandboxes: Set<string>; containers: Set<string> }>();
  private readonly clock: Clock;
  private pool: IPPool;
  private readonly fallback: IPPool;
  private seq = 0;

  constructor(opts: HollowRuntimeOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.fallback = new IPPool(opts.fallbackCIDR ?? '10.255.0.0/16');
    this.pool = this.fallback;
  }

  /** The pod CIDR addresses are handed out from (the fallback's until UpdateRuntimeConfig). */
  podCIDR(): string {
    return this.pool.cidr;
  }

  private newId(): string {
    return (++this.seq).toString(16).padStart(64, '0');
  }

  private sandbox(id: string): HollowSandbox {
    const s = this.sandboxes.get(id);
    if (!s) throw new Error(`rpc error: code = NotFound desc = an error occurred when try to find sandbox: not found: ${id}`);
    return s;
  }

  private container(id: string): HollowContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`rpc error: code = NotFound desc = an error occurred when try to find container "${id}": not found`);
    return c;
  }

  private exit(c: HollowContainer, exitCode: number, reason: string): void {
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.reason = reason;
    c.finishedAt = nanos(this.clock.now());
  }

  private podIndex(uid: string): { sandboxes: Set<string>; containers: Set<string> } {
    let e = this.byPod.get(uid);
    if (!e) this.byPod.set(uid, (e = { sandboxes: new Set(), containers: new Set() }));
    return e;
  }

  /** The candidates for a filter: one id, one pod's (by its uid label), or all. */
  private candidates<T>(all: Map<string, T>, filter: { id?: string; labelSelector?: Labels }, kind: 'sandboxes' | 'containers'): Iterable<T> {
    if (filter.id) return [all.get(filter.id)].filter((x) => x !== undefined);
    const uid = filter.labelSelector?.[POD_UID_LABEL];
    if (uid === undefined) return all.values();
    return [...(this.byPod.get(uid)?.[kind] ?? [])].map((id) => all.get(id)!);
  }

  private releaseIP(s: HollowSandbox): void {
    if (!s.ip) return;
    if (this.pool.contains(s.ip)) this.pool.release(s.ip);
    else this.fallback.release(s.ip);
    s.ip = '';
  }

  async version(): Promise<VersionResponse> {
    return { version: '0.1.0', runtimeName: HOLLOW_RUNTIME_NAME, runtimeVersion: HOLLOW_RUNTIME_VERSION, runtimeApiVersion: 'v1' };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const id = this.newId();
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    this.sandboxes.set(id, {
      id,
      name: config.metadata.name,
      namespace: config.metadata.namespace,
      uid: config.metadata.uid,
      attempt: config.metadata.attempt ?? 0,
      state: 'SANDBOX_READY',
      createdAt: nanos(this.clock.now()),
      ip: hostNetwork ? '' : this.pool.allocate(),
      hostNetwork,
      cgroupParent: config.linux?.cgroupParent ?? '',
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      runtimeHandler,
    });
    this.podIndex(config.metadata.uid).sandboxes.add(id);
    return id;
  }

  /** Stops the sandbox's containers (as if killed) and frees its IP, as a CNI DEL would. */
  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const s = this.sandboxes.get(podSandboxId);
    if (!s) return;
    s.state = 'SANDBOX_NOTREADY';
    for (const c of this.containers.values()) if (c.podSandboxId === podSandboxId && c.state !== 'CONTAINER_EXITED') this.exit(c, 137, 'Error');
    this.releaseIP(s);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const s = this.sandboxes.get(podSandboxId);
    if (!s) return;
    const index = this.podIndex(s.uid);
    for (const id of [...index.containers]) {
      if (this.containers.get(id)?.podSandboxId !== podSandboxId) continue;
      this.containers.delete(id);
      index.containers.delete(id);
    }
    this.releaseIP(s);
    this.sandboxes.delete(podSandboxId);
    index.sandboxes.delete(podSandboxId);
    if (!index.sandboxes.size && !index.containers.size) this.byPod.delete(s.uid);
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatusResponse> {
    const s = this.sandbox(podSandboxId);
    return {
      status: {
        id: s.id,
        metadata: { name: s.name, namespace: s.namespace, uid: s.uid, attempt: s.attempt },
        state: s.state,
        createdAt: s.createdAt,
        network: { ip: s.ip, additionalIps: [] },
        linux: { namespaces: { options: { network: s.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
        labels: { ...s.labels },
        annotations: { ...s.annotations },
        runtimeHandler: s.runtimeHandler,
      },
      info: {},
      containersStatuses: [],
      timestamp: nanos(this.clock.now()),
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const out: PodSandbox[] = [];
    for (const s of this.candidates(this.sandboxes, filter, 'sandboxes')) {
      if ((filter.state && s.state !== filter.state.state) || !labelsMatch(filter.labelSelector, s.labels)) continue;
      out.push({
        id: s.id,
        metadata: { name: s.name, namespace: s.namespace, uid: s.uid, attempt: s.attempt },
        state: s.state,
        createdAt: s.createdAt,
        labels: s.labels,
        annotations: s.annotations,
        runtimeHandler: s.runtimeHandler,
      });
    }
    return out;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, _sandboxConfig?: PodSandboxConfig): Promise<string> {
    const s = this.sandbox(podSandboxId);
    if (s.state !== 'SANDBOX_READY') throw new Error(`rpc error: code = Unknown desc = sandbox "${podSandboxId}" is not ready`);
    const id = this.newId();
    const image = config.image.image;
    this.containers.set(id, {
      id,
      podSandboxId,
      name: config.metadata.name,
      attempt: config.metadata.attempt ?? 0,
      image,
      imageRef: imageID(image),
      state: 'CONTAINER_CREATED',
      createdAt: nanos(this.clock.now()),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      logPath: config.logPath ?? '',
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      resources: config.linux?.resources ?? null,
    });
    this.podIndex(s.uid).containers.add(id);
    return id;
  }

  /** The container "runs" from now on, until stopped (no process: it never exits by itself). */
  async startContainer(containerId: string): Promise<void> {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_CREATED') throw new Error(`rpc error: code = Unknown desc = container "${containerId}" is not in created state`);
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nanos(this.clock.now());
  }

  /** The pretend process exits on SIGTERM at once (exit 0): a graceful stop takes no part of the grace period. */
  async stopContainer(containerId: string, _timeoutSeconds = 0): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c || c.state === 'CONTAINER_EXITED') return;
    if (c.state === 'CONTAINER_RUNNING') this.exit(c, 0, 'Completed');
    else this.exit(c, 0, '');
  }

  async removeContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    this.containers.delete(containerId);
    const uid = this.sandboxes.get(c.podSandboxId)?.uid;
    if (uid !== undefined) this.byPod.get(uid)?.containers.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const out: Container[] = [];
    for (const c of this.candidates(this.containers, filter, 'containers')) {
      if ((filter.podSandboxId && c.podSandboxId !== filter.podSandboxId) || (filter.state && c.state !== filter.state.state)) continue;
      if (!labelsMatch(filter.labelSelector, c.labels)) continue;
      out.push({
        id: c.id,
        podSandboxId: c.podSandboxId,
        metadata: { name: c.name, attempt: c.attempt },
        image: { image: c.image },
        imageRef: c.imageRef,
        state: c.state,
        createdAt: c.createdAt,
        labels: c.labels,
        annotations: c.annotations,
        imageId: c.imageRef,
      });
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatusResponse> {
    const c = this.container(containerId);
    return {
      status: {
        id: c.id,
        metadata: { name: c.name, attempt: c.attempt },
        state: c.state,
        createdAt: c.createdAt,
        startedAt: c.startedAt,
        finishedAt: c.finishedAt,
        exitCode: c.exitCode,
        image: { image: c.image },
        imageRef: c.imageRef,
        reason: c.reason,
        message: '',
        labels: { ...c.labels },
        annotations: { ...c.annotations },
        mounts: [],
        logPath: c.logPath,
        resources: { linux: c.resources },
        imageId: c.imageRef,
      },
      info: {},
    };
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void> {
    this.container(containerId).resources = linux;
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    this.container(containerId);
  }

  /** Every command succeeds with no output (exec probes pass). */
  async execSync(containerId: string, _cmd: string[] = [], _timeoutSeconds = 0): Promise<ExecSyncResponse> {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_RUNNING') throw new Error(`rpc error: code = Unknown desc = container ${containerId} is not running`);
    return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
  }

  async exec(_request: ExecRequest): Promise<string> {
    throw new Error('rpc error: code = Unimplemented desc = a hollow runtime has no streaming server');
  }

  async attach(_request: AttachRequest): Promise<string> {
    throw new Error('rpc error: code = Unimplemented desc = a hollow runtime has no streaming server');
  }

  async portForward(_podSandboxId: string, _ports: number[]): Promise<string> {
    throw new Error('rpc error: code = Unimplemented desc = a hollow runtime has no streaming server');
  }

  async containerStats(_containerId: string): Promise<ContainerStats | null> {
    return null;
  }

  async listContainerStats(_filter?: ContainerStatsFilter): Promise<ContainerStats[]> {
    return [];
  }

  async podSandboxStats(_podSandboxId: string): Promise<PodSandboxStats | null> {
    return null;
  }

  async listPodSandboxStats(_filter?: PodSandboxStatsFilter): Promise<PodSandboxStats[]> {
    return [];
  }

  /** New sandboxes get addresses from the node's pod CIDR (those running keep theirs). */
  async updateRuntimeConfig(podCidr: string): Promise<void> {
    if (podCidr && podCidr !== this.pool.cidr) this.pool = new IPPool(podCidr);
  }

  async status(): Promise<StatusResponse> {
    return {
      status: { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: true, reason: '', message: '' }] },
      info: {},
    };
  }
}

/** Adds the default tag as image references do: `busybox` is `busybox:latest`. */
export function normalizeImage(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}

/** A stable pretend image id for a reference. */
function imageID(ref: string): string {
  const tag = normalizeImage(ref);
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193) >>> 0;
  return `sha256:${h.toString(16).padStart(8, '0').repeat(8)}`;
}

/** Images "pulled" at once, from no registry; the pulled ones are listed (the node's status.images). */
export class HollowImageService implements ImageService {
  readonly images = new Map<string, Image>();

  constructor(opts: { images?: string[]; sizeBytes?: number } = {}) {
    for (const ref of opts.images ?? []) this.add(ref, opts.sizeBytes);
  }

  private add(ref: string, size = 5 * 1024 * 1024): Image {
    const tag = normalizeImage(ref);
    const image: Image = { id: imageID(tag), repoTags: [tag], repoDigests: [], size, uid: null, username: '', spec: { image: tag }, pinned: false };
    this.images.set(tag, image);
    return image;
  }

  async listImages(filter?: ImageSpec): Promise<Image[]> {
    const all = [...this.images.values()];
    return filter?.image ? all.filter((i) => i.repoTags.includes(normalizeImage(filter.image))) : all;
  }

  async imageStatus(image: ImageSpec): Promise<ImageStatusResponse> {
    return { image: this.images.get(normalizeImage(image.image)) ?? null, info: {} };
  }

  async pullImage(image: ImageSpec, _auth?: AuthConfig, _sandboxConfig?: PodSandboxConfig): Promise<string> {
    return (this.images.get(normalizeImage(image.image)) ?? this.add(image.image)).id;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    this.images.delete(normalizeImage(image.image));
  }

  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    return { imageFilesystems: [], containerFilesystems: [] };
  }
}
