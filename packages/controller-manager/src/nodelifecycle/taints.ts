// Taint and toleration helpers (upstream's v1helper and the node lifecycle's condition-to-taint map).
import type { Node, NodeCondition, Taint, Toleration } from 'kubernetes-types/core/v1';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** The shortest tolerationSeconds among `used`, in seconds; -1 when all tolerate forever (upstream's getMinTolerationTime). */
export function minTolerationSeconds(used: Toleration[]): number {
  if (!used.length) return 0;
  let min = -1;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    if (min < 0 || t.tolerationSeconds < min) min = t.tolerationSeconds;
  }
  return min;
}

export function condition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

const sameTaint = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/** The NoSchedule and NoExecute taints the node lifecycle controller owns. */
const MANAGED: Taint[] = [
  { key: TAINT_NODE_NOT_READY, effect: 'NoSchedule' },
  { key: TAINT_NODE_UNREACHABLE, effect: 'NoSchedule' },
  { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' },
  { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' },
  { key: TAINT_NODE_MEMORY_PRESSURE, effect: 'NoSchedule' },
  { key: TAINT_NODE_DISK_PRESSURE, effect: 'NoSchedule' },
  { key: TAINT_NODE_PID_PRESSURE, effect: 'NoSchedule' },
  { key: TAINT_NODE_NETWORK_UNAVAILABLE, effect: 'NoSchedule' },
  { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' },
];

/** The managed taints a node should carry given its conditions and spec.unschedulable. */
export function desiredConditionTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  const ready = condition(node, 'Ready')?.status;
  if (ready === 'False') out.push({ key: TAINT_NODE_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' });
  if (ready === 'Unknown') out.push({ key: TAINT_NODE_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' });
  const pressure: Array<[string, string]> = [
    ['MemoryPressure', TAINT_NODE_MEMORY_PRESSURE],
    ['DiskPressure', TAINT_NODE_DISK_PRESSURE],
    ['PIDPressure', TAINT_NODE_PID_PRESSURE],
    ['NetworkUnavailable', TAINT_NODE_NETWORK_UNAVAILABLE],
  ];
  for (const [type, key] of pressure) if (condition(node, type)?.status === 'True') out.push({ key, effect: 'NoSchedule' });
  if (node.spec?.unschedulable) out.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/**
 * The node's taints with the managed ones replaced by `desired`: taints it keeps retain their
 * timeAdded; new NoExecute taints get `now` as timeAdded. Returns undefined when nothing changes.
 */
export function reconcileTaints(current: Taint[], desired: Taint[], now: string): Taint[] | undefined {
  const isManaged = (t: Taint) => MANAGED.some((m) => sameTaint(m, t));
  const next = current.filter((t) => !isManaged(t) || desired.some((d) => sameTaint(d, t)));
  for (const d of desired) {
    if (next.some((t) => sameTaint(t, d))) continue;
    next.push(d.effect === 'NoExecute' ? { ...d, timeAdded: now } : d);
  }
  if (next.length === current.length && next.every((t, i) => t === current[i])) return undefined;
  return next;
}
