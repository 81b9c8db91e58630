import { describe, expect, it } from 'vitest';
import { configFromFlags, masqueradeMark } from './config.js';

describe('kube-proxy config', () => {
  it("has upstream's defaults", () => {
    const c = configFromFlags(['--hostname-override=Node-A']);
    expect(c).toMatchObject({
      hostnameOverride: 'node-a',
      iptablesMinSyncPeriodMs: 1_000,
      iptablesSyncPeriodMs: 30_000,
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '0.0.0.0:10256',
      masqueradeAll: false,
      masqueradeBit: 14,
      localhostNodePorts: true,
      nodePortAddresses: [],
      proxyMode: 'iptables',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(masqueradeMark(c.masqueradeBit)).toBe('0x4000');
  });

  it('parses the flags', () => {
    const c = configFromFlags([
      '--kubeconfig',
      '/etc/kp.conf',
      '--cluster-cidr=10.244.0.0/16',
      '--nodeport-addresses=192.168.0.0/16,10.0.0.0/8',
      '--iptables-min-sync-period=2s',
      '--iptables-sync-period=1m',
      '--masquerade-all',
      '--metrics-bind-address=0.0.0.0:0',
      '--proxy-mode=iptables',
    ]);
    expect(c).toMatchObject({
      kubeconfig: '/etc/kp.conf',
      clusterCIDR: '10.244.0.0/16',
      nodePortAddresses: ['192.168.0.0/16', '10.0.0.0/8'],
      iptablesMinSyncPeriodMs: 2_000,
      iptablesSyncPeriodMs: 60_000,
      masqueradeAll: true,
      metricsBindAddress: '0.0.0.0:0',
    });
  });

  it('rejects what upstream rejects, naming the field', () => {
    expect(() => configFromFlags(['--proxy-mode=ipvs'])).toThrow('KubeProxyConfiguration.Mode: Unsupported value: "ipvs": supported values: "iptables"');
    expect(() => configFromFlags(['--iptables-sync-period=0s'])).toThrow('KubeProxyIPTablesConfiguration.SyncPeriod: Invalid value');
    expect(() => configFromFlags(['--iptables-min-sync-period=1m'])).toThrow('must be greater than or equal to KubeProxyIPTablesConfiguration.MinSyncPeriod');
    expect(() => configFromFlags(['--cluster-cidr=10.244.0.0'])).toThrow('KubeProxyConfiguration.ClusterCIDR: Invalid value: "10.244.0.0"');
    expect(() => configFromFlags(['--nodeport-addresses=eth0'])).toThrow('must be a valid CIDR');
    expect(() => configFromFlags(['--metrics-bind-address=localhost'])).toThrow('KubeProxyConfiguration.MetricsBindAddress: Invalid value: "localhost": must be IP:port');
    expect(() => configFromFlags(['--iptables-masquerade-bit=32'])).toThrow('must be within the range [0, 31]');
    expect(() => configFromFlags(['--nosuch'])).toThrow('unknown flag: --nosuch');
  });
});
