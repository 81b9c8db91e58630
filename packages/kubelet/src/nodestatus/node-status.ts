// The Node object a kubelet registers and the status it keeps up to date (upstream:
// pkg/kubelet/kubelet_node_status.go initialNode, and pkg/kubelet/nodestatus setters). Pure: inputs
// in, Node out; the caller decides when to write.
import type { Node, NodeCondition, NodeStatus, Taint } from 'kubernetes-types/core/v1';
import { rfc3339 } from '@kubelab/api';
import type { MachineInfo } from './machine-info.js';

/** The kubelet version the nodes report (kubectl get nodes' VERSION column). */
export const KUBELET_VERSION = 'v1.32.0';

export interface NodeIdentity {
  name: string;
  /** --node-ip (InternalIP). */
  nodeIP: string;
  hostname: string;
  /** --node-labels. */
  labels: Record<string, string>;
  /** --register-with-taints. */
  taints: Taint[];
}

export interface NodeStatusInputs {
  machine: MachineInfo;
  /** --max-pods. */
  maxPods: number;
  /** --kube-reserved + --system-reserved (+ eviction thresholds), subtracted from capacity. */
  reserved: { cpuMillis: number; memoryBytes: number; ephemeralStorageBytes: number };
  /** `containerd://1.6.20`, from CRI Version. */
  containerRuntimeVersion: string;
  /** The CRI Status conditions; undefined when the runtime has not answered yet. */
  runtime?: { runtimeReady: boolean; networkReady: boolean; message: string };
  kubeletPort: number;
  /** Images present on the node (names and size), most recent first, at most 50 (upstream's default). */
  images: { names: string[]; sizeBytes: number }[];
}

/** The Node the kubelet creates when it registers (upstream's initialNode). */
export function initialNode(id: NodeIdentity): Node {
  const arch = id.labels['kubernetes.io/arch'];
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch ?? '',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch ?? '',
    'kubernetes.io/hostname': id.hostname,
    'kubernetes.io/os': 'linux',
    ...id.labels,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: id.name, labels, annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
    spec: id.taints.length ? { taints: id.taints } : {},
  };
}

function bytesQuantity(n: number): string {
  if (n > 0 && n % 1024 === 0) return `${n / 1024}Ki`;
  return String(n);
}

/**
 * A condition with the given state: keeps lastTransitionTime when the status did not change, and
 * always moves lastHeartbeatTime (upstream writes both on every status update).
 */
function condition(previous: NodeCondition[] | undefined, type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: string): NodeCondition {
  const old = previous?.find((c) => c.type === type);
  const transitioned = !old || old.status !== status;
  return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: transitioned ? now : old!.lastTransitionTime ?? now };
}

/** The node's status from the inputs, carrying condition transition times over from `previous`. */
export function nodeStatus(id: NodeIdentity, inputs: NodeStatusInputs, previous: NodeStatus | undefined, nowMs: number): NodeStatus {
  const now = rfc3339(nowMs);
  const m = inputs.machine;
  const capacity: Record<string, string> = {
    cpu: String(m.numCores),
    memory: bytesQuantity(m.memoryCapacityBytes),
    'ephemeral-storage': bytesQuantity(m.rootfsCapacityBytes),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    pods: String(inputs.maxPods),
  };
  const r = inputs.reserved;
  const allocatable: Record<string, string> = {
    ...capacity,
    cpu: `${Math.max(0, m.numCores * 1000 - r.cpuMillis)}m`.replace(/^(\d+)000m$/, '$1'),
    memory: bytesQuantity(Math.max(0, m.memoryCapacityBytes - r.memoryBytes)),
    'ephemeral-storage': String(Math.max(0, m.rootfsCapacityBytes - r.ephemeralStorageBytes)),
  };
  const rt = inputs.runtime;
  const ready = rt?.runtimeReady && rt.networkReady;
  const notReadyMessage = !rt
    ? 'container runtime status check may not have completed yet'
    : !rt.runtimeReady
      ? `container runtime is down: ${rt.message}`
      : `container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:${rt.message}`;
  const prev = previous?.conditions;
  return {
    capacity,
    allocatable,
    conditions: [
      condition(prev, 'MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now),
      condition(prev, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now),
      condition(prev, 'PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now),
      ready
        ? condition(prev, 'Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', now)
        : condition(prev, 'Ready', 'False', 'KubeletNotReady', notReadyMessage, now),
    ],
    addresses: [
      { type: 'InternalIP', address: id.nodeIP },
      { type: 'Hostname', address: id.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: inputs.kubeletPort } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: inputs.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: m.operatingSystem,
      architecture: m.architecture,
    },
    images: inputs.images.slice(0, 50),
  };
}

/**
 * Whether a status differs from the stored one in anything but heartbeat times: such a change is
 * written at once; an unchanged status only every node-status-report-frequency (upstream: 5m),
 * since the Lease is the heartbeat.
 */
export function statusChanged(stored: NodeStatus | undefined, next: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined) => JSON.stringify({ ...s, conditions: s?.conditions?.map(({ lastHeartbeatTime: _, ...c }) => c) });
  return strip(stored) !== strip(next);
}
