// Which printer serves which group/resource.
import type { TablePrinter } from './types.js';
import { podPrinter } from './pod.js';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  eventsV1Printer,
  namespacePrinter,
  componentStatusPrinter,
  nodePrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  podTemplatePrinter,
  replicaSetPrinter,
  replicationControllerPrinter,
  statefulSetPrinter,
} from './workloads.js';
import { clusterRoleBindingPrinter, endpointSlicePrinter, leasePrinter, podDisruptionBudgetPrinter, certificateSigningRequestPrinter, roleBindingPrinter } from './misc.js';
import { ingressClassPrinter, ingressPrinter } from './networking.js';
import { horizontalPodAutoscalerPrinter } from './autoscaling.js';
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from './storage.js';
import { defaultPrinter } from './default.js';

/** Keyed by `resource.group` (`pods` for the core group). */
const printers = new Map<string, TablePrinter>([
  ['pods', podPrinter],
  ['podtemplates', podTemplatePrinter],
  ['replicationcontrollers', replicationControllerPrinter],
  ['services', servicePrinter],
  ['endpoints', endpointsPrinter],
  ['namespaces', namespacePrinter],
  ['componentstatuses', componentStatusPrinter],
  ['nodes', nodePrinter],
  ['events', eventPrinter],
  ['configmaps', configMapPrinter],
  ['secrets', secretPrinter],
  ['serviceaccounts', serviceAccountPrinter],
  ['resourcequotas', resourceQuotaPrinter],
  ['persistentvolumes', persistentVolumePrinter],
  ['persistentvolumeclaims', persistentVolumeClaimPrinter],
  ['storageclasses.storage.k8s.io', storageClassPrinter],
  ['replicasets.apps', replicaSetPrinter],
  ['deployments.apps', deploymentPrinter],
  ['daemonsets.apps', daemonSetPrinter],
  ['statefulsets.apps', statefulSetPrinter],
  ['controllerrevisions.apps', controllerRevisionPrinter],
  ['jobs.batch', jobPrinter],
  ['cronjobs.batch', cronJobPrinter],
  ['endpointslices.discovery.k8s.io', endpointSlicePrinter],
  ['events.events.k8s.io', eventsV1Printer],
  ['leases.coordination.k8s.io', leasePrinter],
  ['poddisruptionbudgets.policy', podDisruptionBudgetPrinter],
  ['horizontalpodautoscalers.autoscaling', horizontalPodAutoscalerPrinter],
  ['certificatesigningrequests.certificates.k8s.io', certificateSigningRequestPrinter],
  ['rolebindings.rbac.authorization.k8s.io', roleBindingPrinter],
  ['clusterrolebindings.rbac.authorization.k8s.io', clusterRoleBindingPrinter],
  ['ingresses.networking.k8s.io', ingressPrinter],
  ['ingressclasses.networking.k8s.io', ingressClassPrinter],
]);

/**
 * Upstream's printer for a resource, or the default Name / Created At table for anything without
 * one (roles, clusterroles, limitranges, custom resources, ...).
 */
export function printerFor(group: string, resource: string): TablePrinter {
  return printers.get(group ? `${resource}.${group}` : resource) ?? defaultPrinter;
}
