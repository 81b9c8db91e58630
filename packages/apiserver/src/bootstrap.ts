// What every cluster starts with: the system namespaces and the `kubernetes` Service in `default`
// pointing at this apiserver (Endpoints and EndpointSlice). Idempotent; safe with several apiservers.
import { networkInterfaces } from 'node:os';
import { StatusError, type KubeObject } from '@kubelab/api';
import type { Registry } from './registry/index.js';
import { nthIp } from './allocator/cidr.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const ignoreExists = (err: unknown) => {
  if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
};

/** The address other components reach this apiserver on: the flag, else the host's first non-loopback IPv4. */
export function defaultAdvertiseAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function bootstrap(registry: Registry, opts: { advertiseAddress: string; securePort: number }): Promise<void> {
  const namespaces = registry.store('', 'v1', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    await namespaces.create('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } }).catch(ignoreExists);
  }
  const services = registry.store('', 'v1', 'services');
  const serviceIP = nthIp(registry.ips.cidr, 1);
  await services
    .create('default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: {
        type: 'ClusterIP',
        clusterIP: serviceIP,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.securePort }],
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
      },
    })
    .catch(ignoreExists);

  const ip = opts.advertiseAddress;
  const port = { name: 'https', port: opts.securePort, protocol: 'TCP' };
  await registry.store('', 'v1', 'endpoints').update(
    'default',
    'kubernetes',
    (current) => {
      const addresses: { ip: string }[] = current?.subsets?.[0]?.addresses ?? [];
      if (!addresses.some((a) => a.ip === ip)) addresses.push({ ip });
      const ep: KubeObject = current ?? { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default' } };
      ep.metadata.labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
      ep.subsets = [{ addresses, ports: [port] }];
      return ep;
    },
    { forceAllowCreate: true },
  );
  await registry.store('discovery.k8s.io', 'v1', 'endpointslices').update(
    'default',
    'kubernetes',
    (current) => {
      const endpoints: { addresses: string[] }[] = current?.endpoints ?? [];
      if (!endpoints.some((e) => e.addresses.includes(ip))) endpoints.push({ addresses: [ip] });
      return {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { ...(current?.metadata ?? { name: 'kubernetes', namespace: 'default' }), labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: endpoints.map((e) => ({ ...e, conditions: { ready: true } })),
        ports: [port],
      };
    },
    { forceAllowCreate: true },
  );
}
