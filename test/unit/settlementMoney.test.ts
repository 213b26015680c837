import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyRate,
  formatCents,
  multiply,
  parseCents,
  parseDecimal,
  parseMoney,
  parseRate,
  roundTo,
  toCents,
} from '#lib/settlement/money.ts';

/** Statement money: exact decimals on bigint, rounded half up (away from zero) to cents. */

describe('parseDecimal', () => {
  it.each([
    ['0', 0n, 0],
    ['19.9', 199n, 1],
    ['100.00', 10000n, 2],
    ['-12.30', -1230n, 2],
    ['0.0675', 675n, 4],
    ['-0', 0n, 0],
    ['999999999999999999', 999999999999999999n, 0],
    ['0.000000000000000001', 1n, 18],
  ])('reads %s exactly', (text, units, scale) => {
    expect(parseDecimal(text)).toStrictEqual({ units, scale });
  });

  it.each([
    ['an exponent', '1e3'],
    ['an upper-case exponent', '1E-2'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['an empty string', ''],
    ['a plus sign', '+1'],
    ['a double minus', '--1'],
    ['19 integer digits', '1000000000000000000'],
    ['19 decimals', '0.1234567890123456789'],
    ['a leading zero', '01.5'],
    ['no integer part', '.5'],
    ['a trailing point', '5.'],
    ['a space', ' 1'],
    ['a thousands separator', '1,000.00'],
    ['a decimal comma', '1,5'],
    ['a currency sign', '¥12.00'],
    ['hexadecimal', '0x10'],
    ['a full-width digit', '１'],
    ['two points', '1.2.3'],
  ])('refuses %s', (_, text) => {
    expect(parseDecimal(text)).toBeUndefined();
    expect(parseCents(text)).toBeUndefined();
  });
});

describe('rounding to cents: half up, away from zero', () => {
  it.each([
    ['0.005', 1n],
    ['0.0049', 0n],
    ['0.015', 2n],
    ['2.985', 299n],
    ['-0.005', -1n],
    ['-0.0049', 0n],
    ['-2.985', -299n],
    ['19.9', 1990n],
    ['0.004999999999999999', 0n],
    ['999999999999999999.995', 10n ** 20n],
  ])('%s → %s cents', (text, cents) => {
    expect(parseCents(text)).toBe(cents);
  });

  it('rounds to any number of places', () => {
    expect(roundTo({ units: 15431_25n, scale: 5 }, 2)).toBe(1543n);
    expect(roundTo({ units: 5n, scale: 1 }, 0)).toBe(1n);
    expect(roundTo({ units: -5n, scale: 1 }, 0)).toBe(-1n);
    expect(roundTo({ units: 7n, scale: 0 }, 2)).toBe(700n);
  });

  it('rounds a negative amount to exactly the negative of its absolute value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.integer({ min: 0, max: 18 }), (units, scale) => {
        expect(toCents({ units: -units, scale })).toBe(-toCents({ units, scale }));
      }),
    );
  });

  it('agrees with a reference built from the decimal digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 3, max: 12 }), (units, scale) => {
        const digits = units.toString().padStart(scale + 1, '0');
        const kept = BigInt(digits.slice(0, digits.length - scale + 2));
        const nextDigit = Number(digits[digits.length - scale + 2]);
        expect(toCents({ units, scale })).toBe(nextDigit >= 5 ? kept + 1n : kept);
      }),
    );
  });
});

describe('rates', () => {
  it.each(['0', '1', '0.15', '0.0675', '1.000', '0.000001'])('accepts %s', (text) => {
    expect(parseRate(text)).toBeDefined();
  });

  it.each(['-0.1', '1.01', '2', '15%', '0,15', 'abc', ''])('refuses %s', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });

  it('applies a rate to cents, rounding the product once', () => {
    expect(applyRate(1990n, parseRate('0.15')!)).toBe(299n); // 2.985
    expect(applyRate(-1990n, parseRate('0.15')!)).toBe(-299n);
    expect(applyRate(1691n, parseRate('0.06')!)).toBe(101n); // 1.0146
    expect(applyRate(3333n, parseRate('0.0675')!)).toBe(225n); // 2.249775
    expect(applyRate(12345n, parseRate('0')!)).toBe(0n);
    expect(applyRate(12345n, parseRate('1')!)).toBe(12345n);
  });

  it('multiplies exactly', () => {
    expect(multiply(parseDecimal('1234.5')!, parseDecimal('0.0125')!)).toStrictEqual({ units: 1543125n, scale: 5 }); // 15.43125;
  });
});

describe('formatCents / parseMoney', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.01'],
    [-1n, '-0.01'],
    [-1230n, '-12.30'],
    [1990n, '19.90'],
    [10n ** 20n, '1000000000000000000.00'],
  ])('writes %s cents as %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it('reads back what it writes, and only that form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), (cents) => {
        expect(parseMoney(formatCents(cents))).toBe(cents);
      }),
    );
    expect(parseMoney('123456789012345678901234.56')).toBe(12345678901234567890123456n);
    for (const text of ['12.3', '12', '12.300', '-0.00', '+1.00', '01.00', '1e2', '']) expect(parseMoney(text), text).toBeUndefined();
  });
});
