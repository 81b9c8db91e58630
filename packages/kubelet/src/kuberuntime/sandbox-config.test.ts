import type { Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { generatePodSandboxConfig, parseResolvConf, podDNSConfig, type DNSOptions } from './sandbox-config.js';

const host = parseResolvConf('# generated\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example lab.\noptions edns0 timeout:2\n');
const dns: DNSOptions = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: host };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web'): Pod {
  return {
    metadata: { name, namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 9090, protocol: 'UDP' }] }], ...spec },
  };
}

describe('parseResolvConf', () => {
  it('reads nameservers, the search path and options', () => {
    expect(host).toEqual({ servers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'lab'], options: ['edns0', 'timeout:2'] });
  });
});

describe('podDNSConfig', () => {
  it('ClusterFirst: cluster DNS, the namespace search path then the host one, ndots:5', () => {
    expect(podDNSConfig(pod(), dns)).toEqual({
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab'],
      options: ['ndots:5'],
    });
  });

  it('ClusterFirst on the host network falls back to the host resolv.conf; ClusterFirstWithHostNet does not', () => {
    expect(podDNSConfig(pod({ hostNetwork: true }), dns).servers).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), dns).servers).toEqual(['10.96.0.10']);
  });

  it('Default uses the host resolv.conf; None only the pod dnsConfig; dnsConfig merges and overrides options', () => {
    expect(podDNSConfig(pod({ dnsPolicy: 'Default' }), dns)).toEqual({ servers: host.servers, searches: host.searches, options: host.options });
    const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    expect(podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig }), dns)).toEqual({ servers: ['1.1.1.1'], searches: ['my.dns.search.suffix'], options: ['ndots:2', 'edns0'] });
    expect(podDNSConfig(pod({ dnsConfig }), dns).options).toEqual(['ndots:2', 'edns0']);
  });
});

describe('generatePodSandboxConfig', () => {
  it('names, labels, log directory, hostname and ports', () => {
    const c = generatePodSandboxConfig(pod(), { ...dns, attempt: 1, cgroupParent: '/kubepods/besteffort/podu-1' });
    expect(c.metadata).toEqual({ name: 'web', uid: 'u-1', namespace: 'shop', attempt: 1 });
    expect(c.hostname).toBe('web');
    expect(c.logDirectory).toBe('/var/log/pods/shop_web_u-1');
    expect(c.labels).toEqual({ app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1' });
    expect(c.annotations).toEqual({ note: 'x' });
    expect(c.portMappings).toEqual([{ protocol: 'TCP', containerPort: 80, hostPort: 8080 }, { protocol: 'UDP', containerPort: 9090 }]);
    expect(c.linux!.cgroupParent).toBe('/kubepods/besteffort/podu-1');
    expect(c.linux!.securityContext!.namespaceOptions).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  });

  it('spec.hostname wins and long names are cut to 63 characters; host-network pods get no hostname', () => {
    expect(generatePodSandboxConfig(pod({ hostname: 'db-0', subdomain: 'db' }), { ...dns, attempt: 0 }).hostname).toBe('db-0');
    const long = generatePodSandboxConfig(pod({}, `${'a'.repeat(62)}-bbbb`), { ...dns, attempt: 0 }).hostname!;
    expect(long).toBe('a'.repeat(62));
    expect(generatePodSandboxConfig(pod({ hostNetwork: true }), { ...dns, attempt: 0 }).hostname).toBeUndefined();
  });

  it('namespaces, sysctls and ids from the pod security context', () => {
    const c = generatePodSandboxConfig(
      pod({ hostNetwork: true, hostIPC: true, shareProcessNamespace: true, securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }),
      { ...dns, attempt: 0 },
    );
    expect(c.linux!.securityContext).toEqual({
      namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'NODE' },
      runAsUser: { value: 1000 },
      runAsGroup: { value: 3000 },
      supplementalGroups: [2000],
    });
    expect(c.linux!.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
    expect(generatePodSandboxConfig(pod({ hostPID: true }), { ...dns, attempt: 0 }).linux!.securityContext!.namespaceOptions!.pid).toBe('NODE');
  });
});
