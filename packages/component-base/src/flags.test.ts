import { describe, expect, it } from 'vitest';
import { FlagError, flagUsages, parseDuration, parseFlagSet, parseFlags, parseGoBool, parseGoInt } from './flags.js';

const defs = {
  'secure-port': { kind: 'int32', usage: 'The port to serve HTTPS on.' },
  'leader-elect': { kind: 'bool' },
  'kube-api-qps': { kind: 'float' },
  'leader-elect-lease-duration': { kind: 'duration' },
  'etcd-servers': { kind: 'stringSlice' },
  kubeconfig: { kind: 'string' },
  'max-pods': { kind: 'int' },
} as const;

describe('Go value syntax', () => {
  it('parses Go durations', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('-2s')).toBe(-2000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('5x')).toThrow('time: invalid duration "5x"');
    expect(() => parseDuration('5')).toThrow('time: missing unit in duration "5"');
    expect(() => parseDuration('')).toThrow('time: invalid duration ""');
  });
  it('parses Go booleans and bounded integers', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(parseGoBool(f)).toBe(false);
    expect(() => parseGoBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
    expect(parseGoInt('-2147483648', 32)).toBe(-2147483648);
    expect(() => parseGoInt('2147483648', 32)).toThrow('value out of range');
    expect(() => parseGoInt('1.5', 64)).toThrow('invalid syntax');
  });
});

describe('parseFlagSet', () => {
  it('takes --name=value, --name value and bare booleans', () => {
    const { flags, help } = parseFlagSet(
      ['--secure-port=10259', '--leader-elect', '--kube-api-qps', '50.5', '--leader-elect-lease-duration=15s', '--etcd-servers=a,b', '--etcd-servers', 'c', '--kubeconfig', '/k'],
      defs,
    );
    expect(help).toBe(false);
    expect(flags).toEqual({ 'secure-port': 10259, 'leader-elect': true, 'kube-api-qps': 50.5, 'leader-elect-lease-duration': 15_000, 'etcd-servers': ['a', 'b', 'c'], kubeconfig: '/k' });
    expect(parseFlagSet(['--leader-elect=false'], defs).flags['leader-elect']).toBe(false);
    expect(parseFlagSet(['--help'], defs).help).toBe(true);
  });
  it("fails with pflag's messages", () => {
    const msg = (argv: string[]) => {
      try {
        parseFlagSet(argv, defs);
      } catch (err) {
        expect(err).toBeInstanceOf(FlagError);
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(msg(['--nope=1'])).toBe('unknown flag: --nope');
    expect(msg(['--__proto__=1'])).toBe('unknown flag: --__proto__');
    expect(msg(['--kubeconfig'])).toBe('flag needs an argument: --kubeconfig');
    expect(msg(['--secure-port=abc'])).toBe('invalid argument "abc" for "--secure-port" flag: strconv.ParseInt: parsing "abc": invalid syntax');
    expect(msg(['--secure-port=3000000000'])).toBe('invalid argument "3000000000" for "--secure-port" flag: strconv.ParseInt: parsing "3000000000": value out of range');
    expect(msg(['--leader-elect=maybe'])).toBe('invalid argument "maybe" for "--leader-elect" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
    expect(msg(['--leader-elect-lease-duration=10'])).toMatch(/missing unit/);
    expect(msg(['stray'])).toMatch(/unexpected argument "stray"/);
  });
  it('prints usages sorted by name', () => {
    const text = flagUsages(defs);
    expect(text.split('\n')[0]).toMatch(/^ {6}--etcd-servers strings/);
    expect(text).toMatch(/--secure-port int32 +The port to serve HTTPS on\./);
    expect(text).toMatch(/--leader-elect\n/);
  });
});

describe('parseFlags (string/boolean specs)', () => {
  it('parses --flag=value and rejects unknown flags', () => {
    expect(parseFlags(['--secure-port=6443', '--watch-cache'], { 'secure-port': { type: 'string' }, 'watch-cache': { type: 'boolean' } })).toEqual({
      'secure-port': '6443',
      'watch-cache': true,
    });
    expect(() => parseFlags(['--nope=1'], {})).toThrow(/nope/);
  });
});
