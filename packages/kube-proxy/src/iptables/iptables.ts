// A small interface over the iptables binaries (upstream's pkg/util/iptables): one iptables-restore
// per sync with the whole payload on stdin, iptables-save per table, and `-C`/`-I` for the few
// rules in built-in chains. Commands run in the caller's network namespace, or in a named one
// (`nsenter --net=/run/netns/NAME`) when `netns` is given.
import { spawn } from 'node:child_process';
import type { JumpChain, Table } from '../rules/jump-chains.js';

export interface RestoreOptions {
  /** Keep what the payload does not mention (--noflush): only declared chains are flushed. */
  noflush?: boolean;
}

export interface IPTables {
  /** Applies an iptables-restore payload atomically; throws RestoreError on failure. */
  restore(text: string, opts?: RestoreOptions): Promise<void>;
  /** iptables-save of one table. */
  save(table: Table): Promise<string>;
  /** Creates the chain if it does not exist; true if it existed. */
  ensureChain(table: Table, chain: string): Promise<boolean>;
  /** `-C` then, if missing, `-I` (prepend) or `-A`; true if the rule existed. */
  ensureRule(position: 'prepend' | 'append', table: Table, chain: string, args: readonly string[]): Promise<boolean>;
}

/** An iptables-restore failure; `line` is the 1-based payload line iptables reported, when it did. */
export class RestoreError extends Error {
  override name = 'RestoreError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** The payload lines around `line` (1-based), numbered, as upstream's ExtractLines logs them. */
export function extractLines(text: string, line: number, count = 3): string {
  const lines = text.split('\n');
  const from = Math.max(1, line - count);
  const to = Math.min(lines.length, line + count);
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`${i}: ${lines[i - 1]}`);
  return out.join('\n');
}

/**
 * The line number in iptables-restore's error output: `line 5 failed`, `line 5: CHAIN_DEL failed`
 * (commit errors) or `Error occurred at line: 5` (parse errors).
 */
export function parseRestoreErrorLine(stderr: string): number | undefined {
  const m = /\bline:? (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Chain names declared in an iptables-save table (upstream's GetChainsFromTable). */
export function chainsFromSave(text: string): Set<string> {
  const chains = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) chains.add(line.slice(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : undefined));
  }
  return chains;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with optional stdin; never throws for a non-zero exit (only for a missing binary). */
export function execCommand(cmd: string, args: readonly string[], stdin?: string, timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

export interface ExecIPTablesOptions {
  /** A network namespace under /run/netns to run in (tests); default: this process's own. */
  netns?: string;
  exec?: typeof execCommand;
  /** A command still running after this long is killed (default 5 minutes). */
  timeoutMs?: number;
}

export class ExecIPTables implements IPTables {
  private readonly exec: typeof execCommand;
  constructor(private readonly opts: ExecIPTablesOptions = {}) {
    this.exec = opts.exec ?? execCommand;
  }

  /** The command line for a binary, inside the configured namespace if any. */
  private cmd(bin: string, args: readonly string[]): [string, string[]] {
    return this.opts.netns ? ['nsenter', [`--net=/run/netns/${this.opts.netns}`, bin, ...args]] : [bin, [...args]];
  }

  private run(bin: string, args: readonly string[], stdin?: string): Promise<ExecResult> {
    const [cmd, argv] = this.cmd(bin, args);
    return this.exec(cmd, argv, stdin, this.opts.timeoutMs ?? 300_000);
  }

  async restore(text: string, opts: RestoreOptions = {}): Promise<void> {
    const args = ['-w', '5', ...(opts.noflush ? ['--noflush'] : [])];
    const r = await this.run('iptables-restore', args, text);
    if (r.code !== 0) {
      const msg = (r.stderr || r.stdout).trim();
      throw new RestoreError(`iptables-restore failed (exit status ${r.code}): ${msg}`, parseRestoreErrorLine(msg));
    }
  }

  async save(table: Table): Promise<string> {
    const r = await this.run('iptables-save', ['-t', table]);
    if (r.code !== 0) throw new Error(`iptables-save -t ${table} failed (exit status ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async ensureChain(table: Table, chain: string): Promise<boolean> {
    const r = await this.run('iptables', ['-w', '5', '-t', table, '-N', chain]);
    if (r.code === 0) return false;
    // Exit status 1 with "Chain already exists" (legacy and nft spell it alike).
    if (/already exists/i.test(r.stderr)) return true;
    throw new Error(`iptables -t ${table} -N ${chain} failed (exit status ${r.code}): ${r.stderr.trim()}`);
  }

  async ensureRule(position: 'prepend' | 'append', table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const check = await this.run('iptables', ['-w', '5', '-t', table, '-C', chain, ...args]);
    if (check.code === 0) return true;
    if (check.code !== 1) throw new Error(`iptables -t ${table} -C ${chain} failed (exit status ${check.code}): ${check.stderr.trim()}`);
    const add = await this.run('iptables', ['-w', '5', '-t', table, position === 'prepend' ? '-I' : '-A', chain, ...args]);
    if (add.code !== 0) throw new Error(`iptables -t ${table} ${position === 'prepend' ? '-I' : '-A'} ${chain} failed (exit status ${add.code}): ${add.stderr.trim()}`);
    return false;
  }
}

/** Ensures every jump's destination chain exists and its rule is at the top of the source chain. */
export async function ensureJumps(ipt: IPTables, jumps: readonly JumpChain[]): Promise<void> {
  for (const j of jumps) {
    await ipt.ensureChain(j.table, j.dstChain);
    await ipt.ensureRule('prepend', j.table, j.srcChain, j.args);
  }
}
