// Kubernetes object types. The shapes come from `kubernetes-types` (generated from upstream's OpenAPI,
// exact JSON field names); this module re-exports them by group/version and adds the few generic
// shapes the machinery needs.
export type * as corev1 from 'kubernetes-types/core/v1';
export type * as metav1 from 'kubernetes-types/meta/v1';
export type * as appsv1 from 'kubernetes-types/apps/v1';
export type * as batchv1 from 'kubernetes-types/batch/v1';
export type * as rbacv1 from 'kubernetes-types/rbac/v1';
export type * as coordinationv1 from 'kubernetes-types/coordination/v1';
export type * as discoveryv1 from 'kubernetes-types/discovery/v1';
export type * as eventsv1 from 'kubernetes-types/events/v1';
export type * as autoscalingv1 from 'kubernetes-types/autoscaling/v1';

import type { ObjectMeta, ListMeta } from 'kubernetes-types/meta/v1';

/** ObjectMeta as the server handles it: the fields upstream marks read-only are the server's to write. */
export type WritableObjectMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any Kubernetes object as stored and served: typed metadata, everything else open. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: WritableObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: spec/status/data differ by kind; typed views come from kubernetes-types.
  [field: string]: any;
}

export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}
