/**
 * Usage quantities are decimals with at most 4 places (spec §8.2 `usage_value`, Double(12,4)). They are held as
 * integer counts of 0.0001 ("units") in bigint, so sums are exact; no rounding ever happens because nothing finer
 * than 0.0001 is accepted. DynamoDB stores the units as a Number (exact up to 38 digits).
 */

export const SCALE = 4;
const FACTOR = 10n ** BigInt(SCALE);

/** A value the seller may report: > 0, at most 12 integer digits and 4 decimals, no sign, exponent or spaces. */
const VALUE = /^(0|[1-9]\d{0,11})(?:\.(\d{1,4}))?$/;

/** The units of a reported value, or undefined if it is not a positive decimal with at most 4 places. */
export function parseQuantity(value: string): bigint | undefined {
  const m = VALUE.exec(value);
  if (!m) return undefined;
  const units = BigInt(m[1]!) * FACTOR + BigInt((m[2] ?? '').padEnd(SCALE, '0') || '0');
  return units > 0n ? units : undefined;
}

/** Units back to the shortest decimal string: 123400n → "12.34", 10000n → "1". */
export function formatQuantity(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / FACTOR;
  const fraction = (abs % FACTOR).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
