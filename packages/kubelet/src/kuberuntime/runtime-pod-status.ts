// Counterpart of pkg/kubelet/container/runtime.go (PodStatus, Status) and
// pkg/kubelet/kuberuntime/kuberuntime_manager.go (GetPodStatus): what the runtime knows about a pod.
import type { PodSandboxStatus, RuntimeService } from '../cri/runtime-service.js';
import { CONTAINER_HASH_ANNOTATION, CONTAINER_NAME_LABEL, CONTAINER_RESTART_COUNT_ANNOTATION } from './container-config.js';
import { POD_UID_LABEL } from './sandbox-config.js';

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainerStatus {
  /** The runtime's container id (without the `containerd://` scheme). */
  id: string;
  name: string;
  state: RuntimeContainerState;
  /** Milliseconds since the epoch; 0 when unset. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: string;
  imageRef: string;
  hash: string;
  restartCount: number;
  reason: string;
  message: string;
}

export interface RuntimePodStatus {
  uid: string;
  name: string;
  namespace: string;
  /** Pod IPs from the newest ready sandbox. */
  ips: string[];
  /** Newest first. */
  sandboxStatuses: PodSandboxStatus[];
  /** Newest first. */
  containerStatuses: RuntimeContainerStatus[];
}

/** The runtime scheme of container ids in the API (`containerd://<id>`). */
export const RUNTIME_TYPE = 'containerd';

const STATES: Record<string, RuntimeContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
};

const toMs = (nanos: number) => Math.floor(nanos / 1e6);

/** The newest status of the container named `name`. */
export function findContainerStatus(status: RuntimePodStatus, name: string): RuntimeContainerStatus | undefined {
  return status.containerStatuses.find((c) => c.name === name);
}

/**
 * Reads the pod's sandboxes and containers from the runtime (by the io.kubernetes.pod.uid label). The calls
 * are made at once where they do not depend on each other (both lists, then every status): two round trips
 * to a busy runtime instead of one per call.
 */
export async function getPodStatus(runtime: RuntimeService, uid: string, name: string, namespace: string): Promise<RuntimePodStatus> {
  const filter = { labelSelector: { [POD_UID_LABEL]: uid } };
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox(filter), runtime.listContainers(filter)]);
  sandboxes.sort((a, b) => b.createdAt - a.createdAt || (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0));
  const [sandboxResponses, containerResponses] = await Promise.all([
    Promise.all(sandboxes.map((s) => runtime.podSandboxStatus(s.id))),
    Promise.all(containers.map((c) => runtime.containerStatus(c.id))),
  ]);
  const sandboxStatuses: PodSandboxStatus[] = [];
  let ips: string[] = [];
  for (const [i, resp] of sandboxResponses.entries()) {
    if (!resp.status) continue;
    sandboxStatuses.push(resp.status);
    if (i === 0 && resp.status.state === 'SANDBOX_READY' && resp.status.network?.ip) {
      ips = [resp.status.network.ip, ...resp.status.network.additionalIps.map((a) => a.ip)];
    }
  }
  const containerStatuses: RuntimeContainerStatus[] = [];
  for (const resp of containerResponses) {
    const s = resp.status;
    if (!s) continue;
    containerStatuses.push({
      id: s.id,
      name: s.labels[CONTAINER_NAME_LABEL] ?? s.metadata?.name ?? '',
      state: STATES[s.state] ?? 'unknown',
      createdAt: toMs(s.createdAt),
      startedAt: toMs(s.startedAt),
      finishedAt: toMs(s.finishedAt),
      exitCode: s.exitCode,
      image: s.image?.userSpecifiedImage || s.image?.image || '',
      imageRef: s.imageRef,
      hash: s.annotations[CONTAINER_HASH_ANNOTATION] ?? '',
      restartCount: Number(s.annotations[CONTAINER_RESTART_COUNT_ANNOTATION] ?? s.metadata?.attempt ?? 0),
      reason: s.reason,
      message: s.message,
    });
  }
  containerStatuses.sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
  return { uid, name, namespace, ips, sandboxStatuses, containerStatuses };
}
