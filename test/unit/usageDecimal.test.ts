import { describe, expect, it } from 'vitest';
import { formatQuantity, parseQuantity, SCALE } from '#lib/usage/decimal.ts';

/** Usage quantities: decimal strings with at most 4 places, held exactly as bigint counts of 0.0001. */

describe('parseQuantity', () => {
  it.each([
    ['1', 10_000n],
    ['0.0001', 1n],
    ['0.5', 5_000n],
    ['12.34', 123_400n],
    ['12.3400', 123_400n],
    ['99', 990_000n],
    ['10', 100_000n],
    ['100.01', 1_000_100n],
    ['999999999999.9999', 9_999_999_999_999_999n],
    ['999999999999', 9_999_999_999_990_000n],
  ])('reads %s as %s units', (value, units) => {
    expect(parseQuantity(value)).toBe(units);
  });

  it.each([
    ['zero', '0'],
    ['zero with decimals', '0.0000'],
    ['zero with five decimals', '0.00000'],
    ['a negative number', '-1'],
    ['an explicit plus sign', '+1'],
    ['an exponent', '1e3'],
    ['an upper-case exponent', '1E3'],
    ['five decimals', '1.23456'],
    ['a value below 0.0001', '0.00001'],
    ['a leading space', ' 1'],
    ['a trailing space', '1 '],
    ['a trailing newline', '1\n'],
    ['a trailing point', '1.'],
    ['no integer part', '.5'],
    ['a leading zero', '01'],
    ['a leading zero before decimals', '00.5'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['an empty string', ''],
    ['a full-width digit', '１'],
    ['an Arabic-Indic digit', '٣'],
    ['a comma as decimal separator', '1,5'],
    ['a thousands separator', '1,000'],
    ['an underscore separator', '1_000'],
    ['hexadecimal', '0x10'],
    ['13 integer digits', '1000000000000'],
    ['two points', '1.2.3'],
  ])('refuses %s', (_, value) => {
    expect(parseQuantity(value)).toBeUndefined();
  });
});

describe('formatQuantity', () => {
  it.each([
    [1n, '0.0001'],
    [10_000n, '1'],
    [123_400n, '12.34'],
    [5_000n, '0.5'],
    [1_000_100n, '100.01'],
    [0n, '0'],
    [-5_000n, '-0.5'],
    [-123_400n, '-12.34'],
    [9_999_999_999_999_999n, '999999999999.9999'],
    [10n ** 30n, '1' + '0'.repeat(30 - SCALE)],
  ])('writes %s units as %s', (units, value) => {
    expect(formatQuantity(units)).toBe(value);
  });

  it('round-trips every value it reads, in its shortest form', () => {
    const values = [
      '0.0001',
      '0.001',
      '0.01',
      '0.1',
      '1',
      '1.5',
      '2.25',
      '3.125',
      '4.0625',
      '10',
      '10.01',
      '123456789012.3456',
      '999999999999.9999',
    ];
    for (let i = 1; i < 2000; i += 7)
      values.push(
        String(i),
        `${i}.${
          String(i % 10_000)
            .padStart(4, '0')
            .replace(/0+$/, '') || '5'
        }`,
      );

    for (const value of values) {
      const units = parseQuantity(value);
      expect(units, value).toBeDefined();
      expect(formatQuantity(units!), value).toBe(value);
    }
  });

  it('drops trailing zeros of the fraction only', () => {
    expect(formatQuantity(parseQuantity('100.1000')!)).toBe('100.1');
    expect(formatQuantity(parseQuantity('100.0000')!)).toBe('100');
    expect(formatQuantity(parseQuantity('1000')!)).toBe('1000');
  });
});

describe('sums of quantities', () => {
  it('are exact: "0.1" ten thousand times is exactly 1000', () => {
    let total = 0n;
    for (let i = 0; i < 10_000; i++) total += parseQuantity('0.1')!;

    expect(formatQuantity(total)).toBe('1000');
    // What a float would have given.
    let float = 0;
    for (let i = 0; i < 10_000; i++) float += 0.1;
    expect(float).not.toBe(1000);
  });

  it('keep the last place of the largest values', () => {
    expect(formatQuantity(parseQuantity('0.0001')! + parseQuantity('99999999999.9999')!)).toBe('100000000000');
    expect(formatQuantity(parseQuantity('0.0001')! + parseQuantity('999999999999.9999')!)).toBe('1000000000000');
    expect(formatQuantity(parseQuantity('999999999999.9999')! * 1000n)).toBe('999999999999999.9');
    expect(formatQuantity(parseQuantity('0.3')! - parseQuantity('0.1')! - parseQuantity('0.2')!)).toBe('0');
    expect(formatQuantity(parseQuantity('1.0001')! + parseQuantity('2.9999')!)).toBe('4');
  });
});
