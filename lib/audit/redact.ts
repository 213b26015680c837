/**
 * What the message log keeps of a body: its JSON with every secret and every personal field replaced by a marker,
 * long strings cut, and the whole cut at MAX_KEPT_CHARS of JSON text. Fields are judged by name alone
 * (case-insensitive, `-` and `_` ignored), wherever they are nested; docs/security.md lists the names.
 * Pure: takes a value, returns a value; it never decrypts anything.
 */

export const SECRET_MARKER = '[redacted: secret]';
export const PERSONAL_MARKER = '[redacted: personal]';
export const TOO_DEEP_MARKER = '[cut: nested too deep]';

/** The most JSON text kept of one body (request or answer). */
export const MAX_KEPT_CHARS = 8_192;
/** The most characters kept of one string value. */
export const MAX_STRING_CHARS = 1_024;
/** The most characters kept of one field name. */
const MAX_NAME_CHARS = 128;
/** Levels of nesting kept; deeper values are replaced by TOO_DEEP_MARKER. */
export const MAX_KEPT_DEPTH = 16;

/**
 * Field names whose values are secrets (normalised: lower case, without `-` and `_`). Besides these, every name
 * that ends in `secret`, `token`, `password` or `signature` is a secret too.
 */
export const SECRET_FIELDS: readonly string[] = [
  'signature',
  'sign',
  'bodysign',
  'xsign',
  'authtoken',
  'token',
  'password',
  'passwd',
  'pwd',
  'secret',
  'clientsecret',
  'appsecret',
  'accesskey',
  'secretkey',
  'privatekey',
  'apikey',
  'key',
  'ak',
  'sk',
  'authorization',
  'cookie',
  'credential',
  'credentials',
];
const SECRET_SUFFIXES = ['secret', 'token', 'password', 'signature'];

/**
 * Field names whose values are the buyer's personal data (normalised as above), plain or encrypted: the
 * marketplace's `customerName`, `userName`, `mobilePhone` and `email` (spec §6, §8.1 `buyerInfo`), and their
 * usual variants.
 */
export const PERSONAL_FIELDS: readonly string[] = [
  'customername',
  'username',
  'realname',
  'nickname',
  'mobilephone',
  'mobile',
  'phone',
  'phonenumber',
  'telephone',
  'email',
  'emailaddress',
  'mail',
];

/** A kept body: its redacted JSON text, cut at MAX_KEPT_CHARS and then marked `truncated`. */
export interface KeptBody {
  json: string;
  truncated?: true;
}

const normalise = (name: string) => name.toLowerCase().replace(/[-_]/g, '');

/** What a field's value becomes because of its name: a marker, or undefined to keep (and redact inside) the value. */
export function markerFor(name: string): string | undefined {
  const key = normalise(name);
  if (SECRET_FIELDS.includes(key) || SECRET_SUFFIXES.some((suffix) => key.endsWith(suffix))) return SECRET_MARKER;
  if (PERSONAL_FIELDS.includes(key)) return PERSONAL_MARKER;
  return undefined;
}

/** The first `max` characters of `text` (never half a surrogate pair), with how many were cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…[+${text.length - end} chars]`;
}

/**
 * `value` (parsed JSON, or a plain value of the same shapes) with every secret and personal field replaced by its
 * marker, strings cut at MAX_STRING_CHARS and nesting cut at MAX_KEPT_DEPTH. Anything that is not JSON (a function,
 * undefined, a bigint) is dropped from objects and becomes null in arrays, as JSON.stringify would.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cut(value, MAX_STRING_CHARS);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value !== 'object') return undefined;
  if (depth >= MAX_KEPT_DEPTH) return TOO_DEEP_MARKER;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1) ?? null);
  const kept: Record<string, unknown> = {};
  // A `{name, value}` pair (the marketplace's extendParams) is judged by the name it carries.
  const pair = value as { name?: unknown };
  const pairName = Object.hasOwn(value, 'value') && typeof pair.name === 'string' ? pair.name : undefined;
  for (const [name, item] of Object.entries(value)) {
    const marker = markerFor(name) ?? (name === 'value' && pairName !== undefined ? markerFor(pairName) : undefined);
    const redacted = marker ?? redact(item, depth + 1);
    // Defined, not assigned: a member named `__proto__` stays a member.
    if (redacted !== undefined)
      Object.defineProperty(kept, cut(name, MAX_NAME_CHARS), { value: redacted, enumerable: true, writable: true, configurable: true });
  }
  return kept;
}

/** `value` redacted and serialised, cut at MAX_KEPT_CHARS of JSON text (then marked `truncated`). */
export function keepBody(value: unknown): KeptBody {
  const json = JSON.stringify(redact(value) ?? null);
  if (json.length <= MAX_KEPT_CHARS) return { json };
  let end = MAX_KEPT_CHARS;
  const last = json.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return { json: json.slice(0, end), truncated: true };
}

/** What stands for a body (or a part of one) that is not kept, e.g. one that is not JSON: a note, never its content. */
export function notKept(note: string): string {
  return `[not kept: ${note}]`;
}
