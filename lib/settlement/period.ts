import { parseUtc } from '#lib/usage/windows.ts';
import { iso } from '#lib/shared/time.ts';
import type { Period } from './model.ts';

/**
 * Statement periods: calendar months (`YYYY-MM`) in the seller's time zone (default Asia/Shanghai, where the
 * marketplace bills the previous calendar month, spec §8.4). Periods run from 1970-01 to 9999-12; instants are
 * ISO UTC strings. Zone rules come from the runtime's time-zone data (Intl), daylight saving included.
 */

export const FIRST_YEAR = 1970;
export const LAST_YEAR = 9999;

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** True for a well-formed period in the supported range: `2026-03`. */
export function isPeriod(value: unknown): value is Period {
  if (typeof value !== 'string') return false;
  const m = PERIOD.exec(value);
  return m !== null && Number(m[1]) >= FIRST_YEAR && Number(m[1]) <= LAST_YEAR;
}

/** Months since 1970-01 (0-based), the period's position on a line. Throws RangeError on a malformed period. */
function monthIndex(period: Period): number {
  if (!isPeriod(period)) throw new RangeError(`not a period (YYYY-MM, ${FIRST_YEAR}-01 to ${LAST_YEAR}-12): "${String(period)}"`);
  return (Number(period.slice(0, 4)) - FIRST_YEAR) * 12 + Number(period.slice(5, 7)) - 1;
}

function periodAt(index: number): Period {
  const year = FIRST_YEAR + Math.floor(index / 12);
  if (index < 0 || year > LAST_YEAR) throw new RangeError(`period outside ${FIRST_YEAR}-01 to ${LAST_YEAR}-12`);
  return `${year}-${String((index % 12) + 1).padStart(2, '0')}`;
}

export const nextPeriod = (period: Period): Period => periodAt(monthIndex(period) + 1);
export const previousPeriod = (period: Period): Period => periodAt(monthIndex(period) - 1);

/** Every period from `from` to `to`, both included; empty when `to` is before `from`. */
export function periodsBetween(from: Period, to: Period): Period[] {
  const first = monthIndex(from);
  const last = monthIndex(to);
  const periods: Period[] = [];
  for (let i = first; i <= last; i++) periods.push(periodAt(i));
  return periods;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The year-month formatter of a zone; throws RangeError naming an unknown zone. */
function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    if (typeof timeZone !== 'string' || timeZone.trim() === '') throw new RangeError(`unknown time zone: "${String(timeZone)}"`);
    try {
      format = new Intl.DateTimeFormat('en-US-u-ca-gregory-nu-latn', { timeZone, year: 'numeric', month: 'numeric' });
    } catch {
      throw new RangeError(`unknown time zone: "${timeZone}"`);
    }
    formats.set(timeZone, format);
  }
  return format;
}

/** True when the runtime knows the zone (an IANA name such as Asia/Shanghai, or UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatIn(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Month index of the local date at `ms` in the zone (may fall outside the supported range; callers check). */
function localMonthIndex(ms: number, timeZone: string): number {
  let year = NaN;
  let month = NaN;
  for (const part of formatIn(timeZone).formatToParts(ms)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
  }
  return (year - FIRST_YEAR) * 12 + month - 1;
}

/** Epoch ms of an ISO UTC instant; throws RangeError on anything else (spec: instants are stored as ISO UTC). */
export function instantMs(instantIso: string): number {
  const ms = typeof instantIso === 'string' ? parseUtc(instantIso) : undefined;
  if (ms === undefined) throw new RangeError(`not an ISO UTC instant: "${String(instantIso)}"`);
  return ms;
}

/** The period containing the instant in the zone: 2026-03-31T16:00:00Z is 2026-04 in Asia/Shanghai, 2026-03 in UTC. */
export function periodOf(instantIso: string, timeZone: string): Period {
  return periodAt(localMonthIndex(instantMs(instantIso), timeZone));
}

const HOURS_36 = 36 * 3_600_000;

/**
 * The first instant whose local date lies in month `index` or later. Local months only move forward as time
 * does, so a binary search over the 72 hours around the naive UTC midnight finds it exactly, whatever the offset
 * and wherever a daylight-saving jump falls (a zone whose clocks skip midnight starts the month at 01:00).
 */
function monthStartMs(index: number, timeZone: string): number {
  const year = FIRST_YEAR + Math.floor(index / 12);
  let lo = Date.UTC(year, index % 12, 1) - HOURS_36; // local month < index here
  let hi = Date.UTC(year, index % 12, 1) + HOURS_36; // local month ≥ index here
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localMonthIndex(mid, timeZone) >= index) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The period's instants in the zone, as ISO UTC: start included, end excluded. */
export function periodBounds(period: Period, timeZone: string): { start: string; end: string } {
  const index = monthIndex(period);
  formatIn(timeZone);
  return { start: iso(monthStartMs(index, timeZone)), end: iso(monthStartMs(index + 1, timeZone)) };
}
