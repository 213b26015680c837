import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCursor, encodeCursor, InvalidCursorError, MAX_CURSOR_LENGTH, startKey } from '#lib/store/cursor.ts';

const shape = z.strictObject({
  list: z.literal('things'),
  key: z.strictObject({ pk: z.string().startsWith('THING#'), sk: z.literal('#THING') }),
});
const raw = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('page cursors', () => {
  it('round-trip a string key and extra fields as opaque base64url', () => {
    const cursor = encodeCursor({ pk: { S: 'THING#a b/ü' }, sk: { S: '#THING' } }, { list: 'things' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = decodeCursor(cursor, shape);
    expect(decoded).toEqual({ list: 'things', key: { pk: 'THING#a b/ü', sk: '#THING' } });
    expect(startKey(decoded.key)).toEqual({ pk: { S: 'THING#a b/ü' }, sk: { S: '#THING' } });
  });

  it('encode without a key as the extra fields alone', () => {
    expect(
      decodeCursor(
        encodeCursor(undefined, { list: 'days', day: '2025-01-01' }),
        z.strictObject({ list: z.literal('days'), day: z.string() }),
      ),
    ).toEqual({
      list: 'days',
      day: '2025-01-01',
    });
  });

  it('refuse to encode a key attribute that is not a string', () => {
    expect(() => encodeCursor({ pk: { N: '1' } })).toThrow(TypeError);
  });

  const refused: Array<[string, string]> = [
    ['an empty string', ''],
    ['garbage', 'not a cursor!'],
    ['standard base64 padding', `${raw({ list: 'things' })}==`],
    ['base64 that is not JSON', Buffer.from('{"list":', 'utf8').toString('base64url')],
    ['JSON that is not an object', raw(['THING#a', '#THING'])],
    ['another listing', raw({ list: 'others', key: { pk: 'THING#a', sk: '#THING' } })],
    ['a key of another item kind', raw({ list: 'things', key: { pk: 'LICENSE#a', sk: '#LICENSE' } })],
    ['a non-string key value', raw({ list: 'things', key: { pk: { S: 'THING#a' }, sk: '#THING' } })],
    ['an extra key attribute', raw({ list: 'things', key: { pk: 'THING#a', sk: '#THING', other: 'x' } })],
    ['an extra field', raw({ list: 'things', key: { pk: 'THING#a', sk: '#THING' }, admin: true })],
    ['a cursor over the length bound', raw({ list: 'things', key: { pk: `THING#${'a'.repeat(MAX_CURSOR_LENGTH)}`, sk: '#THING' } })],
  ];
  for (const [name, cursor] of refused) {
    it(`refuse ${name} with InvalidCursorError`, () => {
      expect(() => decodeCursor(cursor, shape)).toThrow(InvalidCursorError);
    });
  }

  it('refuse to issue a cursor over the length bound', () => {
    expect(() => encodeCursor({ pk: { S: 'x'.repeat(MAX_CURSOR_LENGTH) } })).toThrow(RangeError);
  });
});
