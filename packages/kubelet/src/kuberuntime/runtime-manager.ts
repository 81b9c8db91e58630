// Counterpart of pkg/kubelet/kuberuntime/kuberuntime_manager.go (SyncPod, KillPod),
// kuberuntime_container.go (startContainer, killContainer, executePreStopHook), pkg/kubelet/images/image_manager.go
// (EnsureImageExists) and pkg/kubelet/lifecycle/handlers.go (exec and httpGet hooks).
import { mkdir } from 'node:fs/promises';
import type { KubeObject } from '@kubelab/api';
import { realClock, type Clock, type EventRecorder } from '@kubelab/client';
import type { Logger } from '@kubelab/component-base';
import type { Container, LifecycleHandler, Pod, Secret } from 'kubernetes-types/core/v1';
import type { AuthConfig, ImageService, PodSandboxConfig, RuntimeService } from '../cri/runtime-service.js';
import type { PodStartupRecorder } from '../pod-startup-tracker.js';
import { ReasonCache } from '../status/reason-cache.js';
import { Backoff } from './backoff.js';
import { generateContainerConfig } from './container-config.js';
import type { EnvSources } from './env.js';
import {
  computePodActions, CONTAINER_BACKOFF_INITIAL_MS, CONTAINER_BACKOFF_MAX_MS, doBackOff, formatDuration, formatPod, type ContainerKillReason,
  type ContainerProbeResults, type PodActions,
} from './pod-actions.js';
import { findContainerStatus, getPodStatus, type RuntimePodStatus } from './runtime-pod-status.js';
import { generatePodSandboxConfig, type DNSOptions } from './sandbox-config.js';

/** The part of @kubelab/client's EventRecorder the kubelet uses. */
/** What the runtime manager and the prober record with: the client's EventRecorder (a ComponentEventRecorder in the kubelet). */
export type PodEventRecorder = Pick<EventRecorder, 'event'>;

/** Runs an httpGet hook; resolves to the HTTP status code. */
export type HTTPGetter = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<number>;

/** Waiting reasons of a container that failed to start (upstream kubecontainer errors). */
export const ErrImagePull = 'ErrImagePull';
export const ErrImagePullBackOff = 'ImagePullBackOff';
export const ErrImageNeverPull = 'ErrImageNeverPull';
export const ErrCrashLoopBackOff = 'CrashLoopBackOff';
export const ErrCreateContainerConfig = 'CreateContainerConfigError';
export const ErrCreateContainer = 'CreateContainerError';
export const ErrRunContainer = 'RunContainerError';
export const ErrPostStartHook = 'PostStartHookError';
export const ErrInvalidImageName = 'InvalidImageName';

/** Upstream's minimumGracePeriodInSeconds. */
const MINIMUM_GRACE_PERIOD_SECONDS = 2;
const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

export interface RuntimeManagerOptions {
  runtime: RuntimeService;
  images: ImageService;
  recorder: PodEventRecorder;
  envSources: EnvSources;
  dns: DNSOptions;
  nodeName: string;
  hostIPs: string[];
  /** The node's memory capacity in bytes. */
  memoryCapacity: number;
  /** Node allocatable, for resourceFieldRef limits a container leaves unset. */
  nodeAllocatable?: Record<string, string>;
  /** The pod's cgroup parent (e.g. /kubepods/burstable/pod<uid>). */
  cgroupParent?: (pod: Pod) => string | undefined;
  /** Where pod log directories go (default /var/log/pods, as upstream's podLogsDir). */
  podLogsRootDirectory?: string;
  /** Volume name -> host path of the pod's mounted volumes (from the volume manager). */
  volumePaths?: (pod: Pod) => ReadonlyMap<string, string>;
  reasonCache?: ReasonCache;
  /** The prober's liveness and startup results: a container that failed one is killed and restarted. */
  probeResults?: ContainerProbeResults;
  httpGet?: HTTPGetter;
  /** Creates the pod and container log directories (default: mkdir -p with mode 0755). */
  mkdirAll?: (path: string) => Promise<void>;
  /** Records the steps of each pod's first start (the pod startup latency tracker). */
  startup?: PodStartupRecorder;
  clock?: Clock;
  logger?: Logger;
}

export interface PodSyncResult {
  /** Containers that failed to start, with their waiting reason and message. */
  errors: Map<string, { reason: string; message: string }>;
  /** Containers started by this sync. */
  started: string[];
  /** Why the sandbox could not be created (FailedCreatePodSandBox). */
  sandboxError?: string;
  actions: PodActions;
}

const defaultHTTPGet: HTTPGetter = async (url, headers, timeoutMs) => {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status;
};

/** `busybox` -> `busybox:latest`; references with a tag or digest are kept. */
export function applyDefaultImageTag(image: string): string {
  if (image.includes('@')) return image;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') ? image : `${image}:latest`;
}

/** spec.imagePullPolicy, defaulted as the API does: Always for `:latest` or no tag, else IfNotPresent. */
export function pullPolicy(container: Container): string {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  return applyDefaultImageTag(image).endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

function registryOf(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** Credentials for the image's registry from the pod's pull secrets (.dockerconfigjson or .dockercfg). */
export function authForImage(image: string, pullSecrets: Secret[]): AuthConfig | undefined {
  const registry = registryOf(image);
  const aliases = registry === 'docker.io' ? ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io'] : [registry];
  for (const s of pullSecrets) {
    const raw = s.data?.['.dockerconfigjson'] ?? s.data?.['.dockercfg'];
    if (!raw) continue;
    let parsed: { auths?: Record<string, AuthConfig & { auth?: string }> } & Record<string, unknown>;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString());
    } catch {
      continue;
    }
    const auths = (parsed.auths ?? parsed) as Record<string, AuthConfig & { auth?: string }>;
    for (const [host, entry] of Object.entries(auths)) {
      const h = host.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      if (!aliases.includes(host) && !aliases.includes(h)) continue;
      const auth: AuthConfig = { serverAddress: host };
      if (entry.username) auth.username = entry.username;
      if (entry.password) auth.password = entry.password;
      if (entry.auth) {
        auth.auth = entry.auth;
        const [u, ...p] = Buffer.from(entry.auth, 'base64').toString().split(':');
        auth.username ??= u;
        auth.password ??= p.join(':');
      }
      return auth;
    }
  }
  return undefined;
}

class StartError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** The pod's grace period: deletionGracePeriodSeconds while it is deleted, else spec.terminationGracePeriodSeconds (30). */
export function podGracePeriodSeconds(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
}

export class KubeGenericRuntimeManager {
  readonly reasonCache: ReasonCache;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly imageBackoff: Backoff;
  private readonly httpGet: HTTPGetter;
  private readonly mkdirAll: (path: string) => Promise<void>;

  constructor(private readonly opts: RuntimeManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.reasonCache = opts.reasonCache ?? new ReasonCache();
    this.backoff = new Backoff({ clock: this.clock, initialMs: CONTAINER_BACKOFF_INITIAL_MS, maxMs: CONTAINER_BACKOFF_MAX_MS });
    this.imageBackoff = new Backoff({ clock: this.clock, initialMs: CONTAINER_BACKOFF_INITIAL_MS, maxMs: CONTAINER_BACKOFF_MAX_MS });
    this.httpGet = opts.httpGet ?? defaultHTTPGet;
    this.mkdirAll = opts.mkdirAll ?? (async (path) => void (await mkdir(path, { recursive: true, mode: 0o755 })));
  }

  getPodStatus(pod: Pod): Promise<RuntimePodStatus> {
    return getPodStatus(this.opts.runtime, pod.metadata?.uid ?? '', pod.metadata?.name ?? '', pod.metadata?.namespace ?? '');
  }

  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.recorder.event(pod as KubeObject, type, reason, message);
  }

  private sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    return generatePodSandboxConfig(pod, {
      ...this.opts.dns,
      attempt,
      cgroupParent: this.opts.cgroupParent?.(pod),
      podLogsRootDirectory: this.opts.podLogsRootDirectory,
    });
  }

  /**
   * Brings the pod's sandbox and containers to its spec: kill what must go, then start what must run.
   * `volumesReady`: containers start only once it resolves (the sandbox need not wait for the volumes); a
   * rejection ends the sync with that error.
   */
  async syncPod(pod: Pod, status: RuntimePodStatus, pullSecrets: Secret[] = [], volumesReady?: Promise<unknown>): Promise<PodSyncResult> {
    const actions = computePodActions(pod, status, this.opts.probeResults);
    const result: PodSyncResult = { errors: new Map(), started: [], actions };
    const log = this.opts.logger?.child({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
    log?.debug({ actions: { ...actions, containersToKill: [...actions.containersToKill.keys()] } }, 'computePodActions got actions');

    if (actions.killPod) {
      await this.killPod(pod, status);
      if (!actions.createSandbox) return result;
      // A new sandbox runs the init containers again: forget the old runs.
      await this.purgeInitContainers(pod, status);
    } else {
      for (const [id, k] of actions.containersToKill) await this.killContainer(pod, id, k.container, k.message, undefined, k.reason);
      for (const [id, k] of actions.initContainersToKill ?? []) await this.killContainer(pod, id, k.container, k.message);
    }

    await this.pruneDeadContainers(status);
    let sandboxID = actions.sandboxID;
    let podIPs = status.ips;
    if (actions.createSandbox) {
      const config = this.sandboxConfig(pod, actions.attempt);
      try {
        await this.mkdirAll(config.logDirectory!);
        sandboxID = await this.opts.runtime.runPodSandbox(config);
        this.opts.startup?.step(pod.metadata?.uid ?? '', 'sandboxCreated');
      } catch (err) {
        this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
        log?.error({ err: (err as Error).message }, 'Failed to create sandbox for pod');
        result.sandboxError = (err as Error).message;
        return result;
      }
      const sandbox = await this.opts.runtime.podSandboxStatus(sandboxID);
      const net = sandbox.status?.network;
      podIPs = net?.ip ? [net.ip, ...net.additionalIps.map((a) => a.ip)] : [];
    }
    // A host-network pod has the node's IPs.
    if (pod.spec?.hostNetwork) podIPs = this.opts.hostIPs;
    const sandboxConfig = this.sandboxConfig(pod, actions.attempt);

    const start = async (container: Container): Promise<boolean> => {
      const uid = pod.metadata?.uid ?? '';
      const backoffMessage = doBackOff(pod, container, status, this.backoff);
      if (backoffMessage) {
        this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${formatPod(pod)}`);
        result.errors.set(container.name, { reason: ErrCrashLoopBackOff, message: backoffMessage });
        this.reasonCache.add(uid, container.name, ErrCrashLoopBackOff, backoffMessage);
        return false;
      }
      try {
        await this.startContainer(pod, container, status, sandboxID, sandboxConfig, podIPs, pullSecrets);
        this.reasonCache.remove(uid, container.name);
        result.started.push(container.name);
        return true;
      } catch (err) {
        const reason = err instanceof StartError ? err.reason : ErrRunContainer;
        result.errors.set(container.name, { reason, message: (err as Error).message });
        this.reasonCache.add(uid, container.name, reason, (err as Error).message);
        log?.info({ container: container.name, reason, err: (err as Error).message }, 'Failed to start container');
        return false;
      }
    };

    await volumesReady;
    if (actions.nextInitContainerToStart) {
      await start(actions.nextInitContainerToStart);
      return result;
    }
    const containers = pod.spec?.containers ?? [];
    for (const i of actions.containersToStart) await start(containers[i]!);
    return result;
  }

  /** Pulls per imagePullPolicy, resolving to the image reference (EnsureImageExists). */
  async ensureImageExists(pod: Pod, container: Container, pullSecrets: Secret[], sandboxConfig: PodSandboxConfig): Promise<string> {
    const userImage = container.image ?? '';
    if (!userImage) throw new StartError(ErrInvalidImageName, `Failed to apply default image tag "${userImage}": couldn't parse image name "${userImage}"`);
    const image = applyDefaultImageTag(userImage);
    const present = (await this.opts.images.imageStatus({ image })).image;
    const policy = pullPolicy(container);
    const shouldPull = policy === 'Always' || (policy === 'IfNotPresent' && !present);
    if (!shouldPull) {
      if (present) {
        this.opts.startup?.step(pod.metadata?.uid ?? '', 'imageReady');
        this.event(pod, 'Normal', 'Pulled', `Container image "${userImage}" already present on machine`);
        return present.id;
      }
      const msg = `Container image "${userImage}" is not present with pull policy of Never`;
      this.event(pod, 'Warning', ErrImageNeverPull, msg);
      throw new StartError(ErrImageNeverPull, msg);
    }
    const key = `${pod.metadata?.uid}_${userImage}`;
    const now = this.clock.now();
    if (this.imageBackoff.isInBackOffSinceUpdate(key, now)) {
      const msg = `Back-off pulling image "${userImage}"`;
      this.event(pod, 'Normal', 'BackOff', msg);
      throw new StartError(ErrImagePullBackOff, msg);
    }
    this.event(pod, 'Normal', 'Pulling', `Pulling image "${userImage}"`);
    const began = this.clock.now();
    this.opts.startup?.startedPulling(pod.metadata?.uid ?? '');
    try {
      const ref = await this.opts.images.pullImage({ image, userSpecifiedImage: userImage }, authForImage(image, pullSecrets), sandboxConfig);
      this.opts.startup?.finishedPulling(pod.metadata?.uid ?? '');
      this.opts.startup?.step(pod.metadata?.uid ?? '', 'imageReady');
      const took = formatDuration(this.clock.now() - began);
      const size = (await this.opts.images.imageStatus({ image })).image?.size ?? 0;
      this.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${userImage}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
      this.imageBackoff.gc();
      return ref;
    } catch (err) {
      if (err instanceof StartError) throw err;
      this.event(pod, 'Warning', 'Failed', `Failed to pull image "${userImage}": ${(err as Error).message}`);
      this.imageBackoff.next(key, this.clock.now());
      throw new StartError(ErrImagePull, (err as Error).message);
    }
  }

  private async startContainer(
    pod: Pod, container: Container, status: RuntimePodStatus, sandboxID: string, sandboxConfig: PodSandboxConfig, podIPs: string[], pullSecrets: Secret[],
  ): Promise<void> {
    let imageRef: string;
    try {
      imageRef = await this.ensureImageExists(pod, container, pullSecrets, sandboxConfig);
    } catch (err) {
      this.event(pod, 'Warning', 'Failed', `Error: ${(err as StartError).reason ?? (err as Error).message}`);
      throw err;
    }
    const previous = findContainerStatus(status, container.name);
    const restartCount = previous ? previous.restartCount + 1 : 0;
    let config;
    try {
      config = await generateContainerConfig(pod, container, {
        restartCount,
        volumePaths: this.opts.volumePaths?.(pod) ?? new Map(),
        envSources: this.opts.envSources,
        runtime: { nodeName: this.opts.nodeName, hostIPs: this.opts.hostIPs, podIPs, nodeAllocatable: this.opts.nodeAllocatable },
        memoryCapacity: this.opts.memoryCapacity,
        imageRef,
      });
      config.image.userSpecifiedImage = container.image ?? '';
    } catch (err) {
      this.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      throw new StartError(ErrCreateContainerConfig, (err as Error).message);
    }
    let id: string;
    try {
      await this.mkdirAll(`${sandboxConfig.logDirectory}/${container.name}`);
      id = await this.opts.runtime.createContainer(sandboxID, config, sandboxConfig);
    } catch (err) {
      this.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      throw new StartError(ErrCreateContainer, (err as Error).message);
    }
    this.opts.startup?.step(pod.metadata?.uid ?? '', 'containerCreated');
    this.event(pod, 'Normal', 'Created', `Created container ${container.name}`);
    try {
      await this.opts.runtime.startContainer(id);
    } catch (err) {
      this.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      throw new StartError(ErrRunContainer, (err as Error).message);
    }
    this.opts.startup?.step(pod.metadata?.uid ?? '', 'containerStarted');
    this.event(pod, 'Normal', 'Started', `Started container ${container.name}`);

    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      try {
        await this.runHook(pod, id, postStart, podIPs, podGracePeriodSeconds(pod));
      } catch (err) {
        this.event(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        await this.killContainer(pod, id, container, 'FailedPostStartHook');
        throw new StartError(ErrPostStartHook, (err as Error).message);
      }
    }
  }

  /** Runs an exec or httpGet lifecycle handler; throws when it fails. */
  private async runHook(pod: Pod, containerId: string, handler: LifecycleHandler, podIPs: string[], timeoutSeconds: number): Promise<void> {
    if (handler.exec) {
      const res = await this.opts.runtime.execSync(containerId, handler.exec.command ?? [], timeoutSeconds);
      if (res.exitCode !== 0) {
        const cmd = handler.exec.command ?? [];
        const output = `${res.stdout.toString()}${res.stderr.toString()}`;
        throw new Error(
          `Exec lifecycle hook (${JSON.stringify(cmd)}) for Container in Pod "${formatPod(pod)}" failed - error: command '${cmd.join(' ')}' exited with ${res.exitCode}: ${output}`,
        );
      }
      return;
    }
    if (handler.httpGet) {
      const g = handler.httpGet;
      const host = g.host || podIPs[0] || '127.0.0.1';
      const port = typeof g.port === 'number' ? g.port : Number(g.port);
      const scheme = (g.scheme ?? 'HTTP').toLowerCase();
      const path = g.path ? (g.path.startsWith('/') ? g.path : `/${g.path}`) : '/';
      const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const code = await this.httpGet(url, headers, timeoutSeconds * 1000);
      if (code < 200 || code >= 400) throw new Error(`HTTP lifecycle hook (${path}) for Container in Pod "${formatPod(pod)}" failed - error: HTTP ${code}`);
      return;
    }
    if (handler.sleep) {
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, handler.sleep!.seconds * 1000));
    }
  }

  /** Stops a container: event Killing, the preStop hook within the grace period, then StopContainer with what remains (at least 2 s). */
  async killContainer(
    pod: Pod, containerId: string, container: Container | undefined, message: string, gracePeriodOverride?: number, reason?: ContainerKillReason,
  ): Promise<void> {
    let grace = podGracePeriodSeconds(pod);
    // A container killed for its probe gets the probe's terminationGracePeriodSeconds, when set (upstream setTerminationGracePeriod).
    const probe = reason === 'LivenessProbe' ? container?.livenessProbe : reason === 'StartupProbe' ? container?.startupProbe : undefined;
    if (pod.metadata?.deletionGracePeriodSeconds === undefined && probe?.terminationGracePeriodSeconds !== undefined) grace = probe.terminationGracePeriodSeconds;
    this.event(pod, 'Normal', 'Killing', message || `Stopping container ${container?.name}`);
    const preStop = container?.lifecycle?.preStop;
    if (preStop && grace > 0) {
      const began = this.clock.now();
      try {
        const status = await this.getPodStatus(pod);
        await this.runHook(pod, containerId, preStop, status.ips, grace);
      } catch (err) {
        this.event(pod, 'Warning', 'FailedPreStopHook', (err as Error).message);
        this.opts.logger?.info({ container: container?.name, err: (err as Error).message }, 'PreStop hook failed');
      }
      grace -= Math.floor((this.clock.now() - began) / 1000);
    }
    if (grace < MINIMUM_GRACE_PERIOD_SECONDS) grace = MINIMUM_GRACE_PERIOD_SECONDS;
    if (gracePeriodOverride !== undefined) grace = gracePeriodOverride;
    await this.opts.runtime.stopContainer(containerId, grace);
  }

  /** Stops every running container (in parallel), then every sandbox of the pod. */
  async killPod(pod: Pod, status: RuntimePodStatus, gracePeriodOverride?: number): Promise<void> {
    const specs = new Map([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]));
    const running = status.containerStatuses.filter((c) => c.state === 'running' || c.state === 'unknown');
    await Promise.all(
      running.map((c) => this.killContainer(pod, c.id, specs.get(c.name) ?? { name: c.name }, `Stopping container ${c.name}`, gracePeriodOverride)),
    );
    for (const s of status.sandboxStatuses) if (s.state === 'SANDBOX_READY') await this.opts.runtime.stopPodSandbox(s.id);
  }

  /** Removes every instance of the pod's init containers (upstream purgeInitContainers). */
  private async purgeInitContainers(pod: Pod, status: RuntimePodStatus): Promise<void> {
    const names = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
    for (const c of status.containerStatuses) if (names.has(c.name)) await this.removeContainer(c.id);
  }

  /**
   * Keeps one exited instance per container name (upstream's container GC with MaxPerPodContainer 1,
   * done at sync time): older runs of a crash-looping container are removed.
   */
  private async pruneDeadContainers(status: RuntimePodStatus): Promise<void> {
    const seen = new Set<string>();
    for (const c of status.containerStatuses) {
      if (c.state !== 'exited') continue;
      if (seen.has(c.name)) await this.removeContainer(c.id);
      else seen.add(c.name);
    }
  }

  private async removeContainer(id: string): Promise<void> {
    try {
      await this.opts.runtime.removeContainer(id);
    } catch (err) {
      this.opts.logger?.warn({ containerID: id, err: (err as Error).message }, 'Failed to remove container');
    }
  }

  /** Removes the pod's containers and sandboxes (a terminated pod, upstream's pod cleanup). */
  async removePod(pod: Pod, status: RuntimePodStatus): Promise<void> {
    for (const s of status.sandboxStatuses) {
      await this.opts.runtime.stopPodSandbox(s.id);
      await this.opts.runtime.removePodSandbox(s.id);
    }
    this.reasonCache.removePod(pod.metadata?.uid ?? '');
  }
}
