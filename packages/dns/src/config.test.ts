import { describe, expect, it } from 'vitest';
import { configFromFlags, defaults } from './config.js';

describe('config', () => {
  it('defaults to kubeadm CoreDNS: cluster.local, :53, health 8080, ready 8181, metrics 9153, ttl 30, pods insecure', () => {
    expect(configFromFlags([])).toEqual({ ...defaults(), kubeconfig: undefined });
    expect(defaults()).toMatchObject({ clusterDomain: 'cluster.local', dnsPort: 53, healthPort: 8080, readyPort: 8181, metricsPort: 9153, ttl: 30, podMode: 'insecure', resolvConf: '/etc/resolv.conf' });
  });

  it('reads the flags', () => {
    const c = configFromFlags(['--cluster-domain=K8S.Example.', '--dns-bind-address', '127.0.0.1', '--dns-port=5353', '--ttl=5', '--pod-mode=verified', '--kubeconfig=/k']);
    expect(c).toMatchObject({ clusterDomain: 'k8s.example', dnsBindAddress: '127.0.0.1', dnsPort: 5353, ttl: 5, podMode: 'verified', kubeconfig: '/k' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('rejects bad values naming the flag', () => {
    expect(() => configFromFlags(['--ttl=3601'])).toThrow('--ttl 3601 must be between 0 and 3600');
    expect(() => configFromFlags(['--dns-port=70000'])).toThrow('--dns-port 70000 must be between 0 and 65535');
    expect(() => configFromFlags(['--dns-bind-address=localhost'])).toThrow('--dns-bind-address "localhost" must be an IP address');
    expect(() => configFromFlags(['--cluster-domain=a_b'])).toThrow('--cluster-domain "a_b" must be a DNS subdomain');
    expect(() => configFromFlags(['--pod-mode=on'])).toThrow('--pod-mode "on" must be one of insecure, verified, disabled');
    expect(() => configFromFlags(['--nope'])).toThrow('unknown flag: --nope');
  });
});
