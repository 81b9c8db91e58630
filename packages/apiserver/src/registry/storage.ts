// Strategies of core/v1 PersistentVolumes and PersistentVolumeClaims (upstream's
// pkg/registry/core/persistentvolume and persistentvolumeclaim strategy.go): a new object's status is the
// server's (phase Pending; a PV also records lastPhaseTransitionTime), and a PV's status update stamps
// lastPhaseTransitionTime whenever its phase changes.
import type { KubeObject } from '@kubelab/api';
import { statusStrategy, type ResourceStrategy } from './defaults.js';
import type { StatusStrategy } from './strategy.js';
import { rfc3339, type Clock } from './store.js';

interface VolumeStatus {
  phase?: string;
  lastPhaseTransitionTime?: string;
}

const statusOf = (o: KubeObject) => (o.status ?? {}) as VolumeStatus;

export function persistentVolumeStrategy(clock: Clock): ResourceStrategy {
  return () => ({
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339(clock()) } as KubeObject['status'];
    },
  });
}

export const persistentVolumeClaimStrategy: ResourceStrategy = () => ({
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' } as KubeObject['status'];
  },
});

/** PersistentVolume status: a changed phase gets a new lastPhaseTransitionTime (unless the writer set one). */
export function persistentVolumeStatusStrategy(clock: Clock): StatusStrategy {
  return {
    prepareForUpdate(obj, old) {
      statusStrategy.prepareForUpdate(obj, old);
      const next = statusOf(obj);
      const prev = statusOf(old);
      if (next.phase !== prev.phase && next.lastPhaseTransitionTime === prev.lastPhaseTransitionTime) {
        obj.status = { ...next, lastPhaseTransitionTime: rfc3339(clock()) } as KubeObject['status'];
      }
    },
    validateUpdate: statusStrategy.validateUpdate,
  };
}
