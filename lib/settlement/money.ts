/**
 * Money in statements: exact decimals on bigint, never floats (ARCHITECTURE law 5).
 *
 * A decimal is an integer count of 10^-scale. Amounts are rounded once, to cents, with the rule "half up, away
 * from zero": 0.005 → 0.01, 0.0049 → 0.00, -0.005 → -0.01. Rounding a negative amount therefore gives exactly
 * the negative of rounding its absolute value, so a full refund mirrors its order line to the cent.
 */

/** value = units / 10^scale */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

export const MAX_INTEGER_DIGITS = 18;
export const MAX_FRACTION_DIGITS = 18;

/** Optional minus, no leading zeros, up to 18 integer and 18 fraction digits; no plus, exponent, spaces or separators. */
const DECIMAL = /^(-?)(0|[1-9]\d{0,17})(?:\.(\d{1,18}))?$/;

/** The exact value of a decimal string ("19.9", "-12.30", "0"), or undefined if it is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const magnitude = BigInt(m[2]! + fraction);
  return { units: m[1] === '-' ? -magnitude : magnitude, scale: fraction.length };
}

/** n / d rounded half up, away from zero (d > 0). */
function divideHalfUp(n: bigint, d: bigint): bigint {
  const abs = n < 0n ? -n : n;
  const q = abs / d;
  const rounded = 2n * (abs % d) >= d ? q + 1n : q;
  return n < 0n ? -rounded : rounded;
}

/** The value as an integer count of 10^-places, rounded half up (away from zero). */
export function roundTo(value: Decimal, places: number): bigint {
  if (value.scale <= places) return value.units * 10n ** BigInt(places - value.scale);
  return divideHalfUp(value.units, 10n ** BigInt(value.scale - places));
}

/** Cents of a decimal, rounded half up (away from zero). */
export const toCents = (value: Decimal): bigint => roundTo(value, 2);

/** Cents of a decimal string, or undefined if it is not a decimal. */
export function parseCents(text: string): bigint | undefined {
  const value = parseDecimal(text);
  return value === undefined ? undefined : toCents(value);
}

/** The exact product of two decimals. */
export const multiply = (a: Decimal, b: Decimal): Decimal => ({ units: a.units * b.units, scale: a.scale + b.scale });

/** A rate as a fraction from 0 to 1 inclusive ("0.15", "0.0675", "0", "1"), or undefined. */
export function parseRate(text: string): Decimal | undefined {
  const rate = parseDecimal(text);
  if (rate === undefined || rate.units < 0n || rate.units > 10n ** BigInt(rate.scale)) return undefined;
  return rate;
}

/** cents × rate, rounded half up (away from zero) to cents. */
export const applyRate = (cents: bigint, rate: Decimal): bigint => toCents(multiply({ units: cents, scale: 2 }, rate));

/** Cents as a decimal string with exactly 2 decimals: -1230n → "-12.30". */
export function formatCents(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents;
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

const MONEY = /^-?(0|[1-9]\d*)\.\d{2}$/;

/**
 * Cents of a statement amount (exactly 2 decimals, as formatCents writes them), or undefined. No digit limit:
 * sums and usage amounts may grow past the 18 integer digits accepted as input.
 */
export function parseMoney(text: string): bigint | undefined {
  return typeof text === 'string' && MONEY.test(text) && text !== '-0.00' ? BigInt(text.replace('.', '')) : undefined;
}
