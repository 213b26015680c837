import { JsonNumber, type JsonMap, type JsonNode } from './jsonTree.ts';

/**
 * Canonical request payloads for the V2 signature (spec §7.2 steps 1–3, §7.2.4).
 * Huawei's demo parses the body into a TreeMap: nulls dropped, top-level keys sorted, compact JSON.
 * The verifier renders every candidate from the tree `parseJsonTree` read (lib/koogallery/jsonTree.ts), which keeps
 * every key and each number as written, so no candidate drops or reinterprets anything that was received.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * (a) for a body we send: top-level keys sorted, nulls dropped, nested values in their order. The documented form.
 * Written member by member, so a `__proto__` key is signed like any other.
 */
export function canonicalPayload(body: JsonObject): string {
  const members: string[] = [];
  for (const key of Object.keys(body).sort()) {
    const value = body[key];
    if (value !== null && value !== undefined) members.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  return `{${members.join(',')}}`;
}

/** Keys sorted at every level, nulls dropped, arrays in order. Members are defined, never assigned (`__proto__`). */
export function sortDeep(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const entries: Array<[string, Json]> = [];
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== null && v !== undefined) entries.push([key, sortDeep(v)]);
    }
    return Object.fromEntries(entries) as JsonObject;
  }
  return value;
}

/** Where Jackson's string escaping may differ from `JSON.stringify`'s: control characters and surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const MAY_DIFFER_FROM_JACKSON = /[\u0000-\u001f\ud800-\udfff]/;
const JACKSON_SHORT_ESCAPES = new Map([
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
]);

/**
 * A JSON string as Jackson writes it by default: `\"`, `\\`, `\b \t \n \f \r`, every other character below
 * U+0020 as `\u00XX` in upper-case hex; `/`, U+2028/2029, non-ASCII and surrogates written as they are.
 * `JSON.stringify` differs only in writing lower-case hex and escaping lone surrogates.
 */
export function jacksonString(text: string): string {
  if (!MAY_DIFFER_FROM_JACKSON.test(text)) return JSON.stringify(text);
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += JACKSON_SHORT_ESCAPES.get(c) ?? `\\u00${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += text[i];
  }
  return `${out}"`;
}

/** How to write a tree: how strings are quoted, and whether nested objects are key-sorted and null-free. */
interface Style {
  quote: (text: string) => string;
  sorted: boolean;
}

const RECEIVED_ORDER: Style = { quote: (text) => JSON.stringify(text), sorted: false };
const SORTED: Style = { quote: (text) => JSON.stringify(text), sorted: true };
const JACKSON: Style = { quote: jacksonString, sorted: false };

/** Compact JSON of a tree; numbers exactly as received. */
function write(node: JsonNode, style: Style): string {
  if (node === null) return 'null';
  if (typeof node === 'string') return style.quote(node);
  if (typeof node === 'boolean') return node ? 'true' : 'false';
  if (node instanceof JsonNumber) return node.text;
  if (Array.isArray(node)) return `[${node.map((item) => write(item, style)).join(',')}]`;
  return writeMembers(node, style.sorted, style.quote, (value) => write(value, style));
}

/** An object's members, key-sorted (Java TreeMap order: UTF-16 code units, as `sort()`) with nulls dropped, or as received. */
function writeMembers(members: JsonMap, sorted: boolean, quote: (text: string) => string, writeValue: (value: JsonNode) => string): string {
  const keys = sorted ? [...members.keys()].sort() : [...members.keys()];
  const parts: string[] = [];
  for (const key of keys) {
    const value = members.get(key) ?? null;
    if (value === null && sorted) continue;
    parts.push(`${quote(key)}:${writeValue(value)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The Jackson-exact form: what Huawei's Java demo signs. It reads the body into a `TreeMap<String, String>`, so
 * every scalar becomes the text it was written as (`1.0` → `"1.0"`, `true` → `"true"`), then writes it back with
 * Jackson's escaping. Nested objects and arrays (which the demo cannot read) are written as received.
 */
export function jacksonPayload(body: JsonMap): string {
  return writeMembers(body, true, jacksonString, (value) => {
    if (value instanceof JsonNumber) return jacksonString(value.text);
    if (typeof value === 'boolean') return jacksonString(String(value));
    return write(value, JACKSON);
  });
}

/** True when some top-level value is neither a string nor null: the only case where the §7.2.4 forms differ. */
export function hasNonStringValues(body: JsonMap): boolean {
  for (const value of body.values()) if (value !== null && typeof value !== 'string') return true;
  return false;
}

/** The documented form of a received body: top-level keys sorted, top-level nulls dropped, nested values as received. */
export function topLevelSorted(body: JsonMap): string {
  return writeMembers(body, true, RECEIVED_ORDER.quote, (value) => write(value, RECEIVED_ORDER));
}

/** A received body with keys sorted and nulls dropped at every level, arrays in order. */
export function deepSorted(body: JsonMap): string {
  return write(body, SORTED);
}

export type CanonicalForm = 'top-level-sorted' | 'jackson' | 'deep-sorted' | 'stringified-scalars' | 'raw-body';

/**
 * Every candidate payload for a received body, documented form first, each one once (spec §7.2.2–7.2.4).
 * All are HMACs of the content received, rendered without dropping or reinterpreting any of it, so accepting any
 * of them does not weaken the check.
 */
export function canonicalCandidates(body: JsonMap, rawBody: string): Array<{ form: CanonicalForm; payload: string }> {
  const candidates: Array<{ form: CanonicalForm; payload: string }> = [];
  const add = (form: CanonicalForm, payload: string) => {
    if (!candidates.some((c) => c.payload === payload)) candidates.push({ form, payload });
  };
  const documented = topLevelSorted(body);
  add('top-level-sorted', documented);
  const nonStrings = hasNonStringValues(body);
  // With only strings at the top level, the Jackson form differs only where JSON.stringify wrote a \u escape.
  if (nonStrings || documented.includes('\\u')) add('jackson', jacksonPayload(body));
  if (!nonStrings) return candidates;

  add('deep-sorted', deepSorted(body));
  add(
    'stringified-scalars',
    writeMembers(body, true, RECEIVED_ORDER.quote, (value) =>
      JSON.stringify(typeof value === 'string' ? value : write(value, RECEIVED_ORDER)),
    ),
  );
  add('raw-body', rawBody);
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
