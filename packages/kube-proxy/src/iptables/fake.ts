// An in-memory IPTables for proxier tests (upstream's pkg/util/iptables/testing/fake.go): it keeps
// the last payload per call and the ensured jumps, and can be told to fail.
import type { JumpChain, Table } from '../rules/jump-chains.js';
import { RestoreError, type IPTables, type RestoreOptions } from './iptables.js';

export class FakeIPTables implements IPTables {
  readonly restores: Array<{ text: string; opts: RestoreOptions }> = [];
  readonly chains = new Map<Table, Set<string>>();
  readonly rules: Array<{ table: Table; chain: string; args: string[] }> = [];
  /** When set, the next restore fails as iptables would, reporting this line. */
  failNextRestoreAtLine?: number;

  async restore(text: string, opts: RestoreOptions = {}): Promise<void> {
    if (this.failNextRestoreAtLine !== undefined) {
      const line = this.failNextRestoreAtLine;
      this.failNextRestoreAtLine = undefined;
      throw new RestoreError(`iptables-restore failed (exit status 1): line ${line} failed`, line);
    }
    this.restores.push({ text, opts });
    for (const [table, chains] of parseChains(text)) {
      const set = this.chains.get(table) ?? new Set();
      for (const c of chains.declared) set.add(c);
      for (const c of chains.deleted) set.delete(c);
      this.chains.set(table, set);
    }
  }

  async save(table: Table): Promise<string> {
    return [`*${table}`, ...[...(this.chains.get(table) ?? [])].map((c) => `:${c} - [0:0]`), 'COMMIT', ''].join('\n');
  }

  async ensureChain(table: Table, chain: string): Promise<boolean> {
    const set = this.chains.get(table) ?? new Set();
    this.chains.set(table, set);
    const had = set.has(chain);
    set.add(chain);
    return had;
  }

  async ensureRule(_position: 'prepend' | 'append', table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const had = this.rules.some((r) => r.table === table && r.chain === chain && r.args.join(' ') === args.join(' '));
    if (!had) this.rules.push({ table, chain, args: [...args] });
    return had;
  }

  /** The last applied payload. */
  last(): string | undefined {
    return this.restores.at(-1)?.text;
  }

  hasJump(j: JumpChain): boolean {
    return this.rules.some((r) => r.table === j.table && r.chain === j.srcChain && r.args.join(' ') === j.args.join(' '));
  }
}

function parseChains(text: string): Map<Table, { declared: string[]; deleted: string[] }> {
  const out = new Map<Table, { declared: string[]; deleted: string[] }>();
  let cur: { declared: string[]; deleted: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) out.set(line.slice(1) as Table, (cur = { declared: [], deleted: [] }));
    else if (line.startsWith(':')) cur?.declared.push(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-X ')) cur?.deleted.push(line.slice(3).trim());
  }
  return out;
}
