import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterPolicyChainName, endpointChainName } from './chain-names.js';
import { renderProxyRules, type ProxyRulesInput } from './render.js';
import { makeService, makeSlice, ready, terminating } from './testing.js';

const OPTIONS = { clusterCIDR: '10.244.0.0/16', localhostNodePorts: false };
const NODE = 'node-a';

/** Compares with testdata/<name>.txt (UPDATE_GOLDEN=1 rewrites it). */
function expectGolden(name: string, text: string): void {
  const file = new URL(`./testdata/${name}.txt`, import.meta.url);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function render(input: Partial<ProxyRulesInput>): string {
  return renderProxyRules({ services: [], endpointSlices: [], nodeName: NODE, options: OPTIONS, ...input }).text;
}

const web = makeService('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] });
const webSlice = makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [ready('10.244.1.5', 'node-b'), ready('10.244.0.7', NODE)]);

describe('chain names', () => {
  it('hash the service port name and protocol as upstream (sha256, base32, 16 characters)', () => {
    // Chains every kubeadm cluster has: default/kubernetes:https and the kube-dns ports.
    expect(clusterPolicyChainName('default/kubernetes:https', 'tcp')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(clusterPolicyChainName('kube-system/kube-dns:dns', 'udp')).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(clusterPolicyChainName('kube-system/kube-dns:dns-tcp', 'tcp')).toBe('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toMatch(/^KUBE-SEP-[A-Z2-7]{16}$/);
  });
});

describe('renderProxyRules', () => {
  it('a ClusterIP with two endpoints: statistic split, hairpin masquerade, DNAT', () => {
    expectGolden('clusterip', render({ services: [web], endpointSlices: [webSlice] }));
  });

  it('a service without ready endpoints is rejected in the filter table and has no NAT chains', () => {
    const slice = makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [
      { addresses: ['10.244.1.5'], conditions: { ready: false, serving: false, terminating: false } },
    ]);
    const text = render({ services: [web], endpointSlices: [slice] });
    expectGolden('no-endpoints', text);
    expect(text).not.toContain('KUBE-SVC-');
  });

  it('a NodePort service: KUBE-NODEPORTS to KUBE-EXT, masqueraded, on every local address or the given ones', () => {
    const svc = makeService('default', 'web', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] });
    expectGolden('nodeport', render({ services: [svc], endpointSlices: [webSlice] }));
    const some = render({ services: [svc], endpointSlices: [webSlice], options: { ...OPTIONS, nodePortIPs: ['192.168.50.2', '127.0.0.1'] } });
    expect(some).toContain('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.50.2 -j KUBE-NODEPORTS');
    expect(some).not.toContain('-d 127.0.0.1 -j KUBE-NODEPORTS');
    expect(some).not.toContain('--dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS');
  });

  it('sessionAffinity ClientIP: recent --rcheck before the random split, --set in each endpoint chain', () => {
    const svc = makeService('default', 'web', {
      clusterIP: '10.96.0.20',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    });
    expectGolden('session-affinity', render({ services: [svc], endpointSlices: [webSlice] }));
  });

  it('externalIPs go through KUBE-EXT; without endpoints they are rejected in KUBE-EXTERNAL-SERVICES', () => {
    const svc = makeService('default', 'web', { clusterIP: '10.96.0.20', externalIPs: ['192.168.99.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    const text = render({ services: [svc], endpointSlices: [webSlice] });
    expectGolden('external-ips', text);
    const none = render({ services: [svc] });
    expect(none).toContain(
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp -d 192.168.99.10 --dport 80 -j REJECT',
    );
  });

  it('externalTrafficPolicy Local: KUBE-SVL with the local endpoints only; the EXT chain short-circuits pods and the node', () => {
    const svc = makeService('default', 'web', {
      type: 'NodePort',
      clusterIP: '10.96.0.20',
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
    });
    expectGolden('etp-local', render({ services: [svc], endpointSlices: [webSlice] }));
    // On a node without local endpoints, external traffic is dropped (but pods still reach the service).
    const other = renderProxyRules({ services: [svc], endpointSlices: [webSlice], nodeName: 'node-c', options: OPTIONS }).text;
    expect(other).toContain(
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP',
    );
    expect(other).not.toContain('KUBE-SVL-');
  });

  it('internalTrafficPolicy Local: the ClusterIP goes to KUBE-SVL, or is dropped without local endpoints', () => {
    const svc = makeService('default', 'web', { clusterIP: '10.96.0.20', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    const text = render({ services: [svc], endpointSlices: [webSlice] });
    expect(text).toMatch(/-A KUBE-SERVICES -m comment --comment "default\/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVL-/);
    expect(text).not.toContain('KUBE-SVC-');
    expect(text).toContain('--to-destination 10.244.0.7:8080');
    expect(text).not.toContain('--to-destination 10.244.1.5:8080');
    const other = renderProxyRules({ services: [svc], endpointSlices: [webSlice], nodeName: 'node-c', options: OPTIONS }).text;
    expect(other).toContain('-A KUBE-SERVICES -m comment --comment "default/web:http has no local endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j DROP');
  });

  it('terminating endpoints serve only when no endpoint is ready', () => {
    const slice = makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [
      terminating('10.244.1.5', 'node-b'),
      terminating('10.244.1.6', 'node-b', false),
    ]);
    const text = render({ services: [web], endpointSlices: [slice] });
    expect(text).toContain('--to-destination 10.244.1.5:8080');
    expect(text).not.toContain('10.244.1.6');
    const mixed = makeSlice('default', 'web', 2, [{ name: 'http', port: 8080, protocol: 'TCP' }], [ready('10.244.2.9')]);
    const both = render({ services: [web], endpointSlices: [slice, mixed] });
    expect(both).toContain('--to-destination 10.244.2.9:8080');
    expect(both).not.toContain('10.244.1.5');
  });

  it('UDP services match -m udp -p udp', () => {
    const dns = makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
    const slice = makeSlice('kube-system', 'kube-dns', 1, [{ name: 'dns', port: 53, protocol: 'UDP' }], [ready('10.244.0.3')]);
    const text = render({ services: [dns], endpointSlices: [slice] });
    expect(text).toContain(
      '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    );
    expect(text).toContain('-m udp -p udp -j DNAT --to-destination 10.244.0.3:53');
  });

  it('headless and ExternalName services get no rules at all', () => {
    const headless = makeService('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
    const ext = makeService('default', 'ext', { type: 'ExternalName', externalName: 'example.com' });
    const slice = makeSlice('default', 'db', 1, [{ name: 'pg', port: 5432, protocol: 'TCP' }], [ready('10.244.0.9')]);
    expect(render({ services: [headless, ext], endpointSlices: [slice] })).toBe(render({}));
    expectGolden('empty', render({}));
  });

  it('--masquerade-all marks every ClusterIP connection; no --cluster-cidr means no off-cluster rule', () => {
    const all = renderProxyRules({ services: [web], endpointSlices: [webSlice], nodeName: NODE, options: { masqueradeAll: true } }).text;
    expect(all).toMatch(/-A KUBE-SVC-\w+ -m comment --comment "default\/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-MARK-MASQ/);
    const none = renderProxyRules({ services: [web], endpointSlices: [webSlice], nodeName: NODE, options: {} }).text;
    expect(none).not.toMatch(/cluster IP" .* -j KUBE-MARK-MASQ/);
  });

  it('chains of the previous ruleset that are no longer used are flushed and deleted in the same payload', () => {
    const first = renderProxyRules({ services: [web], endpointSlices: [webSlice], nodeName: NODE, options: OPTIONS });
    const oneLeft = makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], [ready('10.244.1.5', 'node-b')]);
    const second = renderProxyRules({
      services: [web],
      endpointSlices: [oneLeft],
      nodeName: NODE,
      options: OPTIONS,
      existingNatChains: [...first.activeNatChains, 'KUBE-SERVICES', 'DOCKER', 'KUBE-SVC-NOTOURSBUTPREFIXED'],
    });
    const gone = endpointChainName('default/web:http', 'tcp', '10.244.0.7:8080');
    expect(second.deletedChains.sort()).toEqual([gone, 'KUBE-SVC-NOTOURSBUTPREFIXED'].sort());
    expectGolden('stale-chains', second.text);
    // The chain line (flush) comes before the delete, and non-KUBE chains are never mentioned.
    expect(second.text.indexOf(`:${gone} - [0:0]`)).toBeLessThan(second.text.indexOf(`-X ${gone}`));
    expect(second.text).not.toContain('DOCKER');
    expect(second.text).not.toContain('-X KUBE-SERVICES');
  });

  it('LoadBalancer with source ranges: KUBE-FW admits the ranges (and the node), KUBE-PROXY-FIREWALL drops the rest', () => {
    const svc = makeService(
      'default',
      'web',
      { type: 'LoadBalancer', clusterIP: '10.96.0.20', loadBalancerSourceRanges: ['203.0.113.0/24', '192.168.50.0/24'], ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] },
      { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
    );
    const text = renderProxyRules({ services: [svc], endpointSlices: [webSlice], nodeName: NODE, options: { ...OPTIONS, nodeIP: '192.168.50.2' } }).text;
    const fw = text.match(/-j (KUBE-FW-\w+)/)?.[1];
    expect(fw).toBeDefined();
    expect(text).toContain(`-A KUBE-SERVICES -m comment --comment "default/web:http loadbalancer IP" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j ${fw}`);
    expect(text).toContain(`-A ${fw} -m comment --comment "default/web:http loadbalancer IP" -s 203.0.113.0/24 -j KUBE-EXT-`);
    expect(text).toContain(`-A ${fw} -m comment --comment "default/web:http loadbalancer IP" -s 198.51.100.7 -j KUBE-EXT-`);
    expect(text).toContain(`-A ${fw} -m comment --comment "other traffic to default/web:http will be dropped by KUBE-PROXY-FIREWALL"`);
    expect(text).toContain(
      `-A KUBE-PROXY-FIREWALL -m comment --comment "default/web:http traffic not accepted by ${fw}" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j DROP`,
    );
  });

  it('large clusters leave out per-endpoint comments; probabilities are 1/(n-i) with 10 decimals', () => {
    const services = [];
    const slices = [];
    for (let i = 0; i < 251; i++) {
      services.push(makeService('ns', `s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ port: 80, protocol: 'TCP' }] }));
      slices.push(makeSlice('ns', `s${i}`, 1, [{ port: 80, protocol: 'TCP' }], [0, 1, 2, 3].map((j) => ready(`10.244.${i & 255}.${j + 1}`))));
    }
    const text = render({ services, endpointSlices: slices });
    expect(text).toContain('-m statistic --mode random --probability 0.2500000000 -j KUBE-SEP-');
    expect(text).toContain('-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-');
    expect(text).not.toContain(' -> 10.244.');
    const small = render({ services: services.slice(0, 2), endpointSlices: slices.slice(0, 2) });
    expect(small).toContain('--comment "ns/s0 -> 10.244.0.1:80" -m statistic --mode random --probability 0.2500000000');
  });
});
