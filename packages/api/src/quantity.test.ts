import { describe, expect, it } from 'vitest';
import {
  ERR_QUANTITY_FORMAT,
  ERR_QUANTITY_SUFFIX,
  Quantity,
  isValidQuantity,
  parseQuantity,
  type QuantityFormat,
} from './quantity.js';

const q = (v: bigint | number, exp: number, format: QuantityFormat) => Quantity.fromScaledValue(v, exp, format);
const MAX = 2n ** 63n - 1n;

describe('Quantity.parse', () => {
  // upstream TestQuantityParse: input -> (value x 10^exp, format)
  const table: [string, Quantity][] = [
    ['0', q(0, 0, 'DecimalSI')],
    ['0n', q(0, 0, 'DecimalSI')],
    ['0u', q(0, 0, 'DecimalSI')],
    ['0m', q(0, 0, 'DecimalSI')],
    ['0Ki', q(0, 0, 'BinarySI')],
    ['0k', q(0, 0, 'DecimalSI')],
    ['0Mi', q(0, 0, 'BinarySI')],
    ['0M', q(0, 0, 'DecimalSI')],
    ['0Gi', q(0, 0, 'BinarySI')],
    ['0G', q(0, 0, 'DecimalSI')],
    ['0Ti', q(0, 0, 'BinarySI')],
    ['0T', q(0, 0, 'DecimalSI')],
    ['1', q(1, 0, 'DecimalSI')],
    ['1Ki', q(1024, 0, 'BinarySI')],
    ['8Ki', q(8 * 1024, 0, 'BinarySI')],
    ['7Mi', q(7 * 1024 * 1024, 0, 'BinarySI')],
    ['6Gi', q(6n * 1024n ** 3n, 0, 'BinarySI')],
    ['5Ti', q(5n * 1024n ** 4n, 0, 'BinarySI')],
    ['4Pi', q(4n * 1024n ** 5n, 0, 'BinarySI')],
    ['3Ei', q(3n * 1024n ** 6n, 0, 'BinarySI')],
    ['10Ti', q(10n * 1024n ** 4n, 0, 'BinarySI')],
    ['100Ti', q(100n * 1024n ** 4n, 0, 'BinarySI')],
    ['5n', q(5, -9, 'DecimalSI')],
    ['4u', q(4, -6, 'DecimalSI')],
    ['3m', q(3, -3, 'DecimalSI')],
    ['9', q(9, 0, 'DecimalSI')],
    ['8k', q(8, 3, 'DecimalSI')],
    ['50k', q(5, 4, 'DecimalSI')],
    ['7M', q(7, 6, 'DecimalSI')],
    ['6G', q(6, 9, 'DecimalSI')],
    ['5T', q(5, 12, 'DecimalSI')],
    ['40T', q(4, 13, 'DecimalSI')],
    ['300T', q(3, 14, 'DecimalSI')],
    ['2P', q(2, 15, 'DecimalSI')],
    ['1E', q(1, 18, 'DecimalSI')],
    ['1E-3', q(1, -3, 'DecimalExponent')],
    ['1e3', q(1, 3, 'DecimalExponent')],
    ['1E6', q(1, 6, 'DecimalExponent')],
    ['1e9', q(1, 9, 'DecimalExponent')],
    ['1E12', q(1, 12, 'DecimalExponent')],
    ['1e15', q(1, 15, 'DecimalExponent')],
    ['1E18', q(1, 18, 'DecimalExponent')],
    ['1e14', q(1, 14, 'DecimalExponent')],
    ['1e13', q(1, 13, 'DecimalExponent')],
    ['100.035k', q(100035, 0, 'DecimalSI')],
    ['0.001', q(1, -3, 'DecimalSI')],
    ['0.0005k', q(5, -1, 'DecimalSI')],
    ['0.005', q(5, -3, 'DecimalSI')],
    ['0.05', q(5, -2, 'DecimalSI')],
    ['0.5', q(5, -1, 'DecimalSI')],
    ['0.00050k', q(5, -1, 'DecimalSI')],
    ['0.00500', q(5, -3, 'DecimalSI')],
    ['0.05000', q(5, -2, 'DecimalSI')],
    ['0.50000', q(5, -1, 'DecimalSI')],
    ['0.5e0', q(5, -1, 'DecimalExponent')],
    ['0.5e-1', q(5, -2, 'DecimalExponent')],
    ['0.5e-2', q(5, -3, 'DecimalExponent')],
    ['10.035M', q(10035, 3, 'DecimalSI')],
    ['1.2e3', q(12, 2, 'DecimalExponent')],
    ['1.3E+6', q(13, 5, 'DecimalExponent')],
    ['1.40e9', q(14, 8, 'DecimalExponent')],
    ['1.53E12', q(153, 10, 'DecimalExponent')],
    ['1.6e15', q(16, 14, 'DecimalExponent')],
    ['1.7E18', q(17, 17, 'DecimalExponent')],
    ['9.01', q(901, -2, 'DecimalSI')],
    ['8.1k', q(81, 2, 'DecimalSI')],
    ['7.123456M', q(7123456, 0, 'DecimalSI')],
    ['6.987654321G', q(6987654321, 0, 'DecimalSI')],
    ['5.444T', q(5444, 9, 'DecimalSI')],
    ['40.1T', q(401, 11, 'DecimalSI')],
    ['300.2T', q(3002, 11, 'DecimalSI')],
    ['2.5P', q(25, 14, 'DecimalSI')],
    ['1.01E', q(101, 16, 'DecimalSI')],
    // things that saturate or round
    ['3.001n', q(4, -9, 'DecimalSI')],
    ['1.1E-9', q(2, -9, 'DecimalExponent')],
    ['0.0000000001', q(1, -9, 'DecimalSI')],
    ['0.0000000005', q(1, -9, 'DecimalSI')],
    ['0.00000000050', q(1, -9, 'DecimalSI')],
    ['0.5e-9', q(1, -9, 'DecimalExponent')],
    ['0.9n', q(1, -9, 'DecimalSI')],
    ['0.00000012345', q(124, -9, 'DecimalSI')],
    ['0.00000012354', q(124, -9, 'DecimalSI')],
    ['9Ei', q(MAX, 0, 'BinarySI')],
    ['9223372036854775807Ki', q(MAX, 0, 'BinarySI')],
    ['12E', q(12, 18, 'DecimalSI')],
    // fractional binary
    ['100.035Ki', q(10243584, -2, 'BinarySI')],
    ['0.5Mi', q(0.5 * 1024 * 1024, 0, 'BinarySI')],
    ['0.05Gi', q(536870912, -1, 'BinarySI')],
    ['0.025Ti', q(274877906944, -1, 'BinarySI')],
    // written by trolls
    ['0.000000000001Ki', q(2, -9, 'DecimalSI')],
    ['.001', q(1, -3, 'DecimalSI')],
    ['.0001k', q(100, -3, 'DecimalSI')],
    ['1.', q(1, 0, 'DecimalSI')],
    ['1.G', q(1, 9, 'DecimalSI')],
  ];

  it.each(table)('%s', (input, want) => {
    const got = Quantity.parse(input);
    expect(got.cmp(want)).toBe(0);
    expect(got.format).toBe(want.format);
    const neg = Quantity.parse('-' + input);
    expect(neg.cmp(want.neg())).toBe(0);
    expect(neg.format).toBe(want.format);
    const plus = Quantity.parse('+' + input);
    expect(plus.cmp(want)).toBe(0);
    expect(plus.format).toBe(want.format);
  });

  it.each(['1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', ' 1', '1 ', ''])('rejects %j', (input) => {
    expect(() => Quantity.parse(input)).toThrow();
    expect(isValidQuantity(input)).toBe(false);
  });

  it('throws upstream messages', () => {
    expect(() => Quantity.parse('1.1.M')).toThrow(
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    expect(() => Quantity.parse('')).toThrow(ERR_QUANTITY_FORMAT);
    expect(() => Quantity.parse('abc')).toThrow(ERR_QUANTITY_FORMAT);
    expect(() => Quantity.parse('1i')).toThrow(ERR_QUANTITY_SUFFIX);
    expect(() => Quantity.parse('5Kii')).toThrow("unable to parse quantity's suffix");
  });

  it('accepts JSON numbers', () => {
    expect(Quantity.parse(0.5).toString()).toBe('500m');
    expect(Quantity.parse(2).toString()).toBe('2');
    expect(Quantity.parse(1e21).cmp(q(1, 21, 'DecimalExponent'))).toBe(0);
    expect(() => Quantity.parse(Number.NaN)).toThrow(ERR_QUANTITY_FORMAT);
    expect(parseQuantity('1Gi').value()).toBe(1073741824n);
  });
});

describe('toString', () => {
  // upstream TestQuantityString: value -> canonical, plus an alternate spelling with the same canonical form
  const table: [Quantity, string, string][] = [
    [q(1024n ** 3n, 0, 'BinarySI'), '1Gi', '1024Mi'],
    [q(300 * 1024 * 1024, 0, 'BinarySI'), '300Mi', '307200Ki'],
    [q(6 * 1024, 0, 'BinarySI'), '6Ki', ''],
    [q(1001n * 1024n ** 3n, 0, 'BinarySI'), '1001Gi', '1025024Mi'],
    [q(1024n ** 4n, 0, 'BinarySI'), '1Ti', '1024Gi'],
    [q(5, 0, 'BinarySI'), '5', '5000m'],
    [q(500, -3, 'BinarySI'), '500m', '0.5'],
    [q(1, 9, 'DecimalSI'), '1G', '1000M'],
    [q(1000, 6, 'DecimalSI'), '1G', '0.001T'],
    [q(1000000, 3, 'DecimalSI'), '1G', ''],
    [q(1000000000, 0, 'DecimalSI'), '1G', ''],
    [q(1, -3, 'DecimalSI'), '1m', '1000u'],
    [q(80, -3, 'DecimalSI'), '80m', ''],
    [q(1080, -3, 'DecimalSI'), '1080m', '1.08'],
    [q(108, -2, 'DecimalSI'), '1080m', '1080000000n'],
    [q(10800, -4, 'DecimalSI'), '1080m', ''],
    [q(300, 6, 'DecimalSI'), '300M', ''],
    [q(1, 12, 'DecimalSI'), '1T', ''],
    [q(1234567, 6, 'DecimalSI'), '1234567M', ''],
    [q(1234567, -3, 'BinarySI'), '1234567m', ''],
    [q(3, 3, 'DecimalSI'), '3k', ''],
    [q(1025, 0, 'BinarySI'), '1025', ''],
    [q(0, 0, 'DecimalSI'), '0', ''],
    [q(0, 0, 'BinarySI'), '0', ''],
    [q(1, 9, 'DecimalExponent'), '1e9', '.001e12'],
    [q(1, -3, 'DecimalExponent'), '1e-3', '0.001e0'],
    [q(1, -9, 'DecimalExponent'), '1e-9', '1000e-12'],
    [q(80, -3, 'DecimalExponent'), '80e-3', ''],
    [q(300, 6, 'DecimalExponent'), '300e6', ''],
    [q(1, 12, 'DecimalExponent'), '1e12', ''],
    [q(1, 3, 'DecimalExponent'), '1e3', ''],
    [q(3, 3, 'DecimalExponent'), '3e3', ''],
    [q(0, 0, 'DecimalExponent'), '0', '00'],
    [q(1, -9, 'DecimalSI'), '1n', ''],
    [q(80, -9, 'DecimalSI'), '80n', ''],
    [q(1080, -9, 'DecimalSI'), '1080n', ''],
    [q(108, -8, 'DecimalSI'), '1080n', ''],
    [q(10800, -10, 'DecimalSI'), '1080n', ''],
    [q(1, -6, 'DecimalSI'), '1u', ''],
    [q(80, -6, 'DecimalSI'), '80u', ''],
    [q(1080, -6, 'DecimalSI'), '1080u', ''],
  ];

  it.each(table)('%s -> %s', (value, canonical, alternate) => {
    expect(value.toString()).toBe(canonical);
    expect(Quantity.parse(canonical).toString()).toBe(canonical);
    if (alternate) expect(Quantity.parse(alternate).toString()).toBe(canonical);
    if (!value.isZero()) expect(value.neg().toString()).toBe('-' + canonical);
  });

  // upstream TestQuantityParseEmit
  it.each([
    ['1Ki', '1Ki'],
    ['1Mi', '1Mi'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
  ])('%s emits %s', (input, want) => {
    expect(Quantity.parse(input).toString()).toBe(want);
    expect(Quantity.parse('-' + input).toString()).toBe('-' + want);
  });

  it.each([
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1.5Gi', '1536Mi'],
    ['100M', '100M'],
    ['1000', '1k'],
    ['1.000', '1'],
    ['2000Mi', '2000Mi'],
    ['250m', '250m'],
    ['0.1', '100m'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['123Mi', '123Mi'],
  ])('%s canonicalises to %s', (input, want) => {
    expect(Quantity.parse(input).toString()).toBe(want);
    expect(JSON.stringify({ q: Quantity.parse(input) })).toBe(`{"q":"${want}"}`);
  });

  it('keeps the input text where upstream does', () => {
    // upstream's fast path keeps the string it parsed when it is already in canonical shape
    expect(Quantity.parse('1E3').toString()).toBe('1E3');
    expect(Quantity.parse('+1').toString()).toBe('+1');
    expect(Quantity.parse('12E').toString()).toBe('12E');
  });
});

describe('arithmetic', () => {
  it('compares', () => {
    const cmp = (a: string, b: string) => Quantity.parse(a).cmp(Quantity.parse(b));
    expect(cmp('0', '0')).toBe(0);
    expect(cmp('100m', '50m')).toBe(1);
    expect(cmp('50m', '100m')).toBe(-1);
    expect(cmp('10000T', '100Gi')).toBe(1);
    expect(cmp('1Gi', '1073741824')).toBe(0);
    expect(cmp('1k', '1000')).toBe(0);
    expect(cmp('-1', '1m')).toBe(-1);
    expect(cmp('-2', '-1')).toBe(-1);
    expect(cmp('-1e30', '-1')).toBe(-1);
    expect(cmp('1e2000000000', '1')).toBe(1);
    expect(cmp('1e-2000000000', '0')).toBe(1);
  });

  // upstream TestAdd / TestSub
  it('adds and subtracts, keeping the format of the left operand unless it is zero', () => {
    const add = q(10, 0, 'DecimalSI').add(q(1, 1, 'DecimalSI'));
    expect(add.cmp(q(20, 0, 'DecimalSI'))).toBe(0);
    expect(q(10, 0, 'DecimalSI').add(q(1, 0, 'BinarySI')).format).toBe('DecimalSI');
    expect(q(10, 0, 'BinarySI').add(q(1, 0, 'DecimalSI')).format).toBe('BinarySI');
    expect(Quantity.zero().add(Quantity.parse('1Gi')).toString()).toBe('1Gi');
    expect(Quantity.parse('100m').add(Quantity.zero()).toString()).toBe('100m');
    expect(q(10, 0, 'DecimalSI').sub(q(1, 1, 'DecimalSI')).isZero()).toBe(true);
    expect(q(10, 0, 'BinarySI').sub(q(1, 0, 'DecimalSI')).cmp(q(9, 0, 'BinarySI'))).toBe(0);
    expect(Quantity.zero().sub(q(50, 0, 'DecimalSI')).toString()).toBe('-50');
    expect(Quantity.zero().sub(Quantity.parse('1Gi')).toString()).toBe('-1Gi');
    expect(Quantity.parse('1Gi').sub(Quantity.parse('512Mi')).toString()).toBe('512Mi');
    expect(Quantity.parse('1').sub(Quantity.parse('250m')).toString()).toBe('750m');
    expect(Quantity.parse('1.5').mul(2).toString()).toBe('3');
  });

  it('reports sign and zero', () => {
    expect(Quantity.parse('0Mi').isZero()).toBe(true);
    expect(Quantity.parse('-1m').sign()).toBe(-1);
    expect(Quantity.parse('1m').sign()).toBe(1);
    expect(Quantity.parse('0').sign()).toBe(0);
  });

  // upstream TestScaledValue
  it.each([
    [-9, -9, 1n],
    [-9, -6, 1n],
    [-9, -3, 1n],
    [-9, 0, 1n],
    [-6, -9, 1000n],
    [-6, -3, 1n],
    [-3, -9, 1000000n],
    [-3, 0, 1n],
    [0, -9, 1000000000n],
    [0, -3, 1000n],
    [0, 0, 1n],
    [2, -2, 10000n],
  ])('1e%i in units of 1e%i is %s', (from, to, want) => {
    expect(Quantity.fromScaledValue(1, from).scaledValue(to)).toBe(want);
  });

  it('rounds value() and milliValue() up', () => {
    expect(Quantity.parse('1500m').value()).toBe(2n);
    expect(Quantity.parse('1.1').value()).toBe(2n);
    expect(Quantity.parse('2').value()).toBe(2n);
    expect(Quantity.parse('-1.5').value()).toBe(-2n);
    expect(Quantity.parse('100m').milliValue()).toBe(100n);
    expect(Quantity.parse('1.5n').milliValue()).toBe(1n);
    expect(Quantity.parse('2Gi').milliValue()).toBe(2147483648000n);
    expect(Quantity.parse('1e30').value()).toBe(2n ** 63n - 1n);
  });

  // upstream TestMilliNewSet
  it.each<[number, QuantityFormat, string]>([
    [1, 'DecimalSI', '1m'],
    [1000, 'DecimalSI', '1'],
    [1234000, 'DecimalSI', '1234'],
    [1024, 'BinarySI', '1024m'],
    [1024 * 1024, 'BinarySI', '1048576m'],
  ])('fromMilliValue(%i, %s) is %s', (v, format, want) => {
    expect(Quantity.fromMilliValue(v, format).toString()).toBe(want);
  });

  it('builds from values', () => {
    expect(Quantity.fromValue(1024 * 1024, 'BinarySI').toString()).toBe('1Mi');
    expect(Quantity.fromValue(5000000, 'DecimalSI').toString()).toBe('5M');
    expect(Quantity.fromValue(1234, 'DecimalExponent').toString()).toBe('1234');
    expect(Quantity.fromValue(12000, 'DecimalExponent').toString()).toBe('12e3');
  });
});
