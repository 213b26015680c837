/** State normalised: what stays is what the flow decided, not the ids or times of the run. */
import type { Item } from '../tables.ts';
import { HOUR_MS } from './faultContext.ts';

const TIME_KEYS = new Set(['at', 'createdAt', 'updatedAt', 'occurredAt', 'fetchedAt']);
/** What the outbox and safety sweeps note on an outbox entry: theirs, not the flow's (on a shared table they run too). */
const SWEEP_KEYS = new Set(['resentAt', 'requeues', 'requeuedAt', 'reportedAt']);
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z/g;
const RECENT_MS = 3 * 24 * HOUR_MS;

/**
 * The run's ids as `<run>`, the times it ran at as `<time>`, TTLs as `<ttl>`, without the sweeps' notes: what stays
 * is what the flow decided.
 */
export function normalise(value: unknown, tag: string, key = ''): unknown {
  if (typeof value === 'string') {
    if (TIME_KEYS.has(key)) return '<time>';
    if (key === 'message' && value.startsWith('{')) {
      try {
        return normalise(JSON.parse(value) as unknown, tag);
      } catch {
        // not JSON: kept as text
      }
    }
    const now = Date.now();
    return value
      .split(tag)
      .join('<run>')
      .replace(ISO, (t) => (Math.abs(Date.parse(t) - now) < RECENT_MS ? '<time>' : t));
  }
  if (key === 'expiresAt' && typeof value === 'number') return '<ttl>';
  if (Array.isArray(value)) return value.map((v) => normalise(v, tag));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Item)
        .filter(([k]) => !SWEEP_KEYS.has(k))
        .map(([k, v]) => [k, normalise(v, tag, k)]),
    );
  }
  return value;
}

export const byKey = (a: Item, b: Item) => `${String(a.pk)}\n${String(a.sk)}`.localeCompare(`${String(b.pk)}\n${String(b.sk)}`);
