import { createHash } from 'node:crypto';

/**
 * Usage windows: the hour (or day, for products billed daily) a usage report belongs to, and the names the
 * marketplace gives them (spec §8.2: UTC times as `yyyyMMdd'T'HHmmss'Z'`).
 */

export type Granularity = 'hourly' | 'daily';

export const WINDOW_MS: Record<Granularity, number> = { hourly: 3_600_000, daily: 86_400_000 };

/** The marketplace refuses records whose begin time is older than this (MKT.9004). */
export const MAX_AGE_MS = 21 * 86_400_000;

/** An ISO 8601 UTC instant with an explicit `Z`, seconds optional fraction: 2026-11-20T08:00:00Z / …00.000Z. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * Epoch ms of an ISO UTC instant, or undefined if it is not one (offsets other than Z are refused: no guessing).
 * A date or time that does not exist (February 30th, 24:00) is refused too, not rolled over to the next day.
 */
export function parseUtc(value: string): number | undefined {
  if (!ISO_UTC.test(value)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== value.slice(0, 19)) return undefined;
  return ms;
}

/** `yyyyMMdd'T'HHmmss'Z'`, the usage API's time format. */
export function usageApiTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The start of the window containing `ms`. */
export const windowStart = (ms: number, granularity: Granularity): number => ms - (ms % WINDOW_MS[granularity]);

/**
 * The idempotency key of a pushed record, derived only from what identifies it, so a push repeated after a crash
 * carries the same number: 32 hex characters of SHA-256 of the JSON array [instanceId, begin, end, revision]
 * (JSON, so no two different tuples give the same input, whatever characters the strings hold).
 */
export function meteringSn(instanceId: string, beginIso: string, endIso: string, revision: number): string {
  return createHash('sha256')
    .update(JSON.stringify([instanceId, beginIso, endIso, revision]))
    .digest('hex')
    .slice(0, 32);
}
