import { createHmac, timingSafeEqual } from 'node:crypto';
import { NAME_CHARACTER, safeText } from '#lib/shared/safeText.ts';
import type { AccessKey } from './auth.ts';
import { ResultCode } from './resultCodes.ts';

// Legacy SaaS V1 request authentication (spec §6, §7.5): `GET <address>?activity=…&timeStamp=…&authToken=…`.

/** Query parameters as name/value pairs (in arrival order) or as a record. */
export type V1Params = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

/** How `+` in the raw query string was read: as a space (form encoding) or as itself. */
export type V1Reading = 'form' | 'literal';

export type V1ParsedQuery =
  | {
      ok: true;
      /** `+` read as a space (Java `URLEncoder` / form encoding). */
      form: Record<string, string>;
      /** `+` kept as `+` (a sender that did not encode it). */
      literal: Record<string, string>;
      /** True when the raw string holds a `+`, i.e. when the two readings may differ. */
      ambiguous: boolean;
    }
  | { ok: false; reason: string };

export type V1AuthVerdict =
  | {
      ok: true;
      keyId: string;
      /** The parameters of the reading that matched, without `authToken`. */
      params: Record<string, string>;
      authToken: string;
      reading: V1Reading;
    }
  | { ok: false; code: typeof ResultCode.authFailed | typeof ResultCode.invalidParameter; reason: string };

export interface V1QueryOptions {
  /** Longest raw query string accepted, in characters (default {@link V1_MAX_QUERY_LENGTH}). */
  maxLength?: number;
}

export const V1_MAX_QUERY_LENGTH = 8192;
export const V1_MAX_PARAMS = 64;

const TOKEN_PARAM = 'authToken';
const TIMESTAMP_PARAM = 'timeStamp';
/** A real token is 44 characters (base64 of 32 bytes); anything much longer is not one. */
const MAX_TOKEN_LENGTH = 128;
/** Parameter names quoted in refusal reasons are cut to this length. */
const MAX_QUOTED_NAME = 64;

function isEntryList(params: V1Params): params is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(params);
}

function entriesOf(params: V1Params): Array<readonly [string, string]> {
  return isEntryList(params) ? [...params] : Object.entries(params);
}

/** Orders strings by UTF-16 code units, as Java's `String.compareTo` does. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The V1 `authToken` (spec §7.5): every parameter except `authToken`, sorted by name, joined as
 * `k=v&k=v` with decoded values, HMAC-SHA256 keyed with `accessKey + timeStamp`, base64.
 * Throws if `timeStamp` is absent.
 */
export function v1AuthToken(accessKey: string, params: V1Params): string {
  const entries = entriesOf(params).filter(([name]) => name !== TOKEN_PARAM);
  const timeStamp = entries.find(([name]) => name === TIMESTAMP_PARAM)?.[1];
  if (timeStamp === undefined) throw new RangeError('timeStamp is required to compute an authToken');
  entries.sort((a, b) => compareCodeUnits(a[0], b[0]));
  const data = entries.map(([name, value]) => `${name}=${value}`).join('&');
  return createHmac('sha256', Buffer.from(accessKey + timeStamp, 'utf8'))
    .update(data, 'utf8')
    .digest('base64');
}

/** Formats epoch milliseconds as a V1 `timeStamp`: `yyyyMMddHHmmssSSS`, UTC. */
export function formatV1Timestamp(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    pad(d.getUTCMilliseconds(), 3)
  );
}

/** Parses a V1 `timeStamp` (`yyyyMMddHHmmssSSS`, UTC) to epoch milliseconds; undefined unless it is a real instant. */
export function parseV1Timestamp(raw: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})$/.exec(raw);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second, milli] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, milli);
  const ms = d.getTime();
  return formatV1Timestamp(ms) === raw ? ms : undefined;
}

/** Percent-decodes one query component as UTF-8; undefined for malformed `%` sequences or bytes. */
function decodeComponent(raw: string, plusIsSpace: boolean): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replaceAll('+', ' ') : raw);
  } catch {
    return undefined;
  }
}

/** A parameter name as a refusal quotes it: it comes from an unauthenticated request, so only safe characters. */
function quote(name: string): string {
  const safe = safeText(name, MAX_QUOTED_NAME, NAME_CHARACTER);
  return Array.from(name).length > MAX_QUOTED_NAME ? `${safe}…` : safe;
}

/**
 * Parses a raw V1 query string (with or without the leading `?`). Gateways disagree on whether `+`
 * means a space, so the parameters come back under both readings; in `authToken`, which is base64,
 * a space is always a `+` that was read as a space. Refuses malformed percent-encoding, repeated
 * or unnamed parameters, more than {@link V1_MAX_PARAMS} parameters and overlong strings.
 */
export function parseV1Query(rawQueryString: string, options: V1QueryOptions = {}): V1ParsedQuery {
  const maxLength = options.maxLength ?? V1_MAX_QUERY_LENGTH;
  const raw = rawQueryString.startsWith('?') ? rawQueryString.slice(1) : rawQueryString;
  if (raw.length > maxLength) return { ok: false, reason: `query string is longer than ${maxLength} characters` };
  const segments = raw.split('&').filter((segment) => segment !== '');
  if (segments.length > V1_MAX_PARAMS) return { ok: false, reason: `more than ${V1_MAX_PARAMS} parameters` };

  const readings: Record<V1Reading, Array<[string, string]>> = { form: [], literal: [] };
  for (const segment of segments) {
    const eq = segment.indexOf('=');
    const rawName = eq === -1 ? segment : segment.slice(0, eq);
    const rawValue = eq === -1 ? '' : segment.slice(eq + 1);
    for (const reading of ['form', 'literal'] as const) {
      const name = decodeComponent(rawName, reading === 'form');
      if (name === undefined) return { ok: false, reason: `parameter ${quote(rawName)} is not correctly encoded` };
      if (name === '') return { ok: false, reason: 'a parameter has no name' };
      let value = decodeComponent(rawValue, reading === 'form');
      if (value === undefined) return { ok: false, reason: `parameter ${quote(name)} is not correctly encoded` };
      if (name === TOKEN_PARAM) value = value.replaceAll(' ', '+');
      readings[reading].push([name, value]);
    }
  }

  for (const reading of ['form', 'literal'] as const) {
    const seen = new Set<string>();
    for (const [name] of readings[reading]) {
      if (seen.has(name)) return { ok: false, reason: `parameter ${quote(name)} is repeated` };
      seen.add(name);
    }
  }
  return {
    ok: true,
    form: Object.fromEntries(readings.form),
    literal: Object.fromEntries(readings.literal),
    ambiguous: raw.includes('+'),
  };
}

/** Constant-time comparison of two base64 tokens (exact, case-sensitive). */
function tokensEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a V1 request (spec §7.5) from its raw query string: `timeStamp` within `windowMs` of `nowMs`,
 * then the `authToken` under each key (current first, then the previous one during rotation) and each
 * reading of `+` (form first, then literal). Codes mirror V2: 000002 for a malformed request or a stale
 * timestamp, 000001 for a missing or wrong token.
 */
export function verifyV1Request(
  keys: readonly AccessKey[],
  rawQueryString: string,
  nowMs: number,
  windowMs: number,
  options: V1QueryOptions = {},
): V1AuthVerdict {
  const parsed = parseV1Query(rawQueryString, options);
  if (!parsed.ok) return { ok: false, code: ResultCode.invalidParameter, reason: parsed.reason };
  const timeStamp = parsed.literal[TIMESTAMP_PARAM];
  if (!timeStamp) return { ok: false, code: ResultCode.invalidParameter, reason: 'timeStamp is required' };
  const authToken = parsed.literal[TOKEN_PARAM];
  if (!authToken) return { ok: false, code: ResultCode.authFailed, reason: 'authToken is missing' };
  if (authToken.length > MAX_TOKEN_LENGTH) {
    return { ok: false, code: ResultCode.authFailed, reason: 'authToken is malformed' };
  }
  const ts = parseV1Timestamp(timeStamp);
  if (ts === undefined) return { ok: false, code: ResultCode.invalidParameter, reason: 'timeStamp is malformed' };
  if (Math.abs(nowMs - ts) > windowMs) {
    return { ok: false, code: ResultCode.invalidParameter, reason: 'timeStamp is outside the allowed window' };
  }

  const readings: Array<[V1Reading, Record<string, string>]> = parsed.ambiguous
    ? [
        ['form', parsed.form],
        ['literal', parsed.literal],
      ]
    : [['form', parsed.form]];
  for (const key of keys) {
    for (const [reading, params] of readings) {
      if (tokensEqual(v1AuthToken(key.secret, params), authToken)) {
        const { [TOKEN_PARAM]: _token, ...rest } = params;
        return { ok: true, keyId: key.id, params: rest, authToken, reading };
      }
    }
  }
  return { ok: false, code: ResultCode.authFailed, reason: 'authToken does not match' };
}

/** Bytes Java's `URLEncoder` leaves as they are: `[A-Za-z0-9]` and `.-*_`. */
function isUrlEncoderSafe(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2e ||
    byte === 0x2d ||
    byte === 0x2a ||
    byte === 0x5f
  );
}

/** Encodes a string as Java's `URLEncoder.encode(s, "UTF-8")` does: space as `+`, other unsafe bytes as `%XX`. */
export function javaUrlEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (isUrlEncoderSafe(byte)) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Signs V1 parameters as the marketplace does: adds `timeStamp` (from `nowMs`, default now) unless
 * present, then `authToken`. Returns the query string, encoded as Java's `URLEncoder` would, and the
 * parameters including both.
 */
export function signV1Request(
  accessKey: string,
  params: Readonly<Record<string, string>>,
  nowMs: number = Date.now(),
): { query: string; params: Record<string, string> } {
  const { [TOKEN_PARAM]: _ignored, ...rest } = params;
  const unsigned: Record<string, string> = { ...rest };
  if (unsigned[TIMESTAMP_PARAM] === undefined) unsigned[TIMESTAMP_PARAM] = formatV1Timestamp(nowMs);
  const signed: Record<string, string> = { ...unsigned, [TOKEN_PARAM]: v1AuthToken(accessKey, unsigned) };
  const query = Object.entries(signed)
    .map(([name, value]) => `${javaUrlEncode(name)}=${javaUrlEncode(value)}`)
    .join('&');
  return { query, params: signed };
}
