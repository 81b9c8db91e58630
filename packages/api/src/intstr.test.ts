import { describe, expect, it } from 'vitest';
import { intOrStringIsPercent, scaledValueFromIntOrPercent } from './intstr.js';

describe('scaledValueFromIntOrPercent', () => {
  // upstream TestGetIntFromIntOrPercent
  it.each<[number | string, number, boolean, number]>([
    [123, 0, false, 123],
    ['90%', 100, true, 90],
    ['90%', 95, true, 86],
    ['90%', 95, false, 85],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['0%', 10, true, 0],
    ['100%', 7, false, 7],
    ['+10%', 10, false, 1],
  ])('%j of %i (roundUp %s) is %i', (v, total, roundUp, want) => {
    expect(scaledValueFromIntOrPercent(v, total, roundUp)).toBe(want);
  });

  it('rejects strings that are not percentages, with upstream messages', () => {
    expect(() => scaledValueFromIntOrPercent('90', 100, true)).toThrow(
      'invalid value for IntOrString: invalid type: string is not a percentage',
    );
    expect(() => scaledValueFromIntOrPercent('90#', 100, true)).toThrow('invalid type: string is not a percentage');
    expect(() => scaledValueFromIntOrPercent('%', 100, true)).toThrow(
      'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax',
    );
    expect(() => scaledValueFromIntOrPercent('#%', 100, true)).toThrow(
      'invalid value for IntOrString: invalid value "#%": strconv.Atoi: parsing "#": invalid syntax',
    );
    expect(() => scaledValueFromIntOrPercent('1.5%', 100, true)).toThrow('strconv.Atoi: parsing "1.5": invalid syntax');
    expect(() => scaledValueFromIntOrPercent(undefined, 100, true)).toThrow('nil value for IntOrString');
  });
});

describe('intOrStringIsPercent', () => {
  it('is true only for strings ending in %', () => {
    expect(intOrStringIsPercent('25%')).toBe(true);
    expect(intOrStringIsPercent('25')).toBe(false);
    expect(intOrStringIsPercent(25)).toBe(false);
    expect(intOrStringIsPercent(undefined)).toBe(false);
  });
});
