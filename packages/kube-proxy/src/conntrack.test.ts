import { describe, expect, it } from 'vitest';
import { conntrackArgs, ExecConntrack, staleUDPDeletions, udpServiceStates } from './conntrack.js';
import { endpointsMapOf, servicePortsOf } from './rules/service-ports.js';
import { makeService, makeSlice, ready } from './rules/testing.js';

const dns = makeService('kube-system', 'kube-dns', {
  type: 'NodePort',
  clusterIP: '10.96.0.10',
  externalIPs: ['192.168.9.9'],
  ports: [
    { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30054 },
  ],
});
const states = (...ips: string[]) =>
  udpServiceStates(
    servicePortsOf(dns),
    endpointsMapOf(
      [
        makeSlice('kube-system', 'kube-dns', 1, [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }], ips.map((ip) => ready(ip))),
      ],
      'node-a',
    ),
  );

describe('stale UDP conntrack entries', () => {
  it('an endpoint that went away: entries DNATed to it, for every service IP and the NodePort (UDP only)', () => {
    expect(staleUDPDeletions(states('10.244.0.3', '10.244.0.4'), states('10.244.0.3'))).toEqual([
      { kind: 'nat', origDst: '10.96.0.10', port: 53, dstNat: '10.244.0.4' },
      { kind: 'nat', origDst: '192.168.9.9', port: 53, dstNat: '10.244.0.4' },
      { kind: 'portNat', port: 30053, dstNat: '10.244.0.4' },
    ]);
  });

  it('a service that gets its first endpoint: every entry to it (they were never DNATed)', () => {
    expect(staleUDPDeletions(states(), states('10.244.0.3'))).toEqual([
      { kind: 'ip', origDst: '10.96.0.10', port: 53 },
      { kind: 'ip', origDst: '192.168.9.9', port: 53 },
      { kind: 'port', port: 30053 },
    ]);
    expect(staleUDPDeletions(states('10.244.0.3'), states('10.244.0.3'))).toEqual([]);
  });

  it("uses Debian conntrack's filters and treats 'nothing to delete' as success", async () => {
    expect(conntrackArgs({ kind: 'nat', origDst: '10.96.0.10', port: 53, dstNat: '10.244.0.4' })).toEqual([
      '-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--dport', '53', '--dst-nat', '10.244.0.4',
    ]);
    const none = new ExecConntrack(async () => ({ code: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }));
    expect(await none.delete({ kind: 'port', port: 30053 })).toBe(true);
    const missing = new ExecConntrack(async () => {
      throw Object.assign(new Error('spawn conntrack ENOENT'), { code: 'ENOENT' });
    });
    expect(await missing.delete({ kind: 'port', port: 30053 })).toBe(false);
  });
});
