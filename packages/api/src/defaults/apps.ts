// Defaulting for apps/v1 workloads, following upstream pkg/apis/apps/v1/defaults.go and the pod
// template recursion of its generated defaulters. Functions mutate and are idempotent.
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { defaultPersistentVolumeClaim, podTemplateDefaults } from './core.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** Pod template defaults for a workload whose template is required (may still be absent on input). */
export function defaultTemplate(template: PodTemplateSpec | undefined): void {
  if (template) podTemplateDefaults((template.spec ??= { containers: [] }));
}

/**
 * replicas 1; strategy RollingUpdate with maxUnavailable/maxSurge "25%" (only when the type is
 * RollingUpdate); revisionHistoryLimit 10; progressDeadlineSeconds 600.
 */
export function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= { selector: {}, template: {} });
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  spec.progressDeadlineSeconds ??= DEFAULT_PROGRESS_DEADLINE_SECONDS;
  defaultTemplate(spec.template);
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= { selector: {} });
  spec.replicas ??= 1;
  defaultTemplate(spec.template);
}

/** updateStrategy RollingUpdate with maxUnavailable 1 and maxSurge 0; revisionHistoryLimit 10. */
export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = (ds.spec ??= { selector: {}, template: {} });
  const us = (spec.updateStrategy ??= {});
  us.type ||= 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = (us.rollingUpdate ??= {});
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  defaultTemplate(spec.template);
}

/**
 * podManagementPolicy OrderedReady; updateStrategy RollingUpdate with partition 0 (a partition is
 * only added when rollingUpdate exists or the type itself was defaulted);
 * persistentVolumeClaimRetentionPolicy Retain/Retain; replicas 1; revisionHistoryLimit 10;
 * volumeClaimTemplates get the PersistentVolumeClaim defaults (status.phase Pending, volumeMode
 * Filesystem).
 */
export function defaultStatefulSet(sts: StatefulSet): void {
  const spec = (sts.spec ??= { selector: {}, serviceName: '', template: {} });
  spec.podManagementPolicy ||= 'OrderedReady';
  const us = (spec.updateStrategy ??= {});
  if (!us.type) {
    us.type = 'RollingUpdate';
    us.rollingUpdate ??= {};
  }
  if (us.type === 'RollingUpdate' && us.rollingUpdate) us.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= DEFAULT_REVISION_HISTORY_LIMIT;
  defaultTemplate(spec.template);
  for (const pvc of spec.volumeClaimTemplates ?? []) defaultPersistentVolumeClaim(pvc);
}
