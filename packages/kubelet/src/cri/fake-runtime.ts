// Counterpart of k8s.io/cri-api/pkg/apis/testing/fake_runtime_service.go and fake_image_service.go: an
// in-memory RuntimeService and ImageService with a call log, and hooks for tests to make containers exit,
// crash or be OOM-killed, and to make calls fail.
import { realClock, type Clock } from '@kubelab/client';
import type {
  AttachRequest, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter, ContainerStatus, ContainerStatusResponse,
  ExecRequest, ExecSyncResponse, Image, ImageFsInfoResponse, ImageService, ImageSpec, ImageStatusResponse, Labels, LinuxContainerResources,
  PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStats, PodSandboxStatsFilter, PodSandboxStatusResponse, RuntimeService,
  StatusResponse, VersionResponse, AuthConfig,
} from './runtime-service.js';

export interface FakeSandbox {
  id: string;
  config: PodSandboxConfig;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

export interface FakeContainer {
  id: string;
  podSandboxId: string;
  config: ContainerConfig;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  imageRef: string;
}

export interface FakeCall {
  method: string;
  args: unknown[];
}

/** Nanoseconds, as the CRI reports times. */
const nanos = (ms: number) => ms * 1e6;

function labelsMatch(selector: Labels | undefined, labels: Labels | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (!labels || !Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return true;
}

export interface FakeRuntimeOptions {
  clock?: Clock;
  /** The pod IP handed to the n-th sandbox (default 10.244.0.<n+1>). */
  podIP?: (n: number) => string;
}

export class FakeRuntimeService implements RuntimeService {
  readonly calls: FakeCall[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  /** Errors to throw from the next call of a method (consumed once each). */
  private readonly injected = new Map<string, Error[]>();
  /** Exec results by command line (joined with spaces); default exit 0. */
  readonly execResults = new Map<string, ExecSyncResponse>();
  /** Stops waiting `timeoutSeconds` with a grace: records the timeout stopContainer was given. */
  readonly stopTimeouts = new Map<string, number>();
  /** When set, startContainer makes the container exit at once with this code (a crash). */
  readonly exitOnStart = new Map<string, number>();
  private readonly clock: Clock;
  private seq = 0;
  private sandboxCount = 0;

  constructor(private readonly opts: FakeRuntimeOptions = {}) {
    this.clock = opts.clock ?? realClock;
  }

  /** Makes the next call of `method` fail with `err`. */
  injectError(method: keyof RuntimeService, err: Error): void {
    const list = this.injected.get(method) ?? [];
    list.push(err);
    this.injected.set(method, list);
  }

  /** Clears the call log. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Names of the methods called, in order. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  /** Ends a running container as the runtime would see it: exit 0 is Completed, otherwise Error (or OOMKilled). */
  exitContainer(id: string, exitCode: number, reason?: 'Completed' | 'Error' | 'OOMKilled'): void {
    const c = this.mustContainer(id);
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    c.finishedAt = nanos(this.clock.now());
  }

  /** An OOM kill (exit 137, reason OOMKilled). */
  oomKill(id: string): void {
    this.exitContainer(id, 137, 'OOMKilled');
  }

  /** The sandbox's processes died (e.g. the node rebooted): it is NOTREADY. */
  killSandbox(id: string): void {
    this.mustSandbox(id).state = 'SANDBOX_NOTREADY';
  }

  /** Containers whose metadata name is `name` (newest last). */
  containersNamed(name: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.config.metadata.name === name);
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const errs = this.injected.get(method);
    const err = errs?.shift();
    if (err) throw err;
  }

  private mustSandbox(id: string): FakeSandbox {
    const s = this.sandboxes.get(id);
    if (!s) throw new Error(`sandbox "${id}" not found`);
    return s;
  }

  private mustContainer(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container "${id}" not found`);
    return c;
  }

  private newId(): string {
    return (++this.seq).toString(16).padStart(64, '0');
  }

  async version(): Promise<VersionResponse> {
    this.record('version');
    return { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    this.record('runPodSandbox', config, runtimeHandler);
    const id = this.newId();
    const n = this.sandboxCount++;
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const ip = hostNetwork ? '' : (this.opts.podIP?.(n) ?? `10.244.0.${n + 1}`);
    this.sandboxes.set(id, { id, config, state: 'SANDBOX_READY', createdAt: nanos(this.clock.now()), ip, runtimeHandler });
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    this.record('stopPodSandbox', podSandboxId);
    const s = this.sandboxes.get(podSandboxId);
    if (!s) return;
    s.state = 'SANDBOX_NOTREADY';
    for (const c of this.containers.values()) {
      if (c.podSandboxId === podSandboxId && c.state === 'CONTAINER_RUNNING') this.exitContainer(c.id, 137, 'Error');
    }
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    this.record('removePodSandbox', podSandboxId);
    for (const c of [...this.containers.values()]) if (c.podSandboxId === podSandboxId) this.containers.delete(c.id);
    this.sandboxes.delete(podSandboxId);
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatusResponse> {
    this.record('podSandboxStatus', podSandboxId);
    const s = this.mustSandbox(podSandboxId);
    const cfg = s.config;
    return {
      status: {
        id: s.id,
        metadata: { ...cfg.metadata, attempt: cfg.metadata.attempt ?? 0 },
        state: s.state,
        createdAt: s.createdAt,
        network: { ip: s.ip, additionalIps: [] },
        linux: { namespaces: { options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', ...cfg.linux?.securityContext?.namespaceOptions } } },
        labels: { ...cfg.labels },
        annotations: { ...cfg.annotations },
        runtimeHandler: s.runtimeHandler,
      },
      info: {},
      containersStatuses: [],
      timestamp: nanos(this.clock.now()),
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    this.record('listPodSandbox', filter);
    return [...this.sandboxes.values()]
      .filter((s) => (!filter.id || s.id === filter.id) && (!filter.state || s.state === filter.state.state) && labelsMatch(filter.labelSelector, s.config.labels))
      .map((s) => ({
        id: s.id,
        metadata: { ...s.config.metadata, attempt: s.config.metadata.attempt ?? 0 },
        state: s.state,
        createdAt: s.createdAt,
        labels: { ...s.config.labels },
        annotations: { ...s.config.annotations },
        runtimeHandler: s.runtimeHandler,
      }));
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    this.record('createContainer', podSandboxId, config, sandboxConfig);
    const s = this.mustSandbox(podSandboxId);
    if (s.state !== 'SANDBOX_READY') throw new Error(`sandbox "${podSandboxId}" is not ready`);
    const id = this.newId();
    this.containers.set(id, {
      id, podSandboxId, config, state: 'CONTAINER_CREATED', createdAt: nanos(this.clock.now()), startedAt: 0, finishedAt: 0,
      exitCode: 0, reason: '', message: '', imageRef: `sha256:${Buffer.from(config.image.image).toString('hex').padEnd(64, '0').slice(0, 64)}`,
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    this.record('startContainer', containerId);
    const c = this.mustContainer(containerId);
    if (c.state !== 'CONTAINER_CREATED') throw new Error(`container "${containerId}" is not in created state`);
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nanos(this.clock.now());
    const code = this.exitOnStart.get(c.config.metadata.name);
    if (code !== undefined) this.exitContainer(containerId, code);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    this.record('stopContainer', containerId, timeoutSeconds);
    const c = this.containers.get(containerId);
    if (!c) return;
    this.stopTimeouts.set(containerId, timeoutSeconds);
    if (c.state === 'CONTAINER_RUNNING') this.exitContainer(containerId, 137, 'Error');
    else if (c.state === 'CONTAINER_CREATED') {
      c.state = 'CONTAINER_EXITED';
      c.finishedAt = nanos(this.clock.now());
    }
  }

  async removeContainer(containerId: string): Promise<void> {
    this.record('removeContainer', containerId);
    this.containers.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    this.record('listContainers', filter);
    return [...this.containers.values()]
      .filter((c) => (!filter.id || c.id === filter.id) && (!filter.podSandboxId || c.podSandboxId === filter.podSandboxId)
        && (!filter.state || c.state === filter.state.state) && labelsMatch(filter.labelSelector, c.config.labels))
      .map((c) => ({
        id: c.id, podSandboxId: c.podSandboxId, metadata: { name: c.config.metadata.name, attempt: c.config.metadata.attempt ?? 0 },
        image: c.config.image, imageRef: c.imageRef, state: c.state, createdAt: c.createdAt, labels: { ...c.config.labels },
        annotations: { ...c.config.annotations }, imageId: c.imageRef,
      }));
  }

  async containerStatus(containerId: string): Promise<ContainerStatusResponse> {
    this.record('containerStatus', containerId);
    const c = this.mustContainer(containerId);
    const status: ContainerStatus = {
      id: c.id, metadata: { name: c.config.metadata.name, attempt: c.config.metadata.attempt ?? 0 }, state: c.state, createdAt: c.createdAt,
      startedAt: c.startedAt, finishedAt: c.finishedAt, exitCode: c.exitCode, image: c.config.image, imageRef: c.imageRef, reason: c.reason,
      message: c.message, labels: { ...c.config.labels }, annotations: { ...c.config.annotations }, mounts: c.config.mounts ?? [],
      logPath: c.config.logPath ?? '', resources: { linux: c.config.linux?.resources ?? null }, imageId: c.imageRef,
    };
    return { status, info: {} };
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void> {
    this.record('updateContainerResources', containerId, linux);
    const c = this.mustContainer(containerId);
    c.config = { ...c.config, linux: { ...c.config.linux, resources: linux } };
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    this.record('reopenContainerLog', containerId);
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    this.record('execSync', containerId, cmd, timeoutSeconds);
    this.mustContainer(containerId);
    return this.execResults.get(cmd.join(' ')) ?? { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
  }

  async exec(request: ExecRequest): Promise<string> {
    this.record('exec', request);
    return `http://127.0.0.1:10010/exec/${request.containerId}`;
  }

  async attach(request: AttachRequest): Promise<string> {
    this.record('attach', request);
    return `http://127.0.0.1:10010/attach/${request.containerId}`;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    this.record('portForward', podSandboxId, ports);
    return `http://127.0.0.1:10010/portforward/${podSandboxId}`;
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    this.record('containerStats', containerId);
    return null;
  }

  async listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]> {
    this.record('listContainerStats', filter);
    return [];
  }

  async podSandboxStats(podSandboxId: string): Promise<PodSandboxStats | null> {
    this.record('podSandboxStats', podSandboxId);
    return null;
  }

  async listPodSandboxStats(filter?: PodSandboxStatsFilter): Promise<PodSandboxStats[]> {
    this.record('listPodSandboxStats', filter);
    return [];
  }

  async updateRuntimeConfig(podCidr: string): Promise<void> {
    this.record('updateRuntimeConfig', podCidr);
  }

  async status(): Promise<StatusResponse> {
    this.record('status');
    return {
      status: { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: true, reason: '', message: '' }] },
      info: {},
    };
  }
}

/** Adds the default tag as image references do: `busybox` is `busybox:latest`. */
function normalize(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}

export class FakeImageService implements ImageService {
  readonly calls: FakeCall[] = [];
  readonly images = new Map<string, Image>();
  /** Image references whose pull fails (with this error). */
  readonly pullErrors = new Map<string, Error>();
  private readonly injected = new Map<string, Error[]>();

  constructor(opts: { images?: string[] } = {}) {
    for (const ref of opts.images ?? []) this.addImage(ref);
  }

  addImage(ref: string, size = 1024): Image {
    const tag = normalize(ref);
    const id = `sha256:${Buffer.from(tag).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    const image: Image = { id, repoTags: [tag], repoDigests: [], size, uid: null, username: '', spec: { image: tag }, pinned: false };
    this.images.set(tag, image);
    return image;
  }

  injectError(method: keyof ImageService, err: Error): void {
    const list = this.injected.get(method) ?? [];
    list.push(err);
    this.injected.set(method, list);
  }

  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const err = this.injected.get(method)?.shift();
    if (err) throw err;
  }

  async listImages(filter?: ImageSpec): Promise<Image[]> {
    this.record('listImages', filter);
    return [...this.images.values()].filter((i) => !filter?.image || i.repoTags.includes(normalize(filter.image)));
  }

  async imageStatus(image: ImageSpec): Promise<ImageStatusResponse> {
    this.record('imageStatus', image);
    return { image: this.images.get(normalize(image.image)) ?? null, info: {} };
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    this.record('pullImage', image, auth, sandboxConfig);
    const err = this.pullErrors.get(image.image) ?? this.pullErrors.get(normalize(image.image));
    if (err) throw err;
    return (this.images.get(normalize(image.image)) ?? this.addImage(image.image)).id;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    this.record('removeImage', image);
    this.images.delete(normalize(image.image));
  }

  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    this.record('imageFsInfo');
    return { imageFilesystems: [], containerFilesystems: [] };
  }
}
