import { describe, expect, it } from 'vitest';
import {
  instantMs,
  isPeriod,
  isTimeZone,
  nextPeriod,
  periodBounds,
  periodOf,
  periodsBetween,
  previousPeriod,
} from '#lib/settlement/period.ts';

/** Statement periods: calendar months in the seller's time zone, daylight saving included. */

describe('isPeriod', () => {
  it.each(['2026-03', '2026-12', '1970-01', '9999-12'])('accepts %s', (p) => {
    expect(isPeriod(p)).toBe(true);
  });

  it.each([
    ['month 13', '2026-13'],
    ['month 0', '2026-00'],
    ['a one-digit month', '2026-3'],
    ['a date', '2026-03-01'],
    ['no dash', '202603'],
    ['a slash', '2026/03'],
    ['a year before 1970', '1969-12'],
    ['a five-digit year', '10000-01'],
    ['a trailing newline', '2026-03\n'],
    ['an empty string', ''],
    ['a number', 202603],
    ['undefined', undefined],
  ])('refuses %s', (_, p) => {
    expect(isPeriod(p)).toBe(false);
  });
});

describe('nextPeriod / previousPeriod / periodsBetween', () => {
  it('steps across year ends', () => {
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(nextPeriod('2026-03')).toBe('2026-04');
    expect(previousPeriod('2027-01')).toBe('2026-12');
    expect(previousPeriod('2026-10')).toBe('2026-09');
  });

  it('lists the periods between two periods, both included', () => {
    expect(periodsBetween('2026-11', '2027-02')).toStrictEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(periodsBetween('2026-03', '2026-03')).toStrictEqual(['2026-03']);
    expect(periodsBetween('2026-04', '2026-03')).toStrictEqual([]);
  });

  it('refuses malformed periods and steps outside the range', () => {
    expect(() => nextPeriod('2026-13')).toThrow(RangeError);
    expect(() => previousPeriod('march')).toThrow(RangeError);
    expect(() => periodsBetween('2026-01', '2026-1')).toThrow(RangeError);
    expect(() => previousPeriod('1970-01')).toThrow(RangeError);
    expect(() => nextPeriod('9999-12')).toThrow(RangeError);
  });
});

describe('periodOf', () => {
  it.each([
    ['2026-03-31T15:59:59Z', 'Asia/Shanghai', '2026-03'],
    ['2026-03-31T15:59:59.999Z', 'Asia/Shanghai', '2026-03'],
    ['2026-03-31T16:00:00Z', 'Asia/Shanghai', '2026-04'],
    ['2026-03-31T16:00:00Z', 'UTC', '2026-03'],
    ['2026-03-31T23:59:59Z', 'UTC', '2026-03'],
    ['2026-04-01T00:00:00Z', 'UTC', '2026-04'],
    ['2026-12-31T16:00:00Z', 'Asia/Shanghai', '2027-01'],
    ['2026-04-01T03:59:59Z', 'America/New_York', '2026-03'],
    ['2026-04-01T04:00:00Z', 'America/New_York', '2026-04'],
    ['2026-03-31T18:29:59Z', 'Asia/Kolkata', '2026-03'],
    ['2026-03-31T18:30:00Z', 'Asia/Kolkata', '2026-04'],
    ['2026-03-31T16:00:00Z', 'asia/shanghai', '2026-04'],
  ])('puts %s in %s into %s', (instant, zone, period) => {
    expect(periodOf(instant, zone)).toBe(period);
  });

  it.each([
    ['a date only', '2026-03-31'],
    ['an offset instead of Z', '2026-03-31T16:00:00+08:00'],
    ['February 30th', '2026-02-30T00:00:00Z'],
    ['hour 24', '2026-03-31T24:00:00Z'],
    ['epoch milliseconds', '1774972800000'],
    ['an empty string', ''],
  ])('refuses %s', (_, instant) => {
    expect(() => periodOf(instant, 'UTC')).toThrow(RangeError);
  });

  it('refuses an instant before 1970 in the zone', () => {
    expect(() => periodOf('1969-12-31T15:00:00Z', 'UTC')).toThrow(/period outside/);
    expect(periodOf('1969-12-31T16:00:00Z', 'Asia/Shanghai')).toBe('1970-01');
  });

  it.each(['Mars/Olympus', 'Asia/Shang_hai', '', ' ', 'GMT+25'])('refuses the unknown time zone "%s"', (zone) => {
    expect(() => periodOf('2026-03-31T16:00:00Z', zone)).toThrow(RangeError);
    expect(isTimeZone(zone)).toBe(false);
  });

  it('names the unknown zone', () => {
    expect(() => periodOf('2026-03-31T16:00:00Z', 'Mars/Olympus')).toThrow('unknown time zone: "Mars/Olympus"');
  });
});

describe('periodBounds', () => {
  it.each([
    ['2026-04', 'Asia/Shanghai', '2026-03-31T16:00:00.000Z', '2026-04-30T16:00:00.000Z'],
    ['2026-04', 'UTC', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'],
    ['2026-12', 'Asia/Shanghai', '2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    // New York: EST (−5) at the start of March, EDT (−4) by its end.
    ['2026-03', 'America/New_York', '2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z'],
    ['2026-11', 'America/New_York', '2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z'],
    // Lord Howe's daylight saving shifts by half an hour.
    ['2026-04', 'Australia/Lord_Howe', '2026-03-31T13:00:00.000Z', '2026-04-30T13:30:00.000Z'],
    ['2026-04', 'Asia/Kolkata', '2026-03-31T18:30:00.000Z', '2026-04-30T18:30:00.000Z'],
    // Samoa skipped 30 December 2011: the month was a day shorter.
    ['2011-12', 'Pacific/Apia', '2011-12-01T10:00:00.000Z', '2011-12-31T10:00:00.000Z'],
    ['1970-01', 'Asia/Shanghai', '1969-12-31T16:00:00.000Z', '1970-01-31T16:00:00.000Z'],
  ])('%s in %s runs from %s to %s', (period, zone, start, end) => {
    expect(periodBounds(period, zone)).toStrictEqual({ start, end });
  });

  it('agrees with periodOf at both ends, in zones with and without daylight saving', () => {
    const zones = [
      'Asia/Shanghai',
      'UTC',
      'America/New_York',
      'Europe/London',
      'America/Santiago',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'America/St_Johns',
      'Asia/Kathmandu',
      'Pacific/Apia',
    ];
    const periods = periodsBetween('2024-01', '2026-12');
    for (const zone of zones) {
      for (const period of periods) {
        const { start, end } = periodBounds(period, zone);
        const before = new Date(Date.parse(start) - 1).toISOString();
        const last = new Date(Date.parse(end) - 1).toISOString();
        expect(periodOf(start, zone), `${period} ${zone}`).toBe(period);
        expect(periodOf(last, zone), `${period} ${zone}`).toBe(period);
        expect(periodOf(before, zone), `${period} ${zone}`).toBe(previousPeriod(period));
        expect(periodBounds(nextPeriod(period), zone).start).toBe(end);
      }
    }
  });

  it('refuses a malformed period or an unknown zone', () => {
    expect(() => periodBounds('2026-13', 'UTC')).toThrow(RangeError);
    expect(() => periodBounds('2026-3', 'UTC')).toThrow(/not a period/);
    expect(() => periodBounds('2026-03', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('instantMs', () => {
  it('reads ISO UTC instants and refuses the rest', () => {
    expect(instantMs('2026-03-31T16:00:00Z')).toBe(Date.UTC(2026, 2, 31, 16));
    expect(instantMs('2026-03-31T16:00:00.250Z')).toBe(Date.UTC(2026, 2, 31, 16, 0, 0, 250));
    expect(() => instantMs('2026-03-31 16:00:00')).toThrow('not an ISO UTC instant: "2026-03-31 16:00:00"');
  });
});
