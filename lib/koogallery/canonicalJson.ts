/**
 * Canonical request payloads for the V2 signature (spec §7.2 steps 1–3, §7.2.4).
 * Huawei's demo parses the body into a TreeMap: nulls dropped, top-level keys sorted, compact JSON.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** (a) Top-level keys sorted, nulls dropped, nested values in received order. The documented form. */
export function canonicalPayload(body: JsonObject): string {
  const sorted: JsonObject = {};
  for (const key of Object.keys(body).sort()) {
    const value = body[key];
    if (value !== null && value !== undefined) sorted[key] = value;
  }
  return JSON.stringify(sorted);
}

/** Keys sorted at every level, nulls dropped, arrays in order. */
export function sortDeep(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== null && v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}

/** True when some top-level value is not a string: the only case where the candidates differ. */
export function hasNonStringValues(body: JsonObject): boolean {
  return Object.values(body).some((v) => v !== null && typeof v !== 'string');
}

export type CanonicalForm = 'top-level-sorted' | 'deep-sorted' | 'stringified-scalars' | 'raw-body';

/**
 * Every candidate payload for a body (spec §7.2.4), documented form first.
 * All are HMACs of the content we received, so accepting any of them does not weaken the check.
 */
export function canonicalCandidates(body: JsonObject, rawBody: string): Array<{ form: CanonicalForm; payload: string }> {
  const candidates: Array<{ form: CanonicalForm; payload: string }> = [{ form: 'top-level-sorted', payload: canonicalPayload(body) }];
  if (!hasNonStringValues(body)) return candidates;

  candidates.push({ form: 'deep-sorted', payload: JSON.stringify(sortDeep(body)) });
  const stringified: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue;
    stringified[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  candidates.push({ form: 'stringified-scalars', payload: canonicalPayload(stringified) });
  candidates.push({ form: 'raw-body', payload: rawBody });
  return candidates;
}

/** The deepest nesting a body may have: the documented bodies are 2 levels deep (changeInstanceCheck.productInfo). */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests objects/arrays deeper than `max`, by one scan of the text (brackets inside strings do not
 * count), so a hostile body is refused before any recursive code (parsing, canonical sorting) can overflow the stack.
 */
export function nestedDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
