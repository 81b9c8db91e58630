import { describe, expect, it } from 'vitest';
import { chainsFromSave, ExecIPTables, extractLines, parseRestoreErrorLine, RestoreError, type ExecResult } from './iptables.js';

describe('iptables helpers', () => {
  it("finds the failing line in each of iptables-restore's error formats", () => {
    expect(parseRestoreErrorLine('iptables-restore: line 3 failed: No chain/target/match by that name.')).toBe(3);
    expect(parseRestoreErrorLine("iptables-restore v1.8.9 (nf_tables): Couldn't load match `x'\n\nError occurred at line: 4\nTry `iptables-restore -h'")).toBe(4);
    expect(parseRestoreErrorLine('iptables-restore v1.8.9 (nf_tables): \nline 29: CHAIN_DEL failed (Device or resource busy): chain KUBE-SEP-X')).toBe(29);
    expect(parseRestoreErrorLine('Another app is currently holding the xtables lock.')).toBeUndefined();
  });

  it('extracts numbered lines around a line', () => {
    expect(extractLines('a\nb\nc\nd\ne\nf', 3, 1)).toBe('2: b\n3: c\n4: d');
    expect(extractLines('a\nb', 1, 3)).toBe('1: a\n2: b');
  });

  it('reads the chain names of an iptables-save table', () => {
    const save = '# Generated\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-X - [0:0]\n-A PREROUTING -j KUBE-SVC-X\nCOMMIT\n';
    expect([...chainsFromSave(save)]).toEqual(['PREROUTING', 'KUBE-SVC-X']);
  });

  it('runs iptables-restore -w --noflush with the payload on stdin, inside a named namespace when asked', async () => {
    const calls: Array<{ cmd: string; args: readonly string[]; stdin?: string }> = [];
    let results: ExecResult[] = [];
    const ipt = new ExecIPTables({
      netns: 'node-1',
      exec: async (cmd, args, stdin) => {
        calls.push({ cmd, args, stdin });
        return results.shift() ?? { code: 0, stdout: '', stderr: '' };
      },
    });
    await ipt.restore('*nat\nCOMMIT\n', { noflush: true });
    expect(calls[0]).toEqual({ cmd: 'nsenter', args: ['--net=/run/netns/node-1', 'iptables-restore', '-w', '5', '--noflush'], stdin: '*nat\nCOMMIT\n' });
    results = [{ code: 1, stdout: '', stderr: 'iptables-restore: line 2 failed' }];
    const err = await ipt.restore('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreError);
    expect((err as RestoreError).line).toBe(2);

    // -C finds it missing (exit 1): -I prepends it.
    calls.length = 0;
    results = [{ code: 1, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).' }];
    await ipt.ensureRule('prepend', 'nat', 'PREROUTING', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
    expect(calls.map((c) => c.args.slice(1, 8).join(' '))).toEqual(['iptables -w 5 -t nat -C PREROUTING', 'iptables -w 5 -t nat -I PREROUTING']);
  });
});
