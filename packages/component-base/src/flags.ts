// Command-line flags with upstream's syntax and errors (spf13/pflag as cobra uses it): `--name=value`,
// `--name value`, a bare `--bool-flag` for true, Go's bool/int/duration spellings, repeated flags for lists.

/** A flag the user got wrong: printed as one line (`Error: unknown flag: --foo`), exit code 1. */
export class FlagError extends Error {
  override name = 'FlagError';
}

export type FlagKind = 'string' | 'bool' | 'int' | 'int32' | 'float' | 'duration' | 'stringSlice';

export interface FlagDef {
  kind: FlagKind;
  usage?: string;
}

export type FlagDefs = Record<string, FlagDef>;

/** The Go value type of each kind, as a parsed flag value. */
type FlagValue<K extends FlagKind> = K extends 'bool' ? boolean : K extends 'stringSlice' ? string[] : K extends 'string' ? string : number;

/** Parsed flags: only those given on the command line are present (durations in milliseconds). */
export type ParsedFlags<D extends FlagDefs> = { -readonly [N in keyof D]?: FlagValue<D[N]['kind']> };

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (GO_TRUE.has(s)) return true;
  if (GO_FALSE.has(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** Go's strconv.ParseInt(s, 0, bits) for the sizes flags use. */
export function parseGoInt(s: string, bits: 32 | 64): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (n > max || n < -max - 1n || (bits === 64 && (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)))) {
    throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return Number(n);
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration (`5m`, `1h30m`, `500ms`, `-1.5s`, `0`), in milliseconds. */
export function parseDuration(s: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (!rest) throw invalid();
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) throw rest && /^[\d.]+$/.test(rest) ? new Error(`time: missing unit in duration ${JSON.stringify(s)}`) : invalid();
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

function convert(kind: FlagKind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool':
      return parseGoBool(raw);
    case 'int':
      return parseGoInt(raw, 64);
    case 'int32':
      return parseGoInt(raw, 32);
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(raw)}: invalid syntax`);
      return n;
    }
    case 'duration':
      return parseDuration(raw);
    case 'stringSlice':
      return raw === '' ? [] : raw.split(',').map((x) => x.trim());
  }
}

/**
 * Parses argv against the flag definitions, as pflag does. Throws FlagError with pflag's messages:
 * `unknown flag: --foo`, `flag needs an argument: --foo`,
 * `invalid argument "x" for "--secure-port" flag: strconv.ParseInt: parsing "x": invalid syntax`.
 * `--help`/`-h` are left to the caller: they come back as `help: true`.
 */
export function parseFlagSet<D extends FlagDefs>(argv: readonly string[], defs: D): { flags: ParsedFlags<D>; help: boolean } {
  const flags: Record<string, unknown> = Object.create(null);
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new FlagError(`unexpected arguments: ${JSON.stringify(argv.slice(i + 1))}`);
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') throw new FlagError(`unexpected argument ${JSON.stringify(arg)}: this command takes flags only`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!def) throw new FlagError(arg.startsWith('--') ? `unknown flag: --${name}` : `unknown shorthand flag: ${JSON.stringify(name[0])} in ${arg}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (def.kind === 'bool') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i]!;
    else throw new FlagError(`flag needs an argument: --${name}`);
    let value: unknown;
    try {
      value = convert(def.kind, raw);
    } catch (err) {
      throw new FlagError(`invalid argument ${JSON.stringify(raw)} for "--${name}" flag: ${(err as Error).message}`);
    }
    // Repeating a list flag appends, as pflag's stringSlice; any other flag: the last one wins.
    flags[name] = def.kind === 'stringSlice' && Array.isArray(flags[name]) ? [...(flags[name] as string[]), ...(value as string[])] : value;
  }
  return { flags: { ...flags } as ParsedFlags<D>, help };
}

/** `--name kind   usage` lines for --help, sorted as pflag prints them. */
export function flagUsages(defs: FlagDefs): string {
  const typeName: Record<FlagKind, string> = { string: 'string', bool: '', int: 'int', int32: 'int32', float: 'float', duration: 'duration', stringSlice: 'strings' };
  const rows = Object.keys(defs)
    .sort()
    .map((name) => [`      --${name}${typeName[defs[name]!.kind] ? ` ${typeName[defs[name]!.kind]}` : ''}`, defs[name]!.usage ?? ''] as const);
  const width = Math.max(...rows.map(([l]) => l.length), 0) + 3;
  return rows.map(([l, u]) => (u ? l.padEnd(width) + u : l)).join('\n');
}

/** Node's parseArgs-based parser, kept until every component has moved to parseFlagSet. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }>;

export function parseFlags<S extends FlagSpec>(argv: string[], spec: S): { [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string } {
  const out: Record<string, unknown> = {};
  const defs: FlagDefs = {};
  for (const [name, s] of Object.entries(spec)) defs[name] = { kind: s.type === 'boolean' ? 'bool' : s.multiple ? 'stringSlice' : 'string' };
  const { flags } = parseFlagSet(argv, defs);
  for (const [name, v] of Object.entries(flags)) {
    // Multiple string flags keep one element per occurrence (the callers split on commas themselves).
    out[name] = spec[name]!.multiple && Array.isArray(v) ? [(v as string[]).join(',')] : v;
  }
  return out as never;
}
