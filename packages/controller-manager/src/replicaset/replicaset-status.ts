// The ReplicaSet's status as a pure function of the object and its pods (upstream's replica_set_utils.go).
import { selectorFromSet } from '@kubelab/api';
import type { ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { isPodAvailable, isPodReady } from '../controller-utils.js';

/** The fields the controller reads from a ReplicaSet or a ReplicationController. */
export interface ReplicatedObject {
  metadata: { generation?: number; [k: string]: unknown };
  spec?: { replicas?: number; minReadySeconds?: number; template?: { metadata?: { labels?: Record<string, string> } } };
  status?: ReplicaSetStatus;
}

/**
 * The status `rs` should have given its active, owned `pods`. A failed create or delete (`manageError`)
 * sets the ReplicaFailure condition; a clean sync removes it.
 */
export function calculateStatus(rs: ReplicatedObject, pods: Pod[], manageError: Error | undefined, nowMs: number, nowTime: string): ReplicaSetStatus {
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels ?? {});
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (templateLabels.matches(pod.metadata?.labels ?? {})) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, nowMs)) available++;
    }
  }
  const status: ReplicaSetStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
  };
  let conditions = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const cond: ReplicaSetCondition = {
      type: 'ReplicaFailure',
      status: 'True',
      reason: diff < 0 ? 'FailedCreate' : 'FailedDelete',
      message: manageError.message,
      lastTransitionTime: nowTime,
    };
    conditions.push(cond);
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  if (conditions.length) status.conditions = conditions;
  return status;
}

/** Whether writing `next` would change anything the status subresource holds. */
export function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const norm = (s: ReplicaSetStatus | undefined) => ({
    replicas: s?.replicas ?? 0,
    fullyLabeledReplicas: s?.fullyLabeledReplicas ?? 0,
    readyReplicas: s?.readyReplicas ?? 0,
    availableReplicas: s?.availableReplicas ?? 0,
    observedGeneration: s?.observedGeneration ?? 0,
    conditions: JSON.stringify(s?.conditions ?? []),
  });
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
