/**
 * What the message log keeps of a Kit call's request (lib/audit/redact.ts): its headers and body with the
 * `x-sign` and the `clientSecret` redacted as secrets, and every field of a user that describes the person (name,
 * login name, contact, position, employee code, workplace, entry date, extension data) as personal. Only a user's
 * department, role, status and employee type stay readable. `userList` is redacted whether it came as an array or as
 * a JSON string.
 */
import { keepBody, notKept, PERSONAL_MARKER, type KeptBody } from '#lib/audit/redact.ts';
import type { KitHeaders } from '#lib/koogallery/kitSignature.ts';

/** The user fields the message log may show; every other field of a user is personal. */
const USER_FIELDS_KEPT = new Set(['orgCode', 'role', 'enable', 'employeeType']);

function redactUser(user: unknown): unknown {
  if (typeof user !== 'object' || user === null || Array.isArray(user)) return user;
  return Object.fromEntries(Object.entries(user).map(([key, value]) => [key, USER_FIELDS_KEPT.has(key) ? value : PERSONAL_MARKER]));
}

/** A userList as sent (array, JSON string, or anything else) with each user's personal fields marked. */
function redactUserList(list: unknown): unknown {
  let value = list;
  if (typeof list === 'string') {
    try {
      value = JSON.parse(list) as unknown;
    } catch {
      return notKept('userList is a string that is not JSON');
    }
  }
  return Array.isArray(value) ? value.map(redactUser) : value;
}

const headersKept = (headers: KitHeaders) => ({ 'x-timestamp': headers.timestamp, 'x-nonce': headers.nonce, 'x-sign': headers.sign });

/** A readable request body as kept. */
export function keptKitRequest(headers: KitHeaders, body: Record<string, unknown>): KeptBody {
  const kept = 'userList' in body ? { ...body, userList: redactUserList(body.userList) } : body;
  return keepBody({ headers: headersKept(headers), body: kept });
}

/** A request whose body could not be read: the headers, and why the body is not kept. */
export function unreadKitRequest(headers: KitHeaders, note: string): KeptBody {
  return keepBody({ headers: headersKept(headers), body: notKept(note) });
}
