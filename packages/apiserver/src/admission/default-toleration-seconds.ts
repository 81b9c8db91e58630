// DefaultTolerationSeconds: pods tolerate the not-ready and unreachable NoExecute taints for 300s
// (unless they say otherwise), so a node that goes away evicts its pods after five minutes.
import type { Toleration } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { asPod, isCore } from './util.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const DEFAULT_TOLERATION_SECONDS = 300;

function tolerates(tolerations: Toleration[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
}

export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';

  constructor(
    private readonly notReadySeconds = DEFAULT_TOLERATION_SECONDS,
    private readonly unreachableSeconds = DEFAULT_TOLERATION_SECONDS,
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !isCore(a, 'pods')) return;
    const pod = asPod(a.object);
    if (!pod?.spec) return;
    const tolerations = pod.spec.tolerations ?? [];
    const add: Toleration[] = [];
    if (!tolerates(tolerations, TAINT_NODE_NOT_READY)) {
      add.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.notReadySeconds });
    }
    if (!tolerates(tolerations, TAINT_NODE_UNREACHABLE)) {
      add.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.unreachableSeconds });
    }
    if (add.length) pod.spec.tolerations = [...tolerations, ...add];
  }
}
