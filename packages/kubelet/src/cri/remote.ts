// Counterpart of k8s.io/cri-client/pkg/remote_runtime.go and remote_image.go: the CRI RuntimeService
// and ImageService over gRPC to a runtime's unix socket (containerd's CRI plugin), each call with a deadline.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type {
  AttachRequest,
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatsFilter,
  ContainerStatusResponse,
  ExecRequest,
  ExecSyncResponse,
  Image,
  ImageFsInfoResponse,
  ImageService,
  ImageSpec,
  ImageStatusResponse,
  LinuxContainerResources,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStats,
  PodSandboxStatsFilter,
  PodSandboxStatusResponse,
  RuntimeService,
  StatusResponse,
  VersionResponse,
} from './runtime-service.js';

const PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));
/** The CRI API version this client speaks. */
export const CRI_API_VERSION = 'v1';
/** Upstream's maxMsgSize for CRI responses (16 MiB). */
const MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

type Callback = (err: grpc.ServiceError | null, res: unknown) => void;
type UnaryMethod = (req: object, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

let services: { runtime: grpc.ServiceClientConstructor; image: grpc.ServiceClientConstructor } | undefined;

function loadServices(): NonNullable<typeof services> {
  if (!services) {
    const definition = protoLoader.loadSync(PROTO_PATH, {
      keepCase: false,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
    });
    const v1 = (grpc.loadPackageDefinition(definition).runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    services = {
      runtime: v1.RuntimeService as grpc.ServiceClientConstructor,
      image: v1.ImageService as grpc.ServiceClientConstructor,
    };
  }
  return services;
}

/** A failed CRI call: the gRPC status of the runtime's answer (NOT_FOUND, DEADLINE_EXCEEDED, ...). */
export class CriError extends Error {
  readonly method: string;
  readonly code: grpc.status;
  readonly details: string;

  constructor(method: string, code: grpc.status, details: string) {
    super(`${method}: ${grpc.status[code] ?? code}: ${details}`);
    this.name = 'CriError';
    this.method = method;
    this.code = code;
    this.details = details;
  }
}

export function isCriNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === grpc.status.NOT_FOUND;
}

export interface RemoteRuntimeOptions {
  /** The runtime's socket: a path (/run/containerd/containerd.sock) or a target (unix:///run/...). */
  endpoint: string;
  /** Deadline of each call (upstream's --runtime-request-timeout, 2m). */
  timeoutMs?: number;
  /** Deadline of PullImage (default 10m). */
  pullTimeoutMs?: number;
}

/** gRPC target for a CRI endpoint as the kubelet's --container-runtime-endpoint accepts it. */
export function criTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return `unix://${endpoint.slice('unix://'.length).replace(/^\/*/, '/')}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  return endpoint;
}

/** RuntimeService and ImageService over one gRPC channel. */
export class RemoteRuntime implements RuntimeService, ImageService {
  private readonly runtimeClient: grpc.Client;
  private readonly imageClient: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(options: RemoteRuntimeOptions) {
    const { runtime, image } = loadServices();
    const target = criTarget(options.endpoint);
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_SIZE,
      'grpc.max_send_message_length': MAX_MESSAGE_SIZE,
    };
    this.runtimeClient = new runtime(target, grpc.credentials.createInsecure(), channelOptions);
    this.imageClient = new image(target, grpc.credentials.createInsecure(), {
      ...channelOptions,
      channelOverride: this.runtimeClient.getChannel(),
    });
    this.timeoutMs = options.timeoutMs ?? 2 * 60_000;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 10 * 60_000;
  }

  close(): void {
    this.imageClient.close();
    this.runtimeClient.close();
  }

  /** One unary call; timeoutMs null means no deadline. */
  private call<T>(client: grpc.Client, method: string, request: object, timeoutMs: number | null): Promise<T> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    const options: grpc.CallOptions = timeoutMs === null ? {} : { deadline: Date.now() + timeoutMs };
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), options, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message));
        else resolve(res as T);
      });
    });
  }

  private runtime<T>(method: string, request: object, timeoutMs: number | null = this.timeoutMs): Promise<T> {
    return this.call<T>(this.runtimeClient, method, request, timeoutMs);
  }

  private image<T>(method: string, request: object, timeoutMs: number | null = this.timeoutMs): Promise<T> {
    return this.call<T>(this.imageClient, method, request, timeoutMs);
  }

  // ---- RuntimeService

  version(apiVersion = CRI_API_VERSION): Promise<VersionResponse> {
    return this.runtime('Version', { version: apiVersion });
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const res = await this.runtime<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler });
    if (!res.podSandboxId) throw new CriError('RunPodSandbox', grpc.status.UNKNOWN, `no sandbox id for ${config.metadata.name}`);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.runtime('StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.runtime('RemovePodSandbox', { podSandboxId });
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.runtime('PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return (await this.runtime<{ items: PodSandbox[] }>('ListPodSandbox', { filter })).items;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const res = await this.runtime<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    if (!res.containerId) throw new CriError('CreateContainer', grpc.status.UNKNOWN, `no container id for ${config.metadata.name}`);
    return res.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.runtime('StartContainer', { containerId });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    // The runtime waits up to timeoutSeconds before killing: the call's deadline covers that too.
    await this.runtime('StopContainer', { containerId, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.runtime('RemoveContainer', { containerId });
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return (await this.runtime<{ containers: Container[] }>('ListContainers', { filter })).containers;
  }

  containerStatus(containerId: string, verbose = false): Promise<ContainerStatusResponse> {
    return this.runtime('ContainerStatus', { containerId, verbose });
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void> {
    await this.runtime('UpdateContainerResources', { containerId, linux });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.runtime('ReopenContainerLog', { containerId });
  }

  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    // As upstream: the command's own timeout plus the request timeout; none when the command has none.
    const deadline = timeoutSeconds > 0 ? this.timeoutMs + timeoutSeconds * 1000 : null;
    return this.runtime('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, deadline);
  }

  async exec(request: ExecRequest): Promise<string> {
    return (await this.runtime<{ url: string }>('Exec', request)).url;
  }

  async attach(request: AttachRequest): Promise<string> {
    return (await this.runtime<{ url: string }>('Attach', request)).url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.runtime<{ url: string }>('PortForward', { podSandboxId, port: ports })).url;
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    return (await this.runtime<{ stats: ContainerStats | null }>('ContainerStats', { containerId })).stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]> {
    return (await this.runtime<{ stats: ContainerStats[] }>('ListContainerStats', { filter })).stats;
  }

  async podSandboxStats(podSandboxId: string): Promise<PodSandboxStats | null> {
    return (await this.runtime<{ stats: PodSandboxStats | null }>('PodSandboxStats', { podSandboxId })).stats;
  }

  async listPodSandboxStats(filter?: PodSandboxStatsFilter): Promise<PodSandboxStats[]> {
    return (await this.runtime<{ stats: PodSandboxStats[] }>('ListPodSandboxStats', { filter })).stats;
  }

  async updateRuntimeConfig(podCidr: string): Promise<void> {
    await this.runtime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } });
  }

  status(verbose = false): Promise<StatusResponse> {
    return this.runtime('Status', { verbose });
  }

  // ---- ImageService

  async listImages(filter?: ImageSpec): Promise<Image[]> {
    return (await this.image<{ images: Image[] }>('ListImages', { filter: filter ? { image: filter } : undefined })).images;
  }

  imageStatus(image: ImageSpec, verbose = false): Promise<ImageStatusResponse> {
    return this.image('ImageStatus', { image, verbose });
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const res = await this.image<{ imageRef: string }>('PullImage', { image, auth, sandboxConfig }, this.pullTimeoutMs);
    if (!res.imageRef) throw new CriError('PullImage', grpc.status.UNKNOWN, `no image reference for ${image.image}`);
    return res.imageRef;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await this.image('RemoveImage', { image });
  }

  imageFsInfo(): Promise<ImageFsInfoResponse> {
    return this.image('ImageFsInfo', {});
  }
}
