import { describe, expect, it } from 'vitest';
import { cidrContains, nthIp, parseCidr } from './cidr.js';

describe('cidr', () => {
  it('parses the service range', () => {
    const c = parseCidr('10.96.0.0/12');
    expect(c.size).toBe(1 << 20);
    expect(nthIp(c, 1)).toBe('10.96.0.1');
    expect(nthIp(c, 10)).toBe('10.96.0.10');
    expect(nthIp(c, c.size - 1)).toBe('10.111.255.255');
    expect(cidrContains(c, '10.111.0.3')).toBe(true);
    expect(cidrContains(c, '10.112.0.1')).toBe(false);
    expect(cidrContains(c, 'nope')).toBe(false);
  });
  it('rejects bad CIDRs', () => {
    expect(() => parseCidr('10.96.0.0/33')).toThrow('invalid CIDR');
    expect(() => parseCidr('300.1.1.1/8')).toThrow('invalid CIDR');
  });
});
