// Applies rendered rulesets with the real iptables binaries inside a network namespace of the test's
// own (upstream tests this path only in e2e): re-applies, stale chains, a failing payload, other
// rules left alone, and traffic through a ClusterIP, a NodePort and a service without endpoints.
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JUMP_CHAINS } from '../rules/jump-chains.js';
import { renderProxyRules, type ProxyRulesInput } from '../rules/render.js';
import { makeService, makeSlice, ready } from '../rules/testing.js';
import { chainsFromSave, ensureJumps, ExecIPTables, execCommand, extractLines, RestoreError } from './iptables.js';
import { createTestNode, NODE_IP, type TestNode } from './netns-testing.js';

const isRoot = process.getuid?.() === 0;

const web = (extra = {}) =>
  makeService('default', 'web', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }], ...extra });
const empty = makeService('default', 'empty', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
const dns = makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
const webSlice = (...ips: string[]) => makeSlice('default', 'web', 1, [{ name: 'http', port: 8080, protocol: 'TCP' }], ips.map((ip) => ready(ip, 'node-a')));
const dnsSlice = makeSlice('kube-system', 'kube-dns', 1, [{ name: 'dns', port: 53, protocol: 'UDP' }], [ready('10.244.0.3')]);

describe.skipIf(!isRoot)('ExecIPTables in a network namespace', () => {
  let node: TestNode;
  let ipt: ExecIPTables;

  beforeAll(async () => {
    node = await createTestNode();
    ipt = new ExecIPTables({ netns: node.nodeNs });
    // Rules that are not kube-proxy's, which no sync may touch.
    await node.inNode('iptables', '-w', '-t', 'nat', '-N', 'OTHER-SNAT');
    await node.inNode('iptables', '-w', '-t', 'nat', '-A', 'OTHER-SNAT', '-s', '10.99.0.0/16', '-j', 'RETURN');
    await node.inNode('iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.99.0.0/16', '-j', 'OTHER-SNAT');
    await node.inNode('iptables', '-w', '-A', 'INPUT', '-p', 'tcp', '--dport', '2222', '-j', 'ACCEPT');
  });

  afterAll(async () => {
    await node?.remove();
  });

  async function apply(input: Omit<ProxyRulesInput, 'nodeName' | 'existingNatChains'>) {
    await ensureJumps(ipt, JUMP_CHAINS);
    const existing = chainsFromSave(await ipt.save('nat'));
    const rules = renderProxyRules({ ...input, nodeName: 'node-a', existingNatChains: existing });
    await ipt.restore(rules.text, { noflush: true });
    return rules;
  }

  const BUILTIN_NAT = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];
  const TOP_NAT = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];

  it('applies a ruleset: exactly the expected KUBE chains, jumps in place, other rules untouched', async () => {
    const rules = await apply({ services: [web(), empty, dns], endpointSlices: [webSlice('10.244.0.7', '10.244.0.8'), dnsSlice], options: { clusterCIDR: '10.244.0.0/16' } });
    const nat = await ipt.save('nat');
    expect([...chainsFromSave(nat)].sort()).toEqual([...BUILTIN_NAT, 'OTHER-SNAT', ...TOP_NAT, ...rules.activeNatChains].sort());
    expect(rules.activeNatChains.size).toBe(1 + 1 + 2 + 1 + 1); // EXT + SVC + 2 SEP for web, SVC + SEP for dns
    expect(nat).toContain('-A POSTROUTING -s 10.99.0.0/16 -j OTHER-SNAT');
    expect(nat).toContain('-A OTHER-SNAT -s 10.99.0.0/16 -j RETURN');
    expect(nat).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(nat).toContain('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
    const filter = await ipt.save('filter');
    expect(filter).toContain('-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT');
    expect(filter).toContain('-A KUBE-SERVICES -d 10.96.0.30/32 -p tcp -m comment --comment "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT');
  });

  it('re-applying the same ruleset changes nothing; a changed one deletes the stale chains', async () => {
    const input = { services: [web(), empty, dns], endpointSlices: [webSlice('10.244.0.7', '10.244.0.8'), dnsSlice], options: { clusterCIDR: '10.244.0.0/16' } };
    await apply(input);
    const before = await ipt.save('nat');
    await apply(input);
    expect(stripComments(await ipt.save('nat'))).toBe(stripComments(before));

    const old = chainsFromSave(before);
    const rules = await apply({ services: [web(), empty], endpointSlices: [webSlice('10.244.0.7')], options: { clusterCIDR: '10.244.0.0/16' } });
    const nat = await ipt.save('nat');
    const now = chainsFromSave(nat);
    expect([...now].sort()).toEqual([...BUILTIN_NAT, 'OTHER-SNAT', ...TOP_NAT, ...rules.activeNatChains].sort());
    const gone = [...old].filter((c) => !now.has(c));
    expect(gone.length).toBe(3); // the 10.244.0.8 endpoint, and kube-dns's SVC and SEP
    expect(rules.deletedChains.sort()).toEqual(gone.sort());
    expect(nat).not.toContain('10.96.0.10');
    expect(nat).toContain('-A POSTROUTING -s 10.99.0.0/16 -j OTHER-SNAT');
    // Jumps are ensured, never duplicated.
    expect(nat.match(/-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/g)).toHaveLength(1);
  });

  it('a payload iptables rejects fails as a whole and reports the failing line', async () => {
    const before = await ipt.save('nat');
    const good = renderProxyRules({ services: [web()], endpointSlices: [webSlice('10.244.0.7')], nodeName: 'node-a' }).text;
    const lines = good.split('\n');
    const natAt = lines.indexOf('*nat');
    lines.splice(natAt + 5, 0, '-A KUBE-SERVICES -m nosuchmatch --whatever -j ACCEPT');
    const bad = lines.join('\n');
    const err = await ipt.restore(bad, { noflush: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreError);
    const line = (err as RestoreError).line;
    expect(line).toBe(natAt + 6);
    expect(extractLines(bad, line!, 1)).toContain(`${line}: -A KUBE-SERVICES -m nosuchmatch --whatever -j ACCEPT`);
    expect(stripComments(await ipt.save('nat'))).toBe(stripComments(before));
  });

  it('traffic: a ClusterIP and a NodePort reach the pod; a service without endpoints is refused at once', async () => {
    await apply({ services: [web(), empty], endpointSlices: [webSlice('10.244.0.7')], options: { clusterCIDR: '10.244.0.0/16' } });
    expect(await node.connect('10.96.0.20', 80)).toBe('hello from pod');
    expect(await node.connect(NODE_IP, 30080)).toBe('hello from pod');
    const start = Date.now();
    expect(await node.connect('10.96.0.30', 80)).toBe('ECONNREFUSED');
    expect(Date.now() - start).toBeLessThan(2500);
  });
});

/** iptables-save's header and footer carry timestamps. */
function stripComments(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

describe.skipIf(!isRoot)('the golden rulesets', () => {
  const dir = new URL('../rules/testdata/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));

  it.each(files)('iptables-restore --noflush accepts %s', async (file) => {
    const ns = `kp-golden-${randomBytes(3).toString('hex')}`;
    expect((await execCommand('ip', ['netns', 'add', ns])).code).toBe(0);
    try {
      await new ExecIPTables({ netns: ns }).restore(readFileSync(new URL(file, dir), 'utf8'), { noflush: true });
    } finally {
      await execCommand('ip', ['netns', 'del', ns]);
    }
  });
});
