import { describe, expect, it } from 'vitest';
import { parseDuration, parseFlags } from './flags.js';

describe('flags', () => {
  it('parses Go durations', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(() => parseDuration('5x')).toThrow('invalid duration "5x"');
  });
  it('parses --flag=value and rejects unknown flags', () => {
    expect(parseFlags(['--secure-port=6443', '--watch-cache'], { 'secure-port': { type: 'string' }, 'watch-cache': { type: 'boolean' } })).toEqual({
      'secure-port': '6443',
      'watch-cache': true,
    });
    expect(() => parseFlags(['--nope=1'], {})).toThrow(/nope/);
  });
});
