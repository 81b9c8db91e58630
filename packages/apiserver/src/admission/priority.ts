// Priority: resolves a pod's spec.priorityClassName (or the globalDefault class) to spec.priority and
// spec.preemptionPolicy; and keeps at most one PriorityClass marked globalDefault.
import type { KubeObject } from '@kubelab/api';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { asPod, forbiddenFor, isCore } from './util.js';

export const SYSTEM_CLUSTER_CRITICAL = 'system-cluster-critical';
export const SYSTEM_NODE_CRITICAL = 'system-node-critical';
/** scheduling.SystemCriticalPriority: the highest value a user-defined class may not reach. */
export const SYSTEM_CRITICAL_PRIORITY = 2000000000;
/** Priority of a pod without a class when no class is globalDefault. */
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0;
const PREEMPT_LOWER_PRIORITY = 'PreemptLowerPriority';

/** The classes upstream creates at startup, used when the cluster has no object of that name. */
export const BUILTIN_PRIORITY_CLASSES: PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: SYSTEM_NODE_CRITICAL },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
    preemptionPolicy: PREEMPT_LOWER_PRIORITY,
  },
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: SYSTEM_CLUSTER_CRITICAL },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
    preemptionPolicy: PREEMPT_LOWER_PRIORITY,
  },
];

export interface PriorityDeps {
  /** All PriorityClasses (from the watch cache). */
  listPriorityClasses(): Promise<KubeObject[]>;
}

export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';

  constructor(private readonly deps: PriorityDeps) {}

  private async classes(): Promise<PriorityClass[]> {
    const stored = (await this.deps.listPriorityClasses()) as unknown as PriorityClass[];
    const names = new Set(stored.map((c) => c.metadata?.name));
    return [...stored, ...BUILTIN_PRIORITY_CLASSES.filter((c) => !names.has(c.metadata!.name))];
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !isCore(a, 'pods')) return;
    const pod = asPod(a.object);
    if (!pod?.spec) return;
    const spec = pod.spec;
    const classes = await this.classes();
    let value: number;
    let policy: string;
    if (!spec.priorityClassName) {
      // The globalDefault class; with several (a race between creates), the lowest value wins.
      const defaults = classes.filter((c) => c.globalDefault).sort((x, y) => x.value - y.value);
      if (defaults.length) {
        spec.priorityClassName = defaults[0].metadata!.name;
        value = defaults[0].value;
        policy = defaults[0].preemptionPolicy ?? PREEMPT_LOWER_PRIORITY;
      } else {
        value = DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS;
        policy = PREEMPT_LOWER_PRIORITY;
      }
    } else {
      const pc = classes.find((c) => c.metadata?.name === spec.priorityClassName);
      if (!pc) throw forbiddenFor(a, `no PriorityClass with name ${spec.priorityClassName} was found`);
      value = pc.value;
      policy = pc.preemptionPolicy ?? PREEMPT_LOWER_PRIORITY;
    }
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
      throw forbiddenFor(a, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
    }
    spec.priority = value;
    if (spec.preemptionPolicy && spec.preemptionPolicy !== policy) {
      throw forbiddenFor(
        a,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; ` +
          `priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    }
    spec.preemptionPolicy = policy;
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.resource.group !== 'scheduling.k8s.io' || a.resource.resource !== 'priorityclasses' || a.subresource) return;
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    const pc = a.object as unknown as PriorityClass | null;
    if (!pc?.globalDefault) return;
    const stored = (await this.deps.listPriorityClasses()) as unknown as PriorityClass[];
    const other = stored.find((c) => c.globalDefault && c.metadata?.name !== pc.metadata?.name);
    if (other) throw forbiddenFor(a, `PriorityClass ${other.metadata!.name} is already marked as default. Only one default can exist`);
  }
}
