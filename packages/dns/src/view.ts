// The ClusterView the resolver reads, over shared informers (CoreDNS's plugin/kubernetes/controller.go:
// the dnsControl with its service, endpointslice, namespace and, in pods verified mode, pod caches and
// their IP indexes).
import { findResource, type corev1, type discoveryv1, type KubeObject } from '@kubelab/api';
import { realClock, type Clock, type Informer, type SharedInformerFactory } from '@kubelab/client';
import { canonicalIP, clusterIPs, type ClusterView } from './resolver.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const BY_CLUSTER_IP = 'clusterIP';
const BY_SERVICE = 'service';
const BY_ADDRESS = 'address';
const BY_POD_IP = 'podIP';

export interface InformerClusterView extends ClusterView {
  /** The informers read, to start and wait for. */
  readonly informers: Informer<KubeObject>[];
  /** A number that changes with every add, update or delete seen: answers computed under one generation stay valid while it holds. */
  generation(): number;
}

/**
 * Builds the view over `factory`'s Services, EndpointSlices and Namespaces (and Pods when `watchPods`,
 * as CoreDNS watches pods only in verified mode). Call factory.start() afterwards.
 */
export function informerClusterView(factory: SharedInformerFactory, opts: { watchPods: boolean; clock?: Clock }): InformerClusterView {
  const clock = opts.clock ?? realClock;
  const services = factory.forResource<KubeObject>(findResource('', 'v1', 'services')!);
  const slices = factory.forResource<KubeObject>(findResource('discovery.k8s.io', 'v1', 'endpointslices')!);
  const namespaces = factory.forResource<KubeObject>(findResource('', 'v1', 'namespaces')!);
  const pods = opts.watchPods ? factory.forResource<KubeObject>(findResource('', 'v1', 'pods')!) : undefined;

  services.addIndexer(BY_CLUSTER_IP, (o) => clusterIPs(o as corev1.Service));
  slices.addIndexer(BY_SERVICE, (o) => {
    const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
    return svc ? [`${o.metadata.namespace}/${svc}`] : [];
  });
  slices.addIndexer(BY_ADDRESS, (o) => {
    const ips = new Set<string>();
    for (const ep of (o as discoveryv1.EndpointSlice).endpoints ?? []) for (const a of ep.addresses ?? []) if (canonicalIP(a)) ips.add(canonicalIP(a)!);
    return [...ips];
  });
  pods?.addIndexer(BY_POD_IP, (o) => {
    const p = o as corev1.Pod;
    const ips = p.status?.podIPs?.length ? p.status.podIPs.map((x) => x.ip) : p.status?.podIP ? [p.status.podIP] : [];
    return ips.map((ip) => canonicalIP(ip ?? '')).filter((ip): ip is string => !!ip);
  });

  // The SOA serial: the time of the last change seen, in Unix seconds (CoreDNS's dnsControl.Modified).
  let modified = Math.floor(clock.now() / 1000);
  let generation = 0;
  const touch = () => {
    modified = Math.floor(clock.now() / 1000);
    generation++;
  };
  const informers = [services, slices, namespaces, ...(pods ? [pods] : [])];
  for (const inf of informers) inf.addEventHandler({ onAdd: touch, onUpdate: (a, b) => a !== b && touch(), onDelete: touch });

  return {
    informers,
    service: (namespace, name) => services.lister.get(namespace, name) as corev1.Service | undefined,
    servicesByClusterIP: (ip) => services.lister.byIndex(BY_CLUSTER_IP, ip) as corev1.Service[],
    endpointSlices: (namespace, service) => slices.lister.byIndex(BY_SERVICE, `${namespace}/${service}`) as discoveryv1.EndpointSlice[],
    endpointSlicesByIP: (ip) => slices.lister.byIndex(BY_ADDRESS, ip) as discoveryv1.EndpointSlice[],
    namespaceExists: (name) => !!namespaces.lister.get('', name),
    podsByIP: (ip) => (pods ? (pods.lister.byIndex(BY_POD_IP, ip) as corev1.Pod[]) : []),
    hasSynced: () => informers.every((i) => i.hasSynced()),
    modified: () => modified,
    generation: () => generation,
  };
}
