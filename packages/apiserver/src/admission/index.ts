// The admission plugins this server knows, in upstream's order, and the ones on by default.
import { conflict, notFound, OPTIMISTIC_LOCK_MESSAGE, type KubeObject } from '@kubelab/api';
import type { ServerDeps } from '../server-deps.js';
import type { Store } from '../registry/store.js';
import { AdmissionChain, selectPlugins, type AdmissionPlugin } from './admission.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import { LimitRanger } from './limit-ranger.js';
import { ServiceAccountAdmission } from './service-account.js';
import { NodeRestriction } from './node-restriction.js';
import { PodSecurity } from './pod-security.js';
import { PriorityAdmission } from './priority.js';
import { DefaultTolerationSeconds } from './default-toleration-seconds.js';
import { ResourceQuotaAdmission } from './resource-quota.js';
import { DefaultStorageClass } from './default-storage-class.js';
import { DefaultIngressClass } from './default-ingress-class.js';
import { StorageObjectInUseProtection } from './storage-object-in-use-protection.js';
import { CoalescedReads, getCachedOrLive, getOrUndefined, listCached } from './util.js';

export { addWarning, type AdmissionAttributes, type AdmissionPlugin, AdmissionChain } from './admission.js';

/** The store of a resource in any version (the first registered), or undefined. */
function storeOf(deps: ServerDeps, group: string, resource: string): Store | undefined {
  for (const s of deps.registry.stores.values()) if (s.info.group === group && s.info.resource === resource) return s;
  return undefined;
}

function resourceQuota(d: ServerDeps): ResourceQuotaAdmission {
  const quotas = d.registry.store('', 'v1', 'resourcequotas');
  // A consistent read (the resourceVersion read here guards the status write), shared by the creates of a
  // namespace that ask at the same time: each still gets a read that started after it asked.
  const quotaReads = new CoalescedReads(async (ns: string) => (await quotas.list(ns)).items);
  return new ResourceQuotaAdmission({
    listQuotas: (ns) => quotaReads.read(ns),
    listObjects: async (group, resource, ns) => {
      const s = storeOf(d, group, resource);
      return s ? listCached(s, ns) : undefined;
    },
    updateQuotaStatus: async (ns, name, resourceVersion, status) => {
      await quotas.update(
        ns,
        name,
        (current: KubeObject | null) => {
          if (!current) throw notFound(quotas.gr, name);
          if (current.metadata.resourceVersion !== resourceVersion) throw conflict(quotas.gr, name, OPTIMISTIC_LOCK_MESSAGE);
          return { ...current, status: status as KubeObject['status'] };
        },
        { subresource: 'status' },
      );
    },
    clock: d.clock,
  });
}

/** Name -> factory, in upstream's plugin order (AllOrderedPlugins). */
const PLUGINS: [string, (deps: ServerDeps) => AdmissionPlugin][] = [
  ['NamespaceLifecycle', (d) => new NamespaceLifecycle(d.getNamespace)],
  ['LimitRanger', (d) => new LimitRanger({ listLimitRanges: (ns) => listCached(d.registry.store('', 'v1', 'limitranges'), ns) })],
  ['ServiceAccount', (d) => new ServiceAccountAdmission((ns, name) => getCachedOrLive(d.registry.store('', 'v1', 'serviceaccounts'), ns, name))],
  ['NodeRestriction', (d) => new NodeRestriction((name) => getOrUndefined(d.registry.store('', 'v1', 'nodes'), '', name))],
  ['PodSecurity', (d) => new PodSecurity({ getNamespace: d.getNamespace, listPods: (ns) => listCached(d.registry.store('', 'v1', 'pods'), ns) })],
  ['Priority', (d) => new PriorityAdmission({ listPriorityClasses: () => listCached(d.registry.store('scheduling.k8s.io', 'v1', 'priorityclasses'), '') })],
  ['DefaultTolerationSeconds', () => new DefaultTolerationSeconds()],
  ['DefaultStorageClass', (d) => new DefaultStorageClass(() => listCached(d.registry.store('storage.k8s.io', 'v1', 'storageclasses'), ''))],
  ['StorageObjectInUseProtection', () => new StorageObjectInUseProtection()],
  ['DefaultIngressClass', (d) => new DefaultIngressClass(() => listCached(d.registry.store('networking.k8s.io', 'v1', 'ingressclasses'), ''))],
  ['ResourceQuota', resourceQuota],
];

/** Upstream's default-on set, of the plugins implemented here (NodeRestriction is opt-in, as upstream). */
const DEFAULT_ON = ['NamespaceLifecycle', 'LimitRanger', 'ServiceAccount', 'PodSecurity', 'Priority', 'DefaultTolerationSeconds', 'DefaultStorageClass', 'StorageObjectInUseProtection', 'DefaultIngressClass', 'ResourceQuota'];

export const ADMISSION_PLUGIN_ORDER: readonly string[] = PLUGINS.map(([n]) => n);
export const DEFAULT_ON_ADMISSION_PLUGINS: readonly string[] = DEFAULT_ON;

export function buildAdmission(deps: ServerDeps): AdmissionChain {
  const order = PLUGINS.map(([n]) => n);
  const enabled = selectPlugins(order, DEFAULT_ON, deps.config.enableAdmissionPlugins, deps.config.disableAdmissionPlugins);
  return new AdmissionChain(PLUGINS.filter(([n]) => enabled.includes(n)).map(([, make]) => make(deps)));
}

