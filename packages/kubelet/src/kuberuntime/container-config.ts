// Counterpart of pkg/kubelet/kuberuntime/kuberuntime_container.go (generateContainerConfig),
// kuberuntime_container_linux.go (generateLinuxContainerResources), labels.go and
// pkg/kubelet/kubelet_pods.go (makeMounts).
import { Quantity } from '@kubelab/api';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { ContainerConfig, LinuxContainerResources, Mount } from '../cri/runtime-service.js';
import { expandCommandAndArgs, expand, makeEnvironmentVariables, mappingFor, ContainerConfigError, type EnvSources, type PodRuntimeValues } from './env.js';
import { containerOOMScoreAdjust } from './qos.js';
import { POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, podNamespaceOptions } from './sandbox-config.js';

export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';
export const CONTAINER_RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
export const CONTAINER_PRESTOP_HANDLER_ANNOTATION = 'io.kubernetes.container.preStopHandler';
export const CONTAINER_PORTS_ANNOTATION = 'io.kubernetes.container.ports';
export const POD_TERMINATION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';

/** Upstream's MinShares, MaxShares, QuotaPeriod and MinQuotaPeriod. */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const QUOTA_PERIOD = 100000;
export const MIN_QUOTA_PERIOD = 1000;

/** cpu.shares for a cpu request in millicores: milliCPU * 1024 / 1000, at least 2. */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.trunc((milliCPU * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** The CFS quota for a cpu limit: milliCPU * period / 1000, at least 1000 µs; 0 (no quota) without a limit. */
export function milliCPUToQuota(milliCPU: number, period: number): number {
  if (milliCPU === 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD, Math.trunc((milliCPU * period) / 1000));
}

/** FNV-1a 32-bit over the container spec without its resources (upstream HashContainer), as hex. */
export function hashContainer(container: Container): string {
  const { resources: _ignored, ...rest } = container;
  const text = JSON.stringify(rest);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

function milli(v: string | undefined): number {
  return v === undefined ? 0 : Number(Quantity.parse(v).milliValue());
}

function bytes(v: string | undefined): number {
  return v === undefined ? 0 : Number(Quantity.parse(v).value());
}

/** Requests and limits -> CRI Linux resources (a cpu request defaults to the cpu limit). */
export function linuxContainerResources(pod: Pod, container: Container, memoryCapacity: number): LinuxContainerResources {
  const cpuLimit = milli(container.resources?.limits?.cpu);
  let cpuRequest = milli(container.resources?.requests?.cpu);
  if (cpuRequest === 0 && cpuLimit !== 0) cpuRequest = cpuLimit;
  const r: LinuxContainerResources = {
    cpuShares: milliCPUToShares(cpuRequest),
    cpuPeriod: QUOTA_PERIOD,
    cpuQuota: milliCPUToQuota(cpuLimit, QUOTA_PERIOD),
    oomScoreAdj: containerOOMScoreAdjust(pod, container, memoryCapacity),
  };
  const memoryLimit = bytes(container.resources?.limits?.memory);
  if (memoryLimit) r.memoryLimitInBytes = memoryLimit;
  return r;
}

/** Labels of a container: its name and its pod's name, namespace and uid. */
export function containerLabels(pod: Pod, container: Container): Record<string, string> {
  return {
    [POD_NAME_LABEL]: pod.metadata?.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? '',
    [POD_UID_LABEL]: pod.metadata?.uid ?? '',
    [CONTAINER_NAME_LABEL]: container.name,
  };
}

/** Annotations of a container: what the kubelet needs to know about it after a restart. */
export function containerAnnotations(pod: Pod, container: Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    ...pod.metadata?.annotations,
    [CONTAINER_HASH_ANNOTATION]: hashContainer(container),
    [CONTAINER_RESTART_COUNT_ANNOTATION]: String(restartCount),
    [CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION]: container.terminationMessagePath ?? '/dev/termination-log',
    [CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? 'File',
  };
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) a[POD_TERMINATION_GRACE_PERIOD_ANNOTATION] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.lifecycle?.preStop) a[CONTAINER_PRESTOP_HANDLER_ANNOTATION] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) a[CONTAINER_PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return a;
}

/** The container's mounts from the pod's mounted volumes (volume name -> host path); subPath(Expr) below it. */
export function makeMounts(container: Container, volumePaths: ReadonlyMap<string, string>, envs: { name: string; value: string }[]): Mount[] {
  const env = new Map(envs.map((e) => [e.name, e.value]));
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const base = volumePaths.get(vm.name);
    if (base === undefined) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    let sub = vm.subPath ?? '';
    if (vm.subPathExpr) sub = expand(vm.subPathExpr, mappingFor(env));
    if (sub.startsWith('/') || sub.split('/').includes('..')) {
      throw new ContainerConfigError(`unable to provision SubPath \`${sub}\`: must be a relative path without '..'`);
    }
    const propagation = vm.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL'
      : vm.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE';
    mounts.push({
      containerPath: vm.mountPath,
      hostPath: sub ? `${base.replace(/\/$/, '')}/${sub}` : base,
      readonly: vm.readOnly ?? false,
      propagation,
    });
  }
  return mounts;
}

export interface ContainerConfigOptions {
  restartCount: number;
  /** Volume name -> host path of the pod's mounted volumes (from the volume manager). */
  volumePaths: ReadonlyMap<string, string>;
  envSources: EnvSources;
  runtime: PodRuntimeValues;
  /** The node's memory capacity in bytes (for Burstable oom_score_adj). */
  memoryCapacity: number;
  /** Image reference to run (the pulled image's id or the spec's image). */
  imageRef?: string;
}

/** Container -> ContainerConfig. Throws ContainerConfigError when its environment or mounts cannot be built. */
export async function generateContainerConfig(pod: Pod, container: Container, opts: ContainerConfigOptions): Promise<ContainerConfig> {
  const envs = await makeEnvironmentVariables(pod, container, opts.envSources, opts.runtime);
  const { command, args } = expandCommandAndArgs(container, envs);
  const config: ContainerConfig = {
    metadata: { name: container.name, attempt: opts.restartCount },
    image: { image: opts.imageRef ?? container.image ?? '', userSpecifiedImage: container.image ?? '' },
    command,
    args,
    envs: envs.map((e) => ({ key: e.name, value: e.value })),
    mounts: makeMounts(container, opts.volumePaths, envs),
    labels: containerLabels(pod, container),
    annotations: containerAnnotations(pod, container, opts.restartCount),
    logPath: `${container.name}/${opts.restartCount}.log`,
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: {
      resources: linuxContainerResources(pod, container, opts.memoryCapacity),
      securityContext: containerSecurityContext(pod, container),
    },
  };
  if (container.workingDir) config.workingDir = container.workingDir;
  return config;
}

function containerSecurityContext(pod: Pod, container: Container): NonNullable<NonNullable<ContainerConfig['linux']>['securityContext']> {
  const psc = pod.spec?.securityContext;
  const sc = container.securityContext;
  const out: NonNullable<NonNullable<ContainerConfig['linux']>['securityContext']> = {
    namespaceOptions: podNamespaceOptions(pod),
  };
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) out.runAsUser = { value: runAsUser };
  const runAsGroup = sc?.runAsGroup ?? psc?.runAsGroup;
  if (runAsGroup !== undefined) out.runAsGroup = { value: runAsGroup };
  const groups = [...(psc?.supplementalGroups ?? [])];
  if (psc?.fsGroup !== undefined) groups.push(psc.fsGroup);
  if (groups.length) out.supplementalGroups = groups;
  if (sc?.privileged) out.privileged = true;
  if (sc?.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (sc?.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  if (sc?.capabilities) out.capabilities = { addCapabilities: sc.capabilities.add ?? [], dropCapabilities: sc.capabilities.drop ?? [] };
  return out;
}
