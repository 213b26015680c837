import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { Refusal } from '#lib/shared/refusal.ts';

/**
 * Opaque page cursors of the seller API's listings: a small JSON object, base64url-encoded, holding the key
 * the next page starts after (string attributes only) and whatever else the listing needs to resume.
 *
 * A cursor comes back from the client, so it is untrusted input: it is decoded against the exact shape the
 * listing expects, and anything else is an `InvalidCursorError`, never a key handed to DynamoDB.
 */

/** Longest cursor accepted, encoded. Real cursors are a few hundred characters. */
export const MAX_CURSOR_LENGTH = 2048;

/** The cursor is not one this listing issued (garbage, tampered with, too long, or from another listing): 400. */
export class InvalidCursorError extends Refusal {
  constructor(message = 'invalid cursor') {
    super('invalid_request', message);
    this.name = 'InvalidCursorError';
  }
}

/** A DynamoDB key as carried in a cursor: attribute name to string value. */
export type CursorKey = Record<string, string>;

/** Extra fields a listing keeps beside the key (plain JSON values). */
export type CursorExtra = Record<string, string | number | boolean>;

/** The key of a cursor as DynamoDB's ExclusiveStartKey. */
export const startKey = (key: CursorKey): Record<string, AttributeValue> =>
  Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }]));

/**
 * Encodes the key a page ended at, with the listing's extra fields, as `{ ...extra, key }`; without a key
 * (a listing that resumes at the start of something, such as the next day) the payload is just `extra`.
 * Only string key attributes are supported: every key of both tables is a string.
 */
export function encodeCursor(lastKey: Record<string, AttributeValue> | undefined, extra: CursorExtra = {}): string {
  const payload: Record<string, unknown> = { ...extra };
  if (lastKey) {
    const key: CursorKey = {};
    for (const [name, value] of Object.entries(lastKey)) {
      if (value.S === undefined) throw new TypeError(`cursor key attribute ${name} is not a string`);
      key[name] = value.S;
    }
    payload.key = key;
  }
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  if (encoded.length > MAX_CURSOR_LENGTH) throw new RangeError('cursor too long');
  return encoded;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes a cursor and validates it against the listing's schema; anything else is an InvalidCursorError. */
export function decodeCursor<T extends z.ZodType>(cursor: string, expectedShape: T): z.output<T> {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    throw new InvalidCursorError();
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  let parsed;
  try {
    parsed = expectedShape.safeParse(json);
  } catch {
    // A listing's own checks may throw on text no key holds (a lone surrogate): not a cursor it issued either.
    throw new InvalidCursorError();
  }
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}

/** A key attribute in a cursor schema: a non-empty string of bounded length. */
export const keyString = () => z.string().min(1).max(1024);
