// Command-line flags with upstream's spelling (`--secure-port=6443` or `--secure-port 6443`).
import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }>;

/** Parses argv against spec; unknown flags are an error with the flag's name, as upstream's pflag does. */
export function parseFlags<S extends FlagSpec>(argv: string[], spec: S): { [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string } {
  const { values } = parseArgs({ args: argv, options: spec as never, strict: true, allowPositionals: false });
  return values as never;
}

/** Parses a Go-style duration (`5m`, `40s`, `1h30m`, `500ms`) into milliseconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (!s || consumed !== s.length) throw new Error(`invalid duration "${s}"`);
  return total;
}
