import { describe, expect, it } from 'vitest';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from './names.js';

describe('names', () => {
  it('DNS-1123 subdomain and label', () => {
    expect(isDNS1123Subdomain('example.com')).toEqual([]);
    expect(isDNS1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']);
    expect(isDNS1123Label('a.b')).toEqual(['must not contain dots']);
    expect(isDNS1123Label('-a')).toEqual([
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character ` +
        `(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(isDNS1035Label('1abc')).toHaveLength(1);
    expect(isDNS1035Label('abc-1')).toEqual([]);
  });

  it('qualified names (label keys)', () => {
    expect(isQualifiedName('app.kubernetes.io/name')).toEqual([]);
    expect(isQualifiedName('/name')).toEqual(['prefix part must be non-empty']);
    expect(isQualifiedName('Example.com/x')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(isQualifiedName('a'.repeat(64))).toEqual(['name part must be no more than 63 characters']);
    expect(isQualifiedName('x/')).toEqual([
      'name part must be non-empty',
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ` +
        `(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
  });

  it('label values, config keys, env names', () => {
    expect(isValidLabelValue('')).toEqual([]);
    expect(isValidLabelValue('-x')).toHaveLength(1);
    expect(isConfigMapKey('..a')).toEqual(["must not start with '..'"]);
    expect(isEnvVarName('1A')).toHaveLength(1);
    expect(isEnvVarName('MY_VAR.x')).toEqual([]);
  });

  it('ports and IPs', () => {
    expect(isValidPortNum(0)).toEqual(['must be between 1 and 65535, inclusive']);
    expect(isValidPortNum(443)).toEqual([]);
    expect(isValidPortName('http')).toEqual([]);
    expect(isValidPortName('a--b')).toEqual(['must not contain consecutive hyphens']);
    expect(isValidPortName('1234')).toEqual(['must contain at least one letter (a-z)']);
    expect(isValidPortName('a-very-long-port-name')).toEqual(['must be no more than 15 characters']);
    expect(isValidIP('10.0.0.1')).toEqual([]);
    expect(isValidIP('2001:db8::1')).toEqual([]);
    expect(isValidIP('10.0.0.256')).toEqual(['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  });
});
