import { describe, expect, it } from 'vitest';
import { usageApiTime, MAX_AGE_MS, meteringSn, parseUtc, WINDOW_MS, windowStart } from '#lib/usage/windows.ts';
import { iso } from '#lib/shared/time.ts';

/** Usage windows: UTC instants, the marketplace's time format, window starts and the records' idempotency key. */

const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('parseUtc', () => {
  it.each([
    ['2026-11-20T08:00:00Z', Date.UTC(2026, 10, 20, 8)],
    ['2026-11-20T08:00:00.000Z', Date.UTC(2026, 10, 20, 8)],
    ['2026-11-20T08:00:00.5Z', Date.UTC(2026, 10, 20, 8, 0, 0, 500)],
    ['2026-11-20T08:00:00.12Z', Date.UTC(2026, 10, 20, 8, 0, 0, 120)],
    ['2026-11-20T23:59:59.999Z', Date.UTC(2026, 10, 20, 23, 59, 59, 999)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
  ])('reads %s', (value, ms) => {
    expect(parseUtc(value)).toBe(ms);
  });

  it.each([
    ['an offset instead of Z', '2026-11-20T08:00:00+00:00'],
    ['a non-zero offset', '2026-11-20T09:00:00+01:00'],
    ['no zone at all (local time)', '2026-11-20T08:00:00'],
    ['a lower-case z', '2026-11-20T08:00:00z'],
    ['no seconds', '2026-11-20T08:00Z'],
    ['a date only', '2026-11-20'],
    ['a space instead of T', '2026-11-20 08:00:00Z'],
    ['microseconds', '2026-11-20T08:00:00.000000Z'],
    ['the marketplace format', '20261120T080000Z'],
    ['epoch milliseconds', '1795161600000'],
    ['a month 13', '2026-13-01T00:00:00Z'],
    ['a day 32', '2026-01-32T00:00:00Z'],
    ['a day 0', '2026-01-00T00:00:00Z'],
    ['February 30th', '2026-02-30T00:00:00Z'],
    ['February 29th of a common year', '2026-02-29T00:00:00Z'],
    ['April 31st', '2026-04-31T00:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T23:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['a leading space', ' 2026-11-20T08:00:00Z'],
    ['a trailing newline', '2026-11-20T08:00:00Z\n'],
    ['an empty string', ''],
  ])('refuses %s', (_, value) => {
    expect(parseUtc(value)).toBeUndefined();
  });

  it('round-trips with iso', () => {
    const ms = Date.UTC(2026, 10, 20, 8, 30, 15, 250);
    expect(iso(ms)).toBe('2026-11-20T08:30:15.250Z');
    expect(parseUtc(iso(ms))).toBe(ms);
  });
});

describe('usageApiTime', () => {
  it("writes yyyyMMdd'T'HHmmss'Z' as in the spec's example", () => {
    expect(usageApiTime(Date.parse('2022-08-09T09:10:00Z'))).toBe('20220809T091000Z');
    expect(usageApiTime(Date.parse('2022-08-09T08:00:00Z'))).toBe('20220809T080000Z');
  });

  it('drops milliseconds and pads every field', () => {
    expect(usageApiTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('20260102T030405Z');
    expect(usageApiTime(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toBe('20261231T235959Z');
    expect(usageApiTime(0)).toBe('19700101T000000Z');
  });

  it('is always in UTC', () => {
    expect(usageApiTime(Date.UTC(2026, 5, 30, 22))).toMatch(/^\d{8}T\d{6}Z$/);
    expect(usageApiTime(Date.UTC(2026, 5, 30, 22))).toBe('20260630T220000Z');
  });
});

describe('windowStart', () => {
  it('is the start of the UTC hour for hourly windows', () => {
    expect(windowStart(Date.UTC(2026, 10, 20, 8, 59, 59, 999), 'hourly')).toBe(Date.UTC(2026, 10, 20, 8));
    expect(windowStart(Date.UTC(2026, 10, 20, 8, 0, 0, 1), 'hourly')).toBe(Date.UTC(2026, 10, 20, 8));
    expect(windowStart(Date.UTC(2026, 10, 20, 8), 'hourly')).toBe(Date.UTC(2026, 10, 20, 8));
  });

  it('is UTC midnight for daily windows', () => {
    expect(windowStart(Date.UTC(2026, 10, 20, 23, 59, 59, 999), 'daily')).toBe(Date.UTC(2026, 10, 20));
    expect(windowStart(Date.UTC(2026, 10, 20, 0, 0, 0, 1), 'daily')).toBe(Date.UTC(2026, 10, 20));
    expect(windowStart(Date.UTC(2026, 10, 20), 'daily')).toBe(Date.UTC(2026, 10, 20));
  });

  it('has windows of one hour and one day, and a 21-day age limit', () => {
    expect(WINDOW_MS).toEqual({ hourly: HOUR, daily: DAY });
    expect(MAX_AGE_MS).toBe(21 * DAY);
  });
});

describe('meteringSn', () => {
  const BEGIN = '2026-11-20T08:00:00.000Z';
  const END = '2026-11-20T09:00:00.000Z';

  it('is 32 lower-case hex characters', () => {
    expect(meteringSn('inst-1', BEGIN, END, 0)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is the same for the same record, so a repeated push carries the same number', () => {
    expect(meteringSn('inst-1', BEGIN, END, 0)).toBe(meteringSn('inst-1', BEGIN, END, 0));
  });

  it('differs when the instance, the begin, the end or the revision differ', () => {
    const sns = [
      meteringSn('inst-1', BEGIN, END, 0),
      meteringSn('inst-2', BEGIN, END, 0),
      meteringSn('inst-1', '2026-11-20T09:00:00.000Z', END, 0),
      meteringSn('inst-1', BEGIN, '2026-11-21T08:00:00.000Z', 0),
      meteringSn('inst-1', BEGIN, END, 1),
      meteringSn('inst-1', BEGIN, END, 10),
    ];

    expect(new Set(sns).size).toBe(sns.length);
  });

  it('cannot be confused by moving a separator from one field into another', () => {
    expect(meteringSn('a', 'b\nc', END, 0)).not.toBe(meteringSn('a\nb', 'c', END, 0));
    expect(meteringSn('a', BEGIN, `${END}\n1`, 0)).not.toBe(meteringSn('a', BEGIN, END, 0));
    expect(meteringSn('a\n', BEGIN, END, 0)).not.toBe(meteringSn('a', `\n${BEGIN}`, END, 0));
    expect(meteringSn('a","b', 'c', END, 0)).not.toBe(meteringSn('a', 'b","c', END, 0));
    expect(meteringSn('1', '2', '3', 4)).not.toBe(meteringSn('12', '', '3', 4));
  });
});
